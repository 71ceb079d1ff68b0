"""Scaling an uploaded point set into the units of the shipped mixture-of-Gaussians models.

The mog models were trained on CRP mixtures of isotropic Gaussians whose points lie at
within-cluster standard deviation 1 around their centres (model cards: "units: within-cluster
std = 1.0"). A user's file comes in its own units, so the app divides it by a scale s:
`X / estimate_scale(X)` has within-cluster standard deviation about 1.

How the estimate works (`raw_scale`):
1. Minimum spanning tree of the points (Euclidean). Edges inside a cluster are short
   (nearest-neighbour distances); the edges that join two clusters are long.
2. Cut every edge longer than CUT times the median edge (CUT = 3; 12 in one dimension,
   where gaps between consecutive points are far more spread out). The connected pieces
   are provisional clusters.
3. In every piece of at least 3 points, a robust per-coordinate variance:
   median_i ||x_i - median(piece)||^2 / median(chi^2_d). Average these, weighted by piece
   size, and take the square root.
Trimming the far tail of every cluster (step 2) biases step 3 a little low in very low
dimensions, so the raw value is divided by a calibration constant c(d): the median raw
value over seeded `make_mog` sets from the textbook prior (prior.TEXTBOOK, sigma = 1; N in
50, 100, 200, 500, seeds 0-9; `calibration_constant(d)` recomputes it). The table
CALIBRATION holds those values; other dimensions interpolate linearly in log d, beyond 64 the value at 64.

The estimate is scale-equivariant (estimate_scale(a X) = a estimate_scale(X)) and does not
depend on the order of the rows (sets above MAX_POINTS are subsampled with a fixed seed
after sorting, so the subsample does not depend on the order either). Measured on fresh
seeds: within 30 % of sigma for more than 90 % of sets with d >= 2 and N >= 50, typically
within 5 %. It fails when clusters overlap so much that the data cannot tell them apart
(it then measures the spread of the merged group), and it is rough in one dimension.
"""
from __future__ import annotations

import numpy as np

from .prior import TEXTBOOK

# c(d): median raw_scale on make_mog sets with sigma = 1 (see module docstring).
CALIBRATION: dict[int, float] = {
    1: 1.0405, 2: 0.9415, 3: 0.9908, 4: 0.9941, 6: 0.9929, 8: 0.9964,
    12: 0.9937, 16: 0.9937, 24: 0.9956, 32: 0.9954, 48: 0.9945, 64: 0.9964,
}
CUT = 3.0
CUT_1D = 12.0
MAX_POINTS = 1500          # larger sets are subsampled (seeded) for speed
CALIBRATION_SIZES = (50, 100, 200, 500)
CALIBRATION_SEEDS = range(10)


def _chi2_median(d: int) -> float:
    from scipy.stats import chi2
    return float(chi2.median(d))


def _pieces(X: np.ndarray, cut: float) -> np.ndarray:
    """Labels of the connected pieces of the minimum spanning tree after the long edges go."""
    from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    tree = minimum_spanning_tree(squareform(pdist(X))).toarray()
    edges = tree[tree > 0]
    if len(edges) == 0:                  # all points identical
        return np.zeros(len(X), dtype=np.int64)
    tree[tree > cut * np.median(edges)] = 0
    return connected_components(tree, directed=False)[1]


def raw_scale(X: np.ndarray) -> float:
    """Uncalibrated within-cluster standard deviation (steps 1-3 of the module docstring);
    nan when no piece has 3 points or the spread is zero."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if n < 3:
        return float("nan")
    labels = _pieces(X, CUT_1D if d == 1 else CUT)
    chi2_med = _chi2_median(d)
    variances, weights = [], []
    for c in np.unique(labels):
        members = X[labels == c]
        if len(members) < 3:
            continue
        r2 = np.sum((members - np.median(members, axis=0)) ** 2, axis=1)
        variances.append(np.median(r2) / chi2_med)
        weights.append(len(members))
    if not variances:
        return float("nan")
    value = float(np.sqrt(np.average(variances, weights=weights)))
    return value if np.isfinite(value) and value > 0 else float("nan")


def calibration_value(dim: int) -> float:
    """c(dim) from the CALIBRATION table, linear in log d between entries."""
    dims = np.array(sorted(CALIBRATION))
    vals = np.array([CALIBRATION[k] for k in dims])
    if dim in CALIBRATION:
        return CALIBRATION[dim]
    return float(np.interp(np.log(max(dim, 1)), np.log(dims), vals))


def calibration_constant(dim: int) -> float:
    """Recompute c(dim): the median raw_scale over the seeded calibration sets (sigma = 1).
    Takes a second or two; the CALIBRATION table caches its results."""
    from .data import make_mog

    values = [raw_scale(make_mog(n, dim, **TEXTBOOK.as_dict(), seed=seed)[0])
              for n in CALIBRATION_SIZES for seed in CALIBRATION_SEEDS]
    return float(np.nanmedian(values))


def _subsample(X: np.ndarray, max_points: int) -> np.ndarray:
    if len(X) <= max_points:
        return X
    rows = X[np.lexsort(X.T[::-1])]      # sort first: the subsample ignores the row order
    keep = np.sort(np.random.default_rng(0).choice(len(rows), size=max_points, replace=False))
    return rows[keep]


def estimate_scale(X) -> float:
    """A positive s such that X / s has within-cluster standard deviation about 1 (the units
    of the shipped mixture-of-Gaussians models). Falls back to the overall standard
    deviation, then to 1.0, for sets too small or degenerate to tell."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0 or not np.all(np.isfinite(X)):
        raise ValueError("estimate_scale needs a finite 2-D array (N, d) with N >= 1")
    value = raw_scale(_subsample(X, MAX_POINTS)) / calibration_value(X.shape[1])
    if np.isfinite(value) and value > 0:
        return float(value)
    overall = float(np.sqrt(np.mean(np.var(X, axis=0)))) if len(X) > 1 else 0.0
    return overall if overall > 0 else 1.0
