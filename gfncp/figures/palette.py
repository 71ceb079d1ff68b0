"""The one qualitative palette every figure uses for clusters.

Cluster k (canonical numbering) always gets `cluster_color(k)`: Plotly's D3 colours, then
its Alphabet colours, then round again. Unassigned points are light grey (`UNASSIGNED`);
the "open a new cluster" option of the sequential policy is near-black (`NEW_CLUSTER`).
"""
from __future__ import annotations

from plotly.colors import qualitative

UNASSIGNED = "#c7c7c7"
UNASSIGNED_COLOR = UNASSIGNED          # older name, kept for callers that use it
NEW_CLUSTER = "#303030"
# Alphabet's two greys (#E2E2E2, #565656) would read as "unassigned" / "new": left out.
_TOO_GREY = {"#E2E2E2", "#565656"}
CLUSTER_COLORS: list[str] = list(qualitative.D3) + [
    c for c in qualitative.Alphabet if c not in qualitative.D3 and c not in _TOO_GREY]


def cluster_color(k: int) -> str:
    """Colour of cluster k (k >= 0); negative k (unassigned) is grey."""
    k = int(k)
    if k < 0:
        return UNASSIGNED
    return CLUSTER_COLORS[k % len(CLUSTER_COLORS)]


def cluster_colors(labels) -> list[str]:
    """Colour of every point of a label vector (-1 = unassigned)."""
    return [cluster_color(k) for k in labels]
