"""Synthetic data: the model's own prior, a CRP mixture of Gaussians (docs/method.md §The generative model).

    crp_partition(n, alpha, rng)        one partition from the Chinese Restaurant Process
    crp_expected_k(n, alpha)            E[K] under the CRP (theory)
    make_mog(n, dim, ...)               one CRP mixture of Gaussians, for the app and tests
    mog_batch(B, n, dim, ...)           B independent sets, float32, for training

Every label vector is canonical (clusters numbered in order of first appearance, see
partitions.py). Randomness only comes from explicit `seed` ints or numpy Generators.
"""
from __future__ import annotations

import math

import numpy as np

from ..partitions import canonical_labels
from ..prior import TEXTBOOK
from ._args import check_float, check_int


def crp_expected_k(n: int, alpha: float) -> float:
    """E[K] of a CRP(alpha) partition of n points: sum_{i=0}^{n-1} alpha / (alpha + i)."""
    return float(np.sum(alpha / (alpha + np.arange(n))))


def _crp_rows(n_rows: int, n: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """n_rows independent CRP partitions of n points, canonical labels (n_rows, n).

    Sequential CRP as an urn: point i opens a new cluster w.p. alpha / (i + alpha), else it
    copies the cluster of a uniformly chosen earlier point j < i, which puts it in cluster k
    w.p. n_k / (i + alpha). Following the "copied from" pointers back to the point that
    opened the cluster (pointer doubling, log2(n) steps) gives every label at once.
    """
    i = np.arange(n)
    opens = rng.random((n_rows, n)) * (i + alpha) < alpha  # always True at i = 0
    parent = rng.integers(0, np.maximum(i, 1), size=(n_rows, n))
    parent = np.where(opens, i, parent)
    for _ in range(max(1, math.ceil(math.log2(max(n, 2))))):
        parent = np.take_along_axis(parent, parent, axis=1)
    cluster_id = np.cumsum(opens, axis=1) - 1  # openers are numbered in order: canonical
    return np.take_along_axis(cluster_id, parent, axis=1).astype(np.int64)


def _crp_rows_k(n_rows, n, alpha, rng, k_min=1, k_max=None) -> np.ndarray:
    """Like _crp_rows, each row redrawn until k_min <= K <= k_max (N is kept)."""
    k_max = n if k_max is None else min(k_max, n)
    if k_min > k_max:
        raise ValueError(f"no partition of {n} points has {k_min} <= K <= {k_max}")
    out = _crp_rows(n_rows, n, alpha, rng)
    k = out.max(axis=1) + 1
    bad = np.flatnonzero((k < k_min) | (k > k_max))
    budget = max(100 * n_rows, 20_000)  # candidate rows we are willing to draw
    chunk = max(64, min(4096, 1_000_000 // max(n, 1)))
    while len(bad):
        if budget <= 0:
            raise ValueError(
                f"{k_min} <= K <= {k_max} is too improbable under CRP(alpha={alpha}) with "
                f"N={n}: no such partition in {max(100 * n_rows, 20_000)} draws")
        cand = _crp_rows(chunk, n, alpha, rng)
        budget -= chunk
        ck = cand.max(axis=1) + 1
        good = cand[(ck >= k_min) & (ck <= k_max)][: len(bad)]
        out[bad[: len(good)]] = good
        bad = bad[len(good):]
    return out


def crp_partition(n_points: int, alpha: float, rng, k_min: int = 1,
                  k_max: int | None = None) -> np.ndarray:
    """One partition from the sequential CRP(alpha): canonical int64 labels (n_points,).

    rng: a numpy Generator or an int seed. If k_min / k_max are given the partition is
    redrawn (N kept) until its number of clusters K lies in [k_min, k_max].
    """
    n = check_int("n_points", n_points, 1)
    alpha = check_float("alpha", alpha, strictly_positive=True)
    k_min = check_int("k_min", k_min, 1)
    if k_max is not None:
        k_max = check_int("k_max", k_max, 1)
    return _crp_rows_k(1, n, alpha, np.random.default_rng(rng), k_min, k_max)[0]


# ----------------------------------------------------------------------------------------
# mixture of Gaussians


def _check_mixture(n_points, dim, alpha, sigma, lam) -> tuple[int, int, float, float, float]:
    """The arguments of a CRP mixture of Gaussians, checked (a ValueError names the bad one)."""
    return (check_int("n_points", n_points, 1), check_int("dim", dim, 1),
            check_float("alpha", alpha, strictly_positive=True),
            check_float("sigma", sigma, strictly_positive=True),
            check_float("lam", lam, strictly_positive=False))


def make_mog(n_points: int, dim: int = 2, alpha: float = TEXTBOOK.alpha, sigma: float = TEXTBOOK.sigma,
             lam: float = TEXTBOOK.lam, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """One CRP mixture of Gaussians, points in random order.

    Partition ~ CRP(alpha); centre mu_k ~ N(0, lam^2 I); point x ~ N(mu_k, sigma^2 I).
    seed: int or numpy Generator.
    Returns X float64 (n_points, dim) and canonical labels int64 (n_points,).
    """
    n, dim, alpha, sigma, lam = _check_mixture(n_points, dim, alpha, sigma, lam)
    rng = np.random.default_rng(seed)
    labels = _crp_rows(1, n, alpha, rng)[0]
    centres = rng.normal(0.0, lam, size=(labels.max() + 1, dim))
    X = centres[labels] + rng.normal(0.0, sigma, size=(n, dim))
    order = rng.permutation(n)
    return X[order], canonical_labels(labels[order])


def mog_batch(batch_size: int, n_points: int, dim: int, alpha: float, sigma: float, lam: float,
              rng, k_max: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A training batch of independent CRP mixtures of Gaussians.

    Every row has its own partition (optionally K <= k_max, by redrawing), its own centres
    and its own point order. The CRP label sequence is exchangeable, so the order in which
    it is drawn is already a uniformly random order of the points; no extra shuffle needed.
    Returns X float32 (B, N, dim) and canonical labels int64 (B, N).
    """
    b = check_int("batch_size", batch_size, 1)
    n, dim, alpha, sigma, lam = _check_mixture(n_points, dim, alpha, sigma, lam)
    rng = np.random.default_rng(rng)
    labels = _crp_rows_k(b, n, alpha, rng, 1, k_max)
    n_centres = int(labels.max()) + 1
    centres = rng.normal(0.0, lam, size=(b, n_centres, dim)).astype(np.float32)
    X = np.take_along_axis(centres, labels[:, :, None], axis=1)
    X += rng.standard_normal(size=(b, n, dim), dtype=np.float32) * np.float32(sigma)
    return X, labels
