"""Tests for gfncp.references: exact posterior, collapsed Gibbs, classical baselines."""
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gfncp.metrics import PartitionDistribution, nmi, total_variation
from gfncp.partitions import canonical_labels, is_canonical, partition_key, permute_labels
from gfncp.references import (
    BASELINES,
    dpgmm,
    exact_posterior,
    gibbs,
    kmeans,
    log_cluster_marginal,
    log_crp,
    log_joint,
)

BELL = {1: 1, 2: 2, 3: 5, 4: 15, 5: 52, 6: 203, 7: 877, 8: 4140, 9: 21147}

# N = 7 points in three loose, overlapping groups: under the default prior
# (alpha 0.7, sigma 1, lam 10) the posterior is spread (top partition ~0.41; K=1/2/3 get
# ~0.19/0.74/0.07), so a sampler cannot pass by sitting on one partition.
X_OVERLAP = 1.2 * np.array(
    [[-2.0, 0.0], [-1.2, 0.5], [-1.5, -0.6], [1.3, 0.2], [2.0, -0.4], [1.6, 0.9], [0.1, 2.0]]
)


def separated_set(n_per_cluster, seed=0, spread=15.0):
    """Three tight clusters (sigma 1) with centres `spread` apart; labels canonical."""
    rng = np.random.default_rng(seed)
    centres = spread * np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.2]])
    truth = np.repeat(np.arange(3), n_per_cluster)
    order = rng.permutation(len(truth))
    truth = canonical_labels(truth[order])
    X = centres[truth] + rng.normal(size=(len(truth), 2))
    return X, truth


# ---------------------------------------------------------------- closed form


def test_cluster_marginal_matches_multivariate_normal():
    rng = np.random.default_rng(0)
    sigma, lam, mu0 = 1.3, 4.0, np.array([0.5, -1.0])
    Xc = rng.normal(size=(4, 2)) * 3
    cov = sigma**2 * np.eye(4) + lam**2 * np.ones((4, 4))
    brute = sum(multivariate_normal(mean=np.full(4, mu0[j]), cov=cov).logpdf(Xc[:, j]) for j in range(2))
    assert log_cluster_marginal(Xc, sigma=sigma, lam=lam, mu0=mu0) == pytest.approx(brute, rel=1e-10)


def test_log_joint_is_crp_plus_cluster_marginals():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 3)) * 4
    labels = np.array([0, 1, 0, 2, 1, 1, 3, 0])
    expected = log_crp(labels, 0.7) + sum(log_cluster_marginal(X[labels == k], 1.0, 10.0) for k in range(4))
    assert log_joint(X, labels, alpha=0.7, sigma=1.0, lam=10.0) == pytest.approx(expected, rel=1e-12)


def test_log_joint_invariant_to_point_order():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(9, 2)) * 5
    labels = canonical_labels(rng.integers(0, 4, 9))
    base = log_joint(X, labels)
    for _ in range(5):
        perm = rng.permutation(9)
        assert log_joint(X[perm], permute_labels(labels, perm)) == pytest.approx(base, rel=1e-12)


# ---------------------------------------------------------------- exact posterior


def test_exact_posterior_normalised_with_bell_entries():
    rng = np.random.default_rng(3)
    for n in (1, 4, 7):
        dist = exact_posterior(rng.normal(size=(n, 2)) * 3)
        assert len(dist) == BELL[n]
        assert dist.probs.sum() == pytest.approx(1.0)
        assert np.all(np.diff(dist.log_probs) <= 1e-12)
        assert len({partition_key(row) for row in dist.labels}) == BELL[n]
        assert all(is_canonical(row) for row in dist.labels)
        assert dist.k_distribution().sum() == pytest.approx(1.0)


def test_exact_posterior_map_recovers_separated_clusters_n9():
    X, truth = separated_set(3, seed=4)
    dist = exact_posterior(X)
    assert len(dist) == BELL[9]
    np.testing.assert_array_equal(dist.map_labels, truth)
    assert dist.probs[0] > 0.9
    # its probability is the normalised log joint
    assert dist.log_probs[0] - dist.log_probs[1] == pytest.approx(
        log_joint(X, dist.labels[0]) - log_joint(X, dist.labels[1]), abs=1e-9)


def test_exact_posterior_is_order_invariant():
    rng = np.random.default_rng(5)
    perm = rng.permutation(len(X_OVERLAP))
    p = exact_posterior(X_OVERLAP)
    q = exact_posterior(X_OVERLAP[perm]).as_dict()
    moved = np.array([q[partition_key(permute_labels(row, perm))] for row in p.labels])
    np.testing.assert_allclose(moved, p.probs, rtol=1e-9, atol=1e-15)


def test_exact_posterior_is_crp_when_data_uninformative():
    # All points at the prior mean and sigma huge: the likelihood is (almost) the same for
    # every partition, so the posterior is the CRP's EPPF, alpha^K prod (n_k - 1)! / alpha^(N rising).
    a = 0.7
    rising = a * (a + 1) * (a + 2) * (a + 3)
    by_sizes = {  # sorted cluster sizes -> EPPF of one such partition
        (4,): a * 6 / rising,
        (1, 3): a**2 * 2 / rising,
        (2, 2): a**2 / rising,
        (1, 1, 2): a**3 / rising,
        (1, 1, 1, 1): a**4 / rising,
    }
    dist = exact_posterior(np.zeros((4, 2)), alpha=a, sigma=1e3, lam=10.0)
    for row, p in zip(dist.labels, dist.probs):
        sizes = tuple(sorted(np.bincount(row)))
        assert p == pytest.approx(by_sizes[sizes], abs=1e-6)
        assert np.log(by_sizes[sizes]) == pytest.approx(log_crp(row, a), abs=1e-12)


def test_exact_posterior_rejects_large_n():
    with pytest.raises(ValueError, match="at most 9"):
        exact_posterior(np.zeros((10, 2)))


# ---------------------------------------------------------------- Gibbs


def test_gibbs_shapes_seed_and_log_joint():
    X, truth = separated_set(5, seed=6)
    r = gibbs(X, n_sweeps=30, burn_in=10, thin=3, seed=7)
    assert r.samples.shape == (len(range(10, 30, 3)), 15)
    assert all(is_canonical(row) for row in r.samples)
    assert r.log_joint.shape == (r.samples.shape[0],)
    for row, lj in zip(r.samples, r.log_joint):
        assert lj == pytest.approx(log_joint(X, row), rel=1e-10)
    np.testing.assert_array_equal(r.map_labels, truth)
    assert r.map_log_joint == pytest.approx(log_joint(X, truth), rel=1e-10)
    r2 = gibbs(X, n_sweeps=30, burn_in=10, thin=3, seed=7)
    np.testing.assert_array_equal(r.samples, r2.samples)
    # starting from one big cluster still finds the separated clusters
    r3 = gibbs(X, n_sweeps=20, burn_in=0, seed=0, init=np.zeros(15, dtype=int))
    np.testing.assert_array_equal(r3.map_labels, truth)


def test_gibbs_agrees_with_exact_posterior():
    exact = exact_posterior(X_OVERLAP)
    n_kept = 20000
    r = gibbs(X_OVERLAP, n_sweeps=n_kept + 200, burn_in=200, seed=11)
    emp = PartitionDistribution.from_samples(r.samples)
    tv = total_variation(emp.as_dict(), exact.as_dict())
    # Sampling error alone: for S iid draws E[TV] ~ 0.5 sum_c sqrt(2 p_c (1 - p_c) / (pi S)),
    # which is ~0.015 here; the chain mixes fast at N = 7 (observed TV ~ iid level), so
    # 0.05 leaves room for autocorrelation while any real bias in the sampler
    # (e.g. a wrong predictive variance) gives TV well above it.
    p = exact.probs
    iid_tv = 0.5 * np.sum(np.sqrt(2 * p * (1 - p) / (np.pi * n_kept)))
    assert iid_tv < 0.02
    assert tv < 0.05
    np.testing.assert_allclose(emp.k_distribution(), exact.k_distribution(), atol=0.02)


# ---------------------------------------------------------------- baselines


def test_baselines_recover_separated_clusters():
    X, truth = separated_set(20, seed=8)
    for result in (kmeans(X, 3, seed=0), dpgmm(X, seed=0)):
        assert result.labels.shape == (60,)
        assert is_canonical(result.labels)
        assert result.seconds >= 0
        assert nmi(truth, result.labels) > 0.99
    for name, fn in BASELINES.items():
        result = fn(X, 3, seed=0)
        assert is_canonical(result.labels) and result.labels.shape == (60,), name
        assert nmi(truth, result.labels) > 0.99, name


def test_dpgmm_high_dimensional_uses_diag_and_runs():
    rng = np.random.default_rng(9)
    centres = rng.normal(size=(3, 20)) * 10
    truth = np.repeat(np.arange(3), 15)
    X = centres[truth] + rng.normal(size=(45, 20))
    result = dpgmm(X, seed=0)
    assert result.labels.shape == (45,) and is_canonical(result.labels)
    assert nmi(truth, result.labels) > 0.9
