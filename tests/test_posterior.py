"""Posterior summaries of sampled clusterings (gfncp.posterior): known answers."""
from __future__ import annotations

import numpy as np
import pytest

from gfncp import exports
from gfncp import posterior as post
from gfncp.model_distribution import model_partition_distribution
from gfncp.metrics import coassignment
from gfncp.partitions import all_partitions, canonical_labels

# 7 points: 0-2 always together, 3-5 always together, point 6 joins the first group in half
# of the samples and the second group in the other half.
FLIP = np.array([[0, 0, 0, 1, 1, 1, 0]] * 5 + [[0, 0, 0, 1, 1, 1, 1]] * 5)


def _relabel(labels, rng):
    """Every row with its cluster ids permuted at random (not canonical any more)."""
    out = np.empty_like(labels)
    for s, row in enumerate(labels):
        perm = rng.permutation(row.max() + 1) + 10
        out[s] = perm[row]
    return out


def test_identical_samples_are_certain():
    z = np.tile(np.array([0, 0, 1, 1, 2, 0]), (20, 1))
    pts = post.point_uncertainty(z, z[0])
    np.testing.assert_allclose(pts.entropy, 0.0, atol=1e-12)
    np.testing.assert_allclose(pts.probability, 1.0)
    np.testing.assert_array_equal(pts.most_probable, z[0])
    np.testing.assert_allclose(pts.mate_confidence, 1.0)     # singleton point 4 is always alone
    np.testing.assert_allclose(pts.membership.sum(axis=1), 1.0)


def test_point_that_flips_between_two_clusters():
    ref = post.reference_clustering(FLIP)
    pts = post.point_uncertainty(FLIP, ref)
    assert pts.entropy[6] == pytest.approx(np.log(2))
    assert pts.probability[6] == pytest.approx(0.5)
    np.testing.assert_allclose(pts.entropy[:6], 0.0, atol=1e-12)
    np.testing.assert_allclose(pts.probability[:6], 1.0)
    # cluster-mate confidence: point 6 is with each of its 3 reference mates half the time
    assert pts.mate_confidence[6] == pytest.approx(0.5)
    own = ref[6]
    mates_of_first = [i for i in range(6) if ref[i] == own]
    # a point of 6's reference cluster: 2 certain mates and point 6 (0.5) -> 2.5 / 3
    for i in mates_of_first:
        assert pts.mate_confidence[i] == pytest.approx(2.5 / 3)


def test_matching_is_invariant_to_label_permutations():
    rng = np.random.default_rng(0)
    ref = post.reference_clustering(FLIP)
    base = post.point_uncertainty(FLIP, ref)
    permuted = _relabel(FLIP, rng)
    again = post.point_uncertainty(permuted, ref)
    np.testing.assert_allclose(again.entropy, base.entropy)
    np.testing.assert_allclose(again.probability, base.probability)
    np.testing.assert_allclose(again.membership, base.membership)
    np.testing.assert_allclose(again.mate_confidence, base.mate_confidence)
    # matching recovers the reference ids exactly for every sample
    np.testing.assert_array_equal(post.match_to_reference(permuted, ref), post.match_to_reference(FLIP, ref))


def test_unmatched_clusters_and_fresh_ids():
    ref = np.array([0, 0, 1, 1])
    z = np.array([[0, 1, 2, 3]])          # 4 singletons against 2 reference clusters
    mapped = post.match_to_reference(z, ref)
    assert mapped[0].tolist().count(2) == 2                   # two points end up unmatched (id K = 2)
    assert mapped[0].tolist().count(0) == 1 and mapped[0].tolist().count(1) == 1
    assert mapped[0][0] in (0, 2) and mapped[0][2] in (1, 2)  # matched to a cluster they belong to
    fresh = post.match_to_reference(z, ref, fresh_unmatched=True)
    assert len(np.unique(fresh[0])) == 4                      # unmatched clusters keep distinct ids
    pts = post.point_uncertainty(z, ref)
    assert pts.membership.shape == (4, 3)
    np.testing.assert_allclose(pts.probability, 1.0)          # one sample: everything certain


def test_reference_clustering_most_frequent_then_log_q():
    a, b = np.array([0, 0, 1]), np.array([0, 1, 1])
    z = np.stack([a, b, b, a, b])
    np.testing.assert_array_equal(post.reference_clustering(z), b)
    # a tie in counts is broken by log q
    z2 = np.stack([a, b])
    np.testing.assert_array_equal(post.reference_clustering(z2, log_prob=[-3.0, -1.0]), b)
    np.testing.assert_array_equal(post.reference_clustering(z2, log_prob=[-1.0, -3.0]), a)


def test_weights_are_respected():
    z = np.array([[0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1, 1]])
    pts = post.point_uncertainty(z, z[0], weights=[3.0, 1.0])
    assert pts.probability[6] == pytest.approx(0.75)
    assert pts.entropy[6] == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    np.testing.assert_allclose(post.k_posterior(z, weights=[3.0, 1.0])[2], 1.0)


def test_coassignment_symmetric_unit_diagonal():
    rng = np.random.default_rng(1)
    z = canonical_labels(rng.integers(0, 4, size=(50, 30)))
    C = coassignment(z)
    np.testing.assert_allclose(C, C.T)
    np.testing.assert_allclose(np.diag(C), 1.0)
    assert C.min() >= 0 and C.max() <= 1
    s = post.summarize(z, rng.normal(size=50))
    np.testing.assert_allclose(s.coassignment, C)


def test_k_posterior_and_top_clusterings():
    z = np.array([[0, 0, 0], [0, 1, 1], [0, 1, 1], [0, 1, 2]])
    k = post.k_posterior(z)
    np.testing.assert_allclose(k, [0, 0.25, 0.5, 0.25])
    top = post.top_clusterings(z, np.log([0.2, 0.3, 0.3, 0.1]), k=2)
    np.testing.assert_array_equal(top.labels[0], [0, 1, 1])
    assert top.frequency[0] == pytest.approx(0.5)
    assert top.q[0] == pytest.approx(0.3)
    assert top.n_distinct == 3
    np.testing.assert_array_equal(top.n_clusters, [2, 1])     # tie at 0.25: higher q first


def test_summarize_consistency():
    rng = np.random.default_rng(2)
    z = canonical_labels(rng.integers(0, 3, size=(40, 12)))
    s = post.summarize(z, rng.normal(size=40))
    assert s.n_samples == 40
    assert s.k_probs.sum() == pytest.approx(1.0)
    assert s.expected_k == pytest.approx(np.dot(np.arange(13), s.k_probs))
    p = s.points
    assert np.all(p.entropy >= 0) and np.all(p.entropy <= np.log(p.membership.shape[1]) + 1e-12)
    assert np.all((p.probability > 0) & (p.probability <= 1))
    assert np.all((p.mate_confidence >= 0) & (p.mate_confidence <= 1))


def test_reference_order_and_subsampling():
    ref = np.array([1, 0, 1, 0, 2, 2, 2])
    within = np.array([0.1, 0.9, 0.8, 0.2, 0.5, 0.6, 0.7])
    order, bounds = post.reference_order(ref, within)
    np.testing.assert_array_equal(order, [1, 3, 2, 0, 6, 5, 4])
    np.testing.assert_array_equal(bounds, [2, 4])
    big = np.repeat(np.arange(5), 300)
    order, bounds = post.reference_order(big, max_points=100)
    assert len(order) == 100 and len(np.unique(order)) == 100
    assert len(bounds) == 4


def test_coassignment_agreement():
    A = np.eye(3)
    B = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1.0]])
    a = post.coassignment_agreement(A, B)
    assert a["mean_abs"] == pytest.approx(1 / 3)
    assert a["max_abs"] == pytest.approx(1.0)
    assert post.coassignment_agreement(A, A)["mean_abs"] == 0.0


def test_exports():
    ref = post.reference_clustering(FLIP)
    pts = post.point_uncertainty(FLIP, ref)
    lines = exports.per_point_csv(pts).decode().strip().splitlines()
    assert lines[0].startswith("index,most_probable_cluster,probability,entropy_nats,cluster_mate_confidence")
    assert len(lines) == 1 + FLIP.shape[1]
    assert lines[7].split(",")[2] == "0.5"
    C = coassignment(FLIP)
    rows = exports.matrix_csv(C).decode().strip().splitlines()
    assert len(rows) == 8 and rows[0].split(",")[1:] == [str(j) for j in range(7)]
    np.testing.assert_allclose([float(v) for v in rows[7].split(",")[1:]], C[6], atol=1e-4)


def test_aligned_probabilities_and_total_variation():
    from gfncp.metrics import PartitionDistribution

    parts = all_partitions(3)
    p = PartitionDistribution.from_log_weights(parts, np.log([0.5, 0.2, 0.1, 0.1, 0.1]))
    q = PartitionDistribution.from_log_weights(parts[:2], np.log([0.5, 0.5]))
    labels, probs = post.aligned_probabilities({"p": p, "q": q}, k=3)
    np.testing.assert_array_equal(labels[0], parts[0])
    np.testing.assert_allclose(probs["p"], [0.5, 0.2, 0.1])
    np.testing.assert_allclose(probs["q"], [0.5, 0.5, 0.0])
    tv = post.total_variations(p, {"q": q, "p": p})
    assert tv["p"] == pytest.approx(0.0)
    assert tv["q"] == pytest.approx(0.5 * (0 + 0.3 + 0.1 + 0.1 + 0.1))


def test_clustering_table():
    rows = post.clustering_table({"a": np.array([0, 0, 1]), "b": np.array([0, 1, 2])},
                                 target=np.array([0, 0, 1]), seconds={"a": 0.5})
    assert rows[0] == {"method": "a", "K": 2, "NMI": 1.0, "seconds": 0.5}
    assert rows[1]["K"] == 3 and rows[1]["seconds"] is None


@pytest.mark.parametrize("name", ["gfncp-mog2d", "ncp-mog2d"])
def test_model_partition_distribution_sums_to_one(dev_models_dir, name):
    import torch

    import gfncp

    torch.set_num_threads(1)
    model = gfncp.load_pretrained(name, dev_models_dir)
    X, _ = gfncp.data.make_mog(6, dim=model.dim, seed=3)
    dist = model_partition_distribution(model, X, batch_size=64)
    assert len(dist) == 203                                   # Bell(6): every partition once
    assert len({row.tobytes() for row in dist.labels}) == 203
    assert dist.probs.sum() == pytest.approx(1.0, abs=1e-4)   # q itself, not renormalised
    assert np.all(np.diff(dist.log_probs) <= 0)
    # agrees with the model's own log q of every labelling (one teacher-forced pass each)
    brute = {row.tobytes(): model.log_prob(X, row) for row in all_partitions(6)}
    # float32: two summation orders of logits of size ~10 agree to ~1e-4 relative
    np.testing.assert_allclose(dist.log_probs, [brute[row.tobytes()] for row in dist.labels], atol=2e-3)
    with pytest.raises(ValueError):
        model_partition_distribution(model, np.zeros((10, model.dim)))


def test_sample_and_summarize_references(dev_models_dir):
    """The Uncertainty page's computation: samples in a seeded random order (the same seed gives
    the same summary), against the consensus, greedy or most-probable-sample reference."""
    import gfncp
    from gfncp import data
    from gfncp.posterior import sample_and_summarize

    gfn = gfncp.load_pretrained("gfncp-mog2d")
    X, _ = data.make_mog(40, seed=2)
    a = sample_and_summarize(gfn, X, 12, seed=5)
    b = sample_and_summarize(gfn, X, 12, seed=5)
    assert np.array_equal(a.reference, b.reference) and np.allclose(a.coassignment, b.coassignment)
    assert np.array_equal(a.reference, gfn.consensus(X, seed=5).labels)
    assert np.array_equal(sample_and_summarize(gfn, X, 12, seed=5, reference="greedy").reference, gfn.greedy(X))
    with pytest.raises(ValueError, match="reference"):
        sample_and_summarize(gfn, X, 12, seed=5, reference="best")
