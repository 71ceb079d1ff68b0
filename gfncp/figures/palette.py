"""The one qualitative palette every figure uses for clusters.

Cluster k (canonical numbering) always gets `cluster_color(k)`: Plotly's D3 colours, then
its Alphabet colours, then round again. Unassigned points are light grey.
"""
from __future__ import annotations

from plotly.colors import qualitative

CLUSTER_COLORS: list[str] = list(qualitative.D3) + [c for c in qualitative.Alphabet if c not in qualitative.D3]
UNASSIGNED_COLOR = "#c7c7c7"


def cluster_color(k: int) -> str:
    """Colour of cluster k (k >= 0); negative k (unassigned) is grey."""
    k = int(k)
    if k < 0:
        return UNASSIGNED_COLOR
    return CLUSTER_COLORS[k % len(CLUSTER_COLORS)]


def cluster_colors(labels) -> list[str]:
    """Colour of every point of a label vector (-1 = unassigned)."""
    return [cluster_color(k) for k in labels]
