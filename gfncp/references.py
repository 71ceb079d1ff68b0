"""Reference clusterings that GFNCP/NCP are compared against.

The model (docs/method.md §The generative model, in any dimension d; defaults: prior.TEXTBOOK):

    c ~ CRP(alpha)                               partition of the N points
    mu_k ~ N(mu0, lam^2 I_d)                     one centre per cluster
    x_i | c, mu ~ N(mu_{c_i}, sigma^2 I_d)        sigma: within-cluster std

with the centres integrated out analytically. The prior mean of the centres is `mu0`
(default 0, a scalar or a (d,) vector); the references are computed on X exactly as
given, so X should be in the units, and the centring, that this prior assumes (e.g. a
set from `gfncp.data.make_mog`, or the model's training data).

Three references, all taking X (N, d):

1. `exact_posterior`: p(c | X) for every one of the Bell(N) partitions (N <= 9), and
   `log_joint` for one partition.
2. `gibbs`: a collapsed Gibbs sampler (Neal 2000, algorithm 3) for the same posterior;
   any N.
3. Classical baselines `kmeans` and `dpgmm` (scikit-learn), registered in `BASELINES`, and
   `bic_gmm` (a BIC-selected Gaussian mixture, used by the real-data evaluation).

Closed form used throughout. For a cluster of n points, per dimension, the values y
(after subtracting mu0) are jointly Gaussian with covariance Sigma = s2 I + l2 1 1^T
(s2 = sigma^2, l2 = lam^2). The matrix determinant lemma and Sherman-Morrison give

    log det Sigma   = (n - 1) log s2 + log(s2 + n l2)
    y^T Sigma^-1 y  = (sum y^2 - l2 (sum y)^2 / (s2 + n l2)) / s2

so a partition's log-likelihood only needs each cluster's size n_k and sum T_k (d,).
"""
from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import gammaln

from gfncp.metrics import PartitionDistribution
from gfncp.partitions import MAX_EXACT_N, all_partitions, canonical_labels
from gfncp.prior import TEXTBOOK

__all__ = [
    "MAX_EXACT_N",
    "log_crp",
    "log_cluster_marginal",
    "log_joint",
    "exact_posterior",
    "GibbsResult",
    "gibbs",
    "BaselineResult",
    "kmeans",
    "dpgmm",
    "bic_gmm",
    "BASELINES",
]


_LOG_2PI = float(np.log(2.0 * np.pi))


# ---------------------------------------------------------------------------------------
# Closed-form pieces
# ---------------------------------------------------------------------------------------

def _as_points(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty (N, d) array, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    return X


def _check_params(alpha: float, sigma: float, lam: float) -> None:
    if not (alpha > 0 and sigma > 0 and lam > 0):
        raise ValueError(f"alpha, sigma and lam must be positive (got {alpha}, {sigma}, {lam})")


def log_crp(labels, alpha: float = TEXTBOOK.alpha) -> float:
    """log CRP(c; alpha), the exchangeable partition probability of labels (N,):

    K log alpha + sum_k log Gamma(n_k) + log Gamma(alpha) - log Gamma(alpha + N).
    """
    sizes = np.bincount(canonical_labels(labels))
    N = sizes.sum()
    return float(len(sizes) * np.log(alpha) + gammaln(sizes).sum() + gammaln(alpha) - gammaln(alpha + N))


def log_cluster_marginal(X_cluster, sigma: float = TEXTBOOK.sigma, lam: float = TEXTBOOK.lam,
                         mu0=0.0) -> float:
    """log m(X_C): marginal likelihood of the points (n, d) of one cluster, centre integrated out.

    Equals the log-density of N(mu0 1, sigma^2 I_n + lam^2 1 1^T) summed over the d
    (independent) dimensions.
    """
    Y = _as_points(X_cluster) - np.asarray(mu0, dtype=float)
    n, d = Y.shape
    s2, l2 = sigma ** 2, lam ** 2
    denom = s2 + n * l2
    log_det = (n - 1) * np.log(s2) + np.log(denom)
    T = Y.sum(axis=0)
    quad = (np.sum(Y * Y) - l2 * np.dot(T, T) / denom) / s2
    return float(-0.5 * (n * d * _LOG_2PI + d * log_det + quad))


def _log_joint_from_stats(counts, sums, total_sq, N, d, alpha, s2, l2):
    """log p(c, X) from sufficient statistics, vectorised over leading axes.

    counts: (..., K) cluster sizes (0 marks an empty slot, which contributes nothing);
    sums: (..., K, d) per-cluster sums of (X - mu0); total_sq: sum of squares of X - mu0.
    Returns (...,).
    """
    counts = np.asarray(counts, dtype=float)
    occupied = counts > 0
    K = occupied.sum(axis=-1)
    log_gamma_n = np.where(occupied, gammaln(np.where(occupied, counts, 1.0)), 0.0)
    log_prior = K * np.log(alpha) + log_gamma_n.sum(axis=-1) + gammaln(alpha) - gammaln(alpha + N)
    denom = s2 + counts * l2  # == s2 for empty slots
    # sum_k (n_k - 1) log s2 + log(s2 + n_k l2) over occupied k == N log s2 + sum_k log1p(n_k l2 / s2)
    log_det = N * np.log(s2) + np.log1p(counts * (l2 / s2)).sum(axis=-1)
    sq_sums = np.einsum("...kd,...kd->...k", sums, sums)
    quad = (total_sq - l2 * (sq_sums / denom).sum(axis=-1)) / s2
    log_lik = -0.5 * (N * d * _LOG_2PI + d * log_det + quad)
    return log_prior + log_lik


def log_joint(X, labels, alpha: float = TEXTBOOK.alpha, sigma: float = TEXTBOOK.sigma,
              lam: float = TEXTBOOK.lam, mu0=0.0) -> float:
    """log p(c, X) = log CRP(c; alpha) + sum_k log m(X_{C_k}) for one partition.

    X: (N, d) points; labels: (N,) cluster ids (any ids; only the partition matters).
    """
    X = _as_points(X)
    _check_params(alpha, sigma, lam)
    z = canonical_labels(labels)
    if z.shape != (X.shape[0],):
        raise ValueError(f"labels must have shape ({X.shape[0]},), got {z.shape}")
    Y = X - np.asarray(mu0, dtype=float)
    K = int(z.max()) + 1
    counts = np.bincount(z, minlength=K)
    sums = np.zeros((K, X.shape[1]))
    np.add.at(sums, z, Y)
    return float(_log_joint_from_stats(counts, sums, np.sum(Y * Y), X.shape[0], X.shape[1],
                                       alpha, sigma ** 2, lam ** 2))


# ---------------------------------------------------------------------------------------
# 1. Exact posterior by enumeration
# ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=MAX_EXACT_N + 1)
def _partitions_one_hot(n: int) -> tuple[np.ndarray, np.ndarray]:
    """All partitions (Bell(n), n) and their one-hot encodings (Bell(n), n, n), read-only."""
    labels = all_partitions(n)
    one_hot = (labels[:, :, None] == np.arange(n)[None, None, :]).astype(float)
    labels.flags.writeable = False
    one_hot.flags.writeable = False
    return labels, one_hot


def exact_posterior(X, alpha: float = TEXTBOOK.alpha, sigma: float = TEXTBOOK.sigma,
                    lam: float = TEXTBOOK.lam, mu0=0.0) -> PartitionDistribution:
    """Exact posterior p(c | X) over all Bell(N) partitions of the N <= 9 points X (N, d).

    Returns a PartitionDistribution (labels (Bell(N), N), log_probs (Bell(N),)), most
    probable first. The prior mean of cluster centres is mu0 (scalar or (d,)).
    """
    X = _as_points(X)
    _check_params(alpha, sigma, lam)
    N, d = X.shape
    if N > MAX_EXACT_N:
        raise ValueError(
            f"exact_posterior enumerates all partitions and supports at most {MAX_EXACT_N} "
            f"points (Bell({MAX_EXACT_N}) = 21147); got N = {N}. Use gibbs() for larger sets."
        )
    Y = X - np.asarray(mu0, dtype=float)
    labels, one_hot = _partitions_one_hot(N)
    counts = one_hot.sum(axis=1)                        # (M, N): size of slot k
    sums = np.matmul(one_hot.transpose(0, 2, 1), Y)     # (M, N, d): per-slot sums
    log_w = _log_joint_from_stats(counts, sums, np.sum(Y * Y), N, d, alpha, sigma ** 2, lam ** 2)
    return PartitionDistribution.from_log_weights(labels, log_w)


# ---------------------------------------------------------------------------------------
# 2. Collapsed Gibbs sampler (Neal 2000, algorithm 3)
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GibbsResult:
    """Output of `gibbs`.

    samples: int64 (S, N) canonical partitions kept after burn-in and thinning.
    log_joint: float (S,) log p(c, X) of each kept sample.
    map_labels: int64 (N,) the highest-log-joint state visited (burn-in included).
    map_log_joint: its log p(c, X).
    seconds: wall-clock time of the run.
    n_sweeps: total sweeps run (burn-in included).
    """

    samples: np.ndarray
    log_joint: np.ndarray
    map_labels: np.ndarray
    map_log_joint: float
    seconds: float
    n_sweeps: int

    def distribution(self) -> PartitionDistribution:
        """Empirical distribution of the kept samples."""
        return PartitionDistribution.from_samples(self.samples)


def gibbs(X, alpha: float = TEXTBOOK.alpha, sigma: float = TEXTBOOK.sigma, lam: float = TEXTBOOK.lam,
          n_sweeps: int = 200, burn_in: int = 50, thin: int = 1, seed: int = 0, init=None, mu0=0.0) -> GibbsResult:
    """Collapsed Gibbs sampling of p(c | X) for X (N, d) (Neal 2000, algorithm 3).

    One sweep visits every point in order, removes it from its cluster and re-assigns it
    with probability proportional to n_k * N(x_i; m_k, v_k I) for an existing cluster k
    (n_k points, sum T_k of x - mu0), or alpha * N(x_i; mu0, (sigma^2 + lam^2) I) for a new
    one, where
        m_k = mu0 + lam^2 T_k / (sigma^2 + n_k lam^2),
        v_k = sigma^2 + sigma^2 lam^2 / (sigma^2 + n_k lam^2).

    n_sweeps counts all sweeps; the first `burn_in` are discarded and every `thin`-th
    later one is kept, so S = len(range(burn_in, n_sweeps, thin)) samples (taken after
    sweeps burn_in+1, burn_in+1+thin, ...).
    init: None draws the start state by one sequential pass (each point in turn sampled
        from its conditional given the points before it, i.e. an SIS draw); otherwise
        labels (N,) to start from.
    Randomness only from numpy.random.default_rng(seed).
    """
    t0 = time.perf_counter()
    X = _as_points(X)
    _check_params(alpha, sigma, lam)
    if n_sweeps < 1 or not (0 <= burn_in < n_sweeps) or thin < 1:
        raise ValueError(f"need n_sweeps >= 1, 0 <= burn_in < n_sweeps and thin >= 1 "
                         f"(got {n_sweeps}, {burn_in}, {thin})")
    rng = np.random.default_rng(seed)
    N, d = X.shape
    Y = X - np.asarray(mu0, dtype=float)
    total_sq = float(np.sum(Y * Y))
    s2, l2 = float(sigma) ** 2, float(lam) ** 2

    # Compact cluster state: clusters 0..K-1 are occupied; slot K is always empty (count 0,
    # sum 0), and its predictive is exactly the new-cluster predictive N(0, (s2 + l2) I).
    counts = np.zeros(N + 1)
    sums = np.zeros((N + 1, d))
    z = np.full(N, -1, dtype=np.int64)
    if init is None:
        K = 0
        sweep_index = 0  # sweep 0 is the sequential initialisation (not counted in n_sweeps)
    else:
        z0 = canonical_labels(init)
        if z0.shape != (N,):
            raise ValueError(f"init must have shape ({N},), got {z0.shape}")
        z[:] = z0
        K = int(z.max()) + 1
        counts[:K] = np.bincount(z, minlength=K)
        np.add.at(sums, z, Y)
        sweep_index = 1

    weights = np.empty(N + 1)
    kept_samples, kept_log_joint = [], []
    best_log_joint, best_labels = -np.inf, None

    while sweep_index <= n_sweeps:
        u = rng.random(N)
        for i in range(N):
            y = Y[i]
            c = z[i]
            if c >= 0:  # remove point i from its cluster
                counts[c] -= 1.0
                sums[c] -= y
                if counts[c] == 0.0:
                    K -= 1
                    if c != K:  # move the last cluster into the hole
                        counts[c] = counts[K]
                        sums[c] = sums[K]
                        z[z == K] = c
                    counts[K] = 0.0
                    sums[K] = 0.0
            # scores of joining clusters 0..K-1 or opening slot K
            n = counts[: K + 1]
            shrink = l2 / (s2 + n * l2)
            var = s2 + s2 * shrink
            diff = y - sums[: K + 1] * shrink[:, None]
            weights[:K] = n[:K]
            weights[K] = alpha
            log_p = np.log(weights[: K + 1]) - 0.5 * d * np.log(var) - 0.5 * np.einsum("kd,kd->k", diff, diff) / var
            p = np.exp(log_p - log_p.max())
            cdf = np.cumsum(p)
            k = int(np.searchsorted(cdf, u[i] * cdf[-1], side="right"))
            k = min(k, K)
            z[i] = k
            counts[k] += 1.0
            sums[k] += y
            if k == K:
                K += 1
        if sweep_index >= 1:
            lj = float(_log_joint_from_stats(counts[:K], sums[:K], total_sq, N, d, alpha, s2, l2))
            if lj > best_log_joint:
                best_log_joint, best_labels = lj, z.copy()
            if sweep_index > burn_in and (sweep_index - burn_in - 1) % thin == 0:
                kept_samples.append(z.copy())
                kept_log_joint.append(lj)
        sweep_index += 1

    samples = canonical_labels(np.array(kept_samples, dtype=np.int64).reshape(-1, N))
    return GibbsResult(
        samples=samples,
        log_joint=np.array(kept_log_joint),
        map_labels=canonical_labels(best_labels),
        map_log_joint=best_log_joint,
        seconds=time.perf_counter() - t0,
        n_sweeps=n_sweeps,
    )


# ---------------------------------------------------------------------------------------
# 3. Classical baselines
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BaselineResult:
    """labels: int64 (N,) canonical; seconds: wall-clock fit time; name: display name."""

    labels: np.ndarray
    seconds: float
    name: str


def kmeans(X, n_clusters: int, seed: int = 0) -> BaselineResult:
    """k-means (scikit-learn KMeans, n_init=10) with a given number of clusters.

    n_clusters is clipped to [1, N]. Returns canonical labels (N,).
    """
    from sklearn.cluster import KMeans

    X = _as_points(X)
    if n_clusters is None:
        raise ValueError("k-means needs the number of clusters (n_clusters); got None")
    t0 = time.perf_counter()
    k = int(min(max(int(n_clusters), 1), X.shape[0]))
    with warnings.catch_warnings():
        # fewer distinct points than k only warns; the result is still a valid labelling
        warnings.simplefilter("ignore")
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)
    return BaselineResult(canonical_labels(labels), time.perf_counter() - t0, "k-means (true K)")


def dpgmm(X, max_components: int = 20, alpha: float = TEXTBOOK.alpha, seed: int = 0) -> BaselineResult:
    """Variational Dirichlet-process Gaussian mixture (scikit-learn BayesianGaussianMixture).

    Stick-breaking prior with concentration alpha (weight_concentration_prior), truncated
    at min(max_components, N) components. Covariances are "full" for d <= 10 and "diag"
    above (a full covariance per component is poorly determined, and slow, in high
    dimension, e.g. 64-D digits). Returns canonical labels (N,) of the most responsible
    component; convergence warnings are silenced.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    X = _as_points(X)
    t0 = time.perf_counter()
    N, d = X.shape
    if N < 2:
        return BaselineResult(np.zeros(N, dtype=np.int64), time.perf_counter() - t0, "DP-GMM")
    model = BayesianGaussianMixture(
        n_components=int(min(max_components, N)),
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=alpha,
        covariance_type="full" if d <= 10 else "diag",
        max_iter=500,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit(X).predict(X)
    return BaselineResult(canonical_labels(labels), time.perf_counter() - t0, "DP-GMM")


def bic_gmm(X, max_components: int = 10, seed: int = 0) -> BaselineResult:
    """Gaussian mixture with the number of components and the covariance type ("full" or
    "diag") chosen by BIC, K = 1..max_components (scikit-learn GaussianMixture, n_init 2).
    Returns canonical labels (N,) of the most responsible component."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    X = _as_points(X)
    t0 = time.perf_counter()
    N = X.shape[0]
    best, best_bic = np.zeros(N, dtype=np.int64), np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for cov in ("full", "diag"):
            for k in range(1, int(min(max_components, N)) + 1):
                try:
                    gm = GaussianMixture(k, covariance_type=cov, n_init=2, reg_covar=1e-4,
                                         random_state=seed).fit(X)
                except ValueError:          # too few points for this many components
                    break
                bic = gm.bic(X)
                if bic < best_bic:
                    best, best_bic = gm.predict(X), bic
    return BaselineResult(canonical_labels(best), time.perf_counter() - t0, "BIC-GMM")


# Uniform calling convention for the app and the evaluation: fn(X, n_clusters, seed).
# n_clusters is the true K where known (k-means needs it; DP-GMM ignores it).
BASELINES: dict[str, Callable[[np.ndarray, int | None, int], BaselineResult]] = {
    "k-means (true K)": lambda X, n_clusters, seed=0: kmeans(X, n_clusters, seed=seed),
    "DP-GMM": lambda X, n_clusters=None, seed=0: dpgmm(X, seed=seed),
}
