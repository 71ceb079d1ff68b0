"""Projections of a point set: the one sign-fixed PCA, and the 2-D views the app draws.

    pca_project(X, dim)                 (N, d) -> (N, dim) on the first dim principal axes
    project(X, "pca" | "umap")          (N, d) -> (N, 2), a view for a scatter
    project_2d(X, method)               the view plus its axis titles

PCA directions are fixed in sign (the largest-magnitude loading of every axis positive), so
the result does not depend on the order of the points: the same set shuffled gives the same
picture, row for row. Used to feed high-dimensional sets to the 16-D models
(routing.fit_dimension) and to draw them.
"""
from __future__ import annotations

import warnings

import numpy as np


def pca_project(X: np.ndarray, dim: int) -> np.ndarray:
    """X (N, d) centred and projected on its first `dim` principal axes (signs fixed), (N, dim).

    Columns beyond the rank of the centred set (fewer points than dimensions) are zero.
    """
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:dim]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    out = centred @ (axes * signs[:, None]).T
    if out.shape[1] < dim:
        out = np.hstack([out, np.zeros((len(X), dim - out.shape[1]))])
    return out


def project(X, method: str = "pca", seed: int = 0, n_neighbors: int = 15,
            min_dist: float = 0.1) -> np.ndarray:
    """A 2-D view (N, 2) of a point set (N, d).

    d <= 2: the points themselves (a single column gets a zero second column).
    "pca": the first two principal axes (signs fixed: largest loading positive), instant.
    "umap": UMAP (umap-learn, imported here, seeded; n_neighbors capped at N - 1). Sets with
    fewer than 5 points fall back to PCA. The first UMAP call in a process compiles numba
    code and takes several seconds; callers should cache the result.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"project needs a non-empty (N, d) array, got shape {X.shape}")
    if method not in ("pca", "umap"):
        raise ValueError(f"method must be 'pca' or 'umap', got {method!r}")
    n, d = X.shape
    if d <= 2:
        return np.hstack([X, np.zeros((n, 2 - d))]) if d < 2 else X.copy()
    if method == "pca" or n < 5:
        return pca_project(X, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap  # heavy (numba): only when asked for

        reducer = umap.UMAP(n_components=2, n_neighbors=int(min(n_neighbors, n - 1)),
                            min_dist=float(min_dist), random_state=int(seed), init="spectral")
        try:
            out = reducer.fit_transform(X)
        except Exception:   # spectral init can fail on tiny or degenerate graphs
            reducer = umap.UMAP(n_components=2, n_neighbors=int(min(n_neighbors, n - 1)),
                                min_dist=float(min_dist), random_state=int(seed), init="random")
            out = reducer.fit_transform(X)
    return np.asarray(out, dtype=np.float64)


def project_2d(X, method: str = "pca", seed: int = 0,
               variance_in_titles: bool = True) -> tuple[np.ndarray, tuple[str, str]]:
    """2-D coordinates to draw a set (N, 2), with axis titles: the set itself when d <= 2,
    else PCA (default; titles "PC 1 (43% var.)", or "PC 1" without variance_in_titles) or
    UMAP (with min_dist 0.5, so that a cluster stays a visible group and is not hidden under
    a highlighted marker)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array (N, d), got shape {X.shape}.")
    n, d = X.shape
    xy = project(X, "umap" if method == "umap" else "pca", seed=seed, min_dist=0.5)
    if d <= 2:
        return xy, ("x₁", "x₂" if d == 2 else "")
    if method == "umap" and n >= 5:
        return xy, ("UMAP 1", "UMAP 2")
    if not variance_in_titles:
        return xy, ("PC 1", "PC 2")
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    var = s ** 2 / max(float(np.sum(s ** 2)), 1e-300)
    return xy, tuple(f"PC {i + 1} ({100 * var[i]:.0f}% var.)" if i < len(var) else f"PC {i + 1}"
                     for i in range(2))
