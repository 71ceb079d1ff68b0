"""Which shipped model pair serves a data set, and how a set is mapped into its input space.

Pairs (GFNCP and its NCP twin, same architecture, data and budget):
- "mog2d":  2-D sets;
- "mog16d": every other dimension d >= 3: zero-padded to 16 when d < 16, projected onto
            its first 16 principal axes when d > 16 (per set, so order-invariant);
- "digits": scikit-learn digits tasks (64-D pixel vectors in [0, 1]).
"""
from __future__ import annotations

import numpy as np

PAIRS = {"mog2d": 2, "mog16d": 16, "digits": 64}


def pair_names(pair: str) -> tuple[str, str]:
    return f"gfncp-{pair}", f"ncp-{pair}"


def default_pair(dim: int, source: str = "generated") -> str:
    """The pair that fits a set: digits tasks -> digits; 2-D -> mog2d; otherwise mog16d."""
    if source == "digits" and dim == 64:
        return "digits"
    return "mog2d" if dim == 2 else "mog16d"


def fitting_pairs(dim: int, source: str = "generated") -> list[str]:
    """Every pair that can serve a set of this dimension (the default first)."""
    pairs = [default_pair(dim, source)]
    if dim >= 3 and "mog16d" not in pairs:
        pairs.append("mog16d")
    if dim == 64 and "digits" not in pairs:
        pairs.append("digits")
    return pairs


def fit_dimension(X: np.ndarray, dim: int) -> np.ndarray:
    """Map a set (N, d) to (N, dim): identity, zero-padding, or per-set PCA projection.

    PCA directions are fixed in sign (largest-magnitude loading positive) so that the result
    does not depend on the order of the points.
    """
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    if d == dim:
        return X
    if d < dim:
        return np.hstack([X, np.zeros((len(X), dim - d))])
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:dim]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    out = centred @ axes.T
    if out.shape[1] < dim:               # fewer points than dimensions
        out = np.hstack([out, np.zeros((len(X), dim - out.shape[1]))])
    return out
