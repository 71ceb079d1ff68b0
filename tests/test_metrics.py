"""Tests for gfncp.metrics: NMI/ARI, co-assignment, total variation, PartitionDistribution."""
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from gfncp.metrics import (
    PartitionDistribution,
    ari,
    coassignment,
    nmi,
    total_variation,
    total_variation_arrays,
)
from gfncp.partitions import all_partitions, partition_key


def test_nmi_ari_match_sklearn_and_ignore_label_names():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 40)
    b = rng.integers(0, 4, 40)
    assert nmi(a, b) == pytest.approx(normalized_mutual_info_score(a, b))
    assert ari(a, b) == pytest.approx(adjusted_rand_score(a, b))
    renamed = np.array([7, 3, 5])[a]
    assert nmi(a, renamed) == pytest.approx(1.0)
    assert ari(a, renamed) == pytest.approx(1.0)


def test_nmi_ari_equal_sklearn_on_random_and_limit_cases():
    rng = np.random.default_rng(1)
    cases = [(np.zeros(5, int), np.zeros(5, int)),            # one cluster each: a perfect match
             (np.zeros(5, int), np.arange(5)),                 # one cluster vs all singletons
             (np.arange(6), np.arange(6)[::-1]),               # all singletons
             (np.array([3]), np.array([-1])),                  # one point
             (np.array(["a", "b", "a", "c"]), np.array([2, 2, 0, 1])),   # any hashable labels
             (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))]          # independent: NMI 0
    for _ in range(60):
        n = int(rng.integers(1, 300))
        cases.append((rng.integers(0, rng.integers(1, 12), n), rng.integers(-3, rng.integers(-2, 9), n)))
    for a, b in cases:
        assert 0.0 <= nmi(a, b) <= 1.0
        assert nmi(a, b) == pytest.approx(normalized_mutual_info_score(a, b), abs=1e-12), (a, b)
        assert ari(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12), (a, b)
    for _ in range(50):                                 # identical clusterings: 1, never 1 + 1e-16
        a = rng.integers(0, rng.integers(2, 12), 100)
        assert nmi(a, a) <= 1.0 and nmi(a, a) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        nmi(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        ari(np.zeros((2, 2)), np.zeros((2, 2)))


def test_coassignment_hand_built():
    samples = np.array([[0, 0, 1], [0, 1, 1]])
    C = coassignment(samples)
    expected = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]])
    np.testing.assert_allclose(C, expected)
    Cw = coassignment(samples, weights=[3.0, 1.0])
    expected_w = np.array([[1.0, 0.75, 0.0], [0.75, 1.0, 0.25], [0.0, 0.25, 1.0]])
    np.testing.assert_allclose(Cw, expected_w)
    # a single partition (N,) is a 0/1 block matrix
    np.testing.assert_array_equal(coassignment(np.array([0, 1, 0])), [[1, 0, 1], [0, 1, 0], [1, 0, 1]])


def test_coassignment_matches_brute_force_and_is_symmetric():
    rng = np.random.default_rng(1)
    samples = rng.integers(0, 4, size=(50, 12))
    w = rng.random(50)
    C = coassignment(samples, w)
    brute = np.einsum("s,sij->ij", w, (samples[:, :, None] == samples[:, None, :]).astype(float)) / w.sum()
    np.testing.assert_allclose(C, brute, atol=1e-12)
    np.testing.assert_array_equal(C, C.T)
    np.testing.assert_array_equal(np.diag(C), 1.0)


def test_coassignment_rejects_bad_input():
    with pytest.raises(ValueError):
        coassignment(np.array([[0, 1]]), weights=[1.0, 2.0])
    with pytest.raises(ValueError):
        coassignment(np.array([[0, -1]]))


def test_total_variation_known_values():
    a, b, c = partition_key([0, 0]), partition_key([0, 1]), partition_key([0, 1, 2])
    assert total_variation({a: 0.5, b: 0.5}, {a: 1.0}) == pytest.approx(0.5)
    assert total_variation({a: 1.0}, {b: 1.0}) == pytest.approx(1.0)
    assert total_variation({a: 0.2, b: 0.8}, {a: 0.2, b: 0.8}) == 0.0
    assert total_variation({a: 0.3, b: 0.7}, {b: 0.5, c: 0.5}) == pytest.approx(0.5)
    assert total_variation_arrays([0.1, 0.9], [0.4, 0.6]) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        total_variation_arrays([1.0], [0.5, 0.5])


def test_partition_distribution_from_log_weights():
    labels = all_partitions(3)  # 5 partitions
    log_w = np.log(np.array([1.0, 4.0, 2.0, 2.0, 1.0]))
    dist = PartitionDistribution.from_log_weights(labels, log_w + 3.0)
    assert len(dist) == 5 and dist.n_points == 3
    assert dist.probs.sum() == pytest.approx(1.0)
    assert np.all(np.diff(dist.log_probs) <= 0)
    np.testing.assert_array_equal(dist.map_labels, labels[1])
    assert dist.probs[0] == pytest.approx(0.4)
    k = dist.k_distribution()
    assert k.shape == (4,) and k.sum() == pytest.approx(1.0)
    # K=1: [0,0,0] (w 1); K=2: three partitions (w 4+2+2); K=3: [0,1,2] (w 1)
    np.testing.assert_allclose(k, [0.0, 0.1, 0.8, 0.1])
    top = dist.top(2)
    assert len(top) == 2 and top.probs.sum() == pytest.approx(0.6)
    d = dist.as_dict()
    assert d[partition_key(labels[1])] == pytest.approx(0.4)
    assert sum(d.values()) == pytest.approx(1.0)
    C = dist.coassignment()
    assert C[0, 1] == pytest.approx(0.1 + 0.4)  # [0,0,0] and [0,0,1]


def test_partition_distribution_from_samples_canonicalises():
    samples = np.array([[1, 1, 0], [0, 0, 1], [0, 1, 1], [5, 5, 5]])
    dist = PartitionDistribution.from_samples(samples)
    assert len(dist) == 3
    np.testing.assert_array_equal(dist.map_labels, [0, 0, 1])
    assert dist.probs[0] == pytest.approx(0.5)
    assert dist.k_distribution().sum() == pytest.approx(1.0)
    weighted = PartitionDistribution.from_samples(samples, weights=[1.0, 1.0, 6.0, 2.0])
    np.testing.assert_array_equal(weighted.map_labels, [0, 1, 1])
    assert weighted.probs[0] == pytest.approx(0.6)
