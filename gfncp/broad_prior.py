"""A broad training prior: many kinds of synthetic tables, so that a model trained on it has
seen the variety real data shows (in the spirit of prior-fitted networks).

The textbook prior (gfncp.data.make_mog) draws isotropic clusters of one scale with centres
far apart, in known units. Real tables differ in every one of those respects, and each
ingredient below covers one of them (docs/experiments.md measures what each buys):

- dimension d from `dims` (tables beyond `model_dim` features are mapped like uploads:
  standardised per feature, then projected on their first `model_dim` principal axes);
- a partition from CRP(alpha), alpha log-uniform, K <= k_max; in a share of sets the sizes
  are then re-balanced by Dirichlet weights (real classes are often of similar size);
- centres in only some informative directions, their typical pairwise distance D log-uniform
  in `separation` (units: a cluster's own spread), from heavily overlapping to far apart;
- per-cluster scales that differ; full covariances: a random rotation (shared by all
  clusters of a set, or one per cluster) and axis ratios up to `max_axis_ratio`;
- non-Gaussian clusters: Student-t tails and skew in some clusters, a few outliers;
- features in arbitrary units (per-feature scale and offset), some of them coarsely
  rounded, as counts and grades are. The model standardises every set per feature inside
  itself (gfncp.standardize), so the units never matter.

Shapes: a batch is X float32 (B, N, model_dim) with unused trailing features zero, and
canonical labels int64 (B, N).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .data.synthetic import _crp_rows_k
from .partitions import canonical_labels
from .standardize import robust_standardize_np


@dataclass(frozen=True)
class BroadPrior:
    """Every parameter of the broad prior; stored verbatim in the model card."""

    model_dim: int = 16                      # features the network reads (zero-padded)
    dims: tuple[int, int] = (2, 24)          # d uniform on [lo, hi]; d > model_dim is projected
    crp_share: float = 0.3                   # sets whose partition is a CRP draw ...
    alpha: tuple[float, float] = (0.2, 2.0)  # ... with concentration log-uniform here
    k_max: int = 10
    k_classes: tuple[int, int] = (2, 6)      # the other sets: K uniform here, class-like sizes
    min_share: float = 0.2                   # class-like sizes: weights mixed with this much uniform
    rebalance_share: float = 0.5             # CRP sets whose cluster sizes are re-drawn
    rebalance_conc: tuple[float, float] = (0.5, 20.0)  # Dirichlet concentration, log-uniform
    separation: tuple[float, float] = (2.5, 20.0)       # pairwise centre distance D, log-uniform
    min_informative: float = 0.5             # centres differ in m ~ U{ceil(this * d)..d} directions
    scale_spread: float = 0.5                # per-cluster log-scale ~ N(0, tau^2), tau ~ U[0, this]
    max_axis_ratio: float = 6.0              # axis ratio r log-uniform on [1, this]
    shared_rotation_share: float = 0.5       # sets whose clusters share one rotation
    student_t_share: float = 0.15            # clusters with Student-t tails (df U[2.5, 8])
    skew_share: float = 0.1                  # clusters with skewed coordinates
    outlier_sets_share: float = 0.3          # sets with a few outliers (up to 3 % of points)
    rounded_sets_share: float = 0.15         # sets with some coarsely rounded features

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (f"Broad prior (gfncp.broad_prior.BroadPrior): d uniform in {self.dims[0]}..{self.dims[1]} "
                f"(d > {self.model_dim} standardised and projected on {self.model_dim} principal axes); "
                f"K uniform in {self.k_classes[0]}..{self.k_classes[1]} with Dirichlet sizes (each at least "
                f"{self.min_share:.0%} of an equal share) in {1 - self.crp_share:.0%} of sets, CRP(alpha log-uniform "
                f"{self.alpha}), K <= {self.k_max} in the rest; centres in at least {self.min_informative:.0%} of the "
                f"directions, "
                f"pairwise distance log-uniform {self.separation} cluster spreads; per-cluster scales, "
                f"rotations and axis ratios up to {self.max_axis_ratio:g}; Student-t ({self.student_t_share:.0%}) "
                f"and skewed ({self.skew_share:.0%}) clusters; outliers in {self.outlier_sets_share:.0%} of sets; "
                f"arbitrary units per feature, standardised per set inside the model.")


def _log_uniform(rng: np.random.Generator, lo_hi, size=None):
    lo, hi = lo_hi
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size=size))


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    """A uniformly random orthogonal matrix (d, d) (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _rebalance(labels: np.ndarray, rng: np.random.Generator, conc: float) -> np.ndarray:
    """Keep K, re-draw every point's cluster from Dirichlet(conc) weights (no cluster empty)."""
    k = int(labels.max()) + 1
    if k == 1:
        return labels
    w = rng.dirichlet(np.full(k, conc))
    out = rng.choice(k, size=len(labels), p=w)
    out[rng.choice(len(labels), size=min(k, len(labels)), replace=False)] = np.arange(min(k, len(labels)))
    return out


def _cluster_points(rng, prior: BroadPrior, n_k: int, d: int, rot: np.ndarray) -> np.ndarray:
    """n_k points (n_k, d) of one cluster around 0, spread about 1 before its own scale."""
    ratio = _log_uniform(rng, (1.0, prior.max_axis_ratio))
    axes = np.exp(rng.uniform(0.0, np.log(ratio), size=d))
    axes /= np.exp(np.mean(np.log(axes)))                  # geometric mean 1
    z = rng.standard_normal((n_k, d))
    u = rng.random()
    if u < prior.student_t_share:                          # heavy tails: a scale mixture
        df = rng.uniform(2.5, 8.0)
        z *= np.sqrt(df / rng.chisquare(df, size=(n_k, 1))) * np.sqrt((df - 2) / df)
    elif u < prior.student_t_share + prior.skew_share:     # skew in some coordinates
        cols = rng.random(d) < 0.5
        gamma = rng.uniform(0.3, 0.8)
        z[:, cols] = z[:, cols] + gamma * (z[:, cols] ** 2 - 1.0)
    return (z * axes) @ rot.T


def draw_partition(rng: np.random.Generator, prior: BroadPrior, n_points: int) -> np.ndarray:
    """Canonical labels (n_points,) of one set, in a uniformly random order.

    Most sets look like the labelled tables people cluster: K uniform in `k_classes`, sizes
    from Dirichlet weights kept away from zero (no class of one point). The rest are CRP
    draws, which bring one-cluster sets, many small clusters and sizes that grow with N."""
    if rng.random() < prior.crp_share:
        labels = _crp_rows_k(1, n_points, _log_uniform(rng, prior.alpha), rng, 1, prior.k_max)[0]
        if rng.random() < prior.rebalance_share:
            labels = _rebalance(labels, rng, _log_uniform(rng, prior.rebalance_conc))
        return canonical_labels(labels)
    k = min(int(rng.integers(prior.k_classes[0], prior.k_classes[1] + 1)), n_points)
    w = rng.dirichlet(np.full(k, _log_uniform(rng, prior.rebalance_conc)))
    w = (1.0 - prior.min_share) * w + prior.min_share / k
    labels = rng.choice(k, size=n_points, p=w)
    labels[rng.choice(n_points, size=k, replace=False)] = np.arange(k)   # no cluster empty
    return canonical_labels(labels)


def draw_set(rng: np.random.Generator, prior: BroadPrior, n_points: int,
             labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One table from the prior: X (n_points, d) in arbitrary units, labels (n_points,).

    labels: a partition to use instead of drawing one (draw_partition)."""
    d = int(rng.integers(prior.dims[0], prior.dims[1] + 1))
    if labels is None:
        labels = draw_partition(rng, prior, n_points)
    k = int(labels.max()) + 1
    # Centres: differences only in m informative directions, typical pairwise distance D.
    m = int(rng.integers(max(1, int(np.ceil(prior.min_informative * d))), d + 1))
    D = _log_uniform(rng, prior.separation)
    centres = np.zeros((k, d))
    centres[:, :m] = rng.normal(0.0, D / np.sqrt(2 * m), size=(k, m))
    shared = rng.random() < prior.shared_rotation_share
    rot = _rotation(rng, d)
    centres = centres @ _rotation(rng, d).T                # informative directions, any direction
    tau = rng.uniform(0.0, prior.scale_spread)
    scales = np.exp(rng.normal(0.0, tau, size=k))
    X = np.empty((n_points, d))
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        pts = _cluster_points(rng, prior, len(idx), d, rot if shared else _rotation(rng, d))
        X[idx] = centres[c] + scales[c] * pts
    if rng.random() < prior.outlier_sets_share:            # a few points far out in their cluster
        n_out = int(rng.integers(1, max(2, int(0.03 * n_points)) + 1))
        idx = rng.choice(n_points, size=min(n_out, n_points), replace=False)
        X[idx] += rng.standard_normal((len(idx), d)) * rng.uniform(4.0, 8.0) * scales[labels[idx], None]
    # Arbitrary units per feature; some features coarsely rounded (counts, grades).
    X = X * np.exp(rng.normal(0.0, 1.0, size=d)) + rng.normal(0.0, 5.0, size=d)
    if rng.random() < prior.rounded_sets_share:
        cols = np.flatnonzero(rng.random(d) < 0.5)
        step = X[:, cols].std(axis=0) * rng.uniform(0.2, 0.6, size=len(cols)) + 1e-12
        X[:, cols] = np.round(X[:, cols] / step) * step
    return X, labels


def to_model_space(X: np.ndarray, model_dim: int) -> np.ndarray:
    """(N, d) -> (N, model_dim): the features standardised (float64, so that large offsets
    lose no precision and units do not decide the axes), then zero-padded when d <=
    model_dim or projected on their first model_dim principal axes. The model standardises
    again per feature inside itself (a no-op on standardised features)."""
    from .routing import fit_dimension

    return fit_dimension(robust_standardize_np(X), model_dim)


def broad_batch(batch_size: int, n_points: int, rng: np.random.Generator,
                prior: BroadPrior = BroadPrior()) -> tuple[np.ndarray, np.ndarray]:
    """A training batch: every row its own table (dimension, partition, shapes, units) in
    the model's input space. Returns X float32 (B, N, model_dim), labels int64 (B, N).

    The rows' points come in the order their labels were drawn, a uniformly random order
    (CRP label sequences and i.i.d. draws are exchangeable)."""
    X = np.zeros((batch_size, n_points, prior.model_dim), dtype=np.float32)
    y = np.zeros((batch_size, n_points), dtype=np.int64)
    for b in range(batch_size):
        Xb, yb = draw_set(rng, prior, n_points)
        X[b] = to_model_space(Xb, prior.model_dim)
        y[b] = yb
    return X, y


def make_broad(n_points: int, seed=0, prior: BroadPrior = BroadPrior()) -> tuple[np.ndarray, np.ndarray]:
    """One table from the prior in its own units (N, d), points in random order, and its
    canonical labels: what a user would upload."""
    rng = np.random.default_rng(seed)
    X, labels = draw_set(rng, prior, n_points)
    order = rng.permutation(n_points)
    return X[order], canonical_labels(labels[order])
