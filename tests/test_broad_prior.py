"""The broad training prior and the per-feature standardisation that makes units not matter."""
import numpy as np
import pytest
import torch

from gfncp.broad_prior import BroadPrior, broad_batch, draw_set, make_broad, to_model_space
from gfncp.network import NetworkConfig, SetNetwork
from gfncp.inference import Greedy, run_policy
from gfncp.standardize import robust_standardize, robust_standardize_np


def test_batch_shapes_labels_and_padding():
    prior = BroadPrior()
    X, y = broad_batch(16, 60, np.random.default_rng(0), prior)
    assert X.shape == (16, 60, prior.model_dim) and X.dtype == np.float32
    assert y.shape == (16, 60) and np.all(np.isfinite(X))
    for row in y:                        # canonical: labels appear in order 0, 1, 2, ...
        first = [row.tolist().index(k) for k in range(row.max() + 1)]
        assert first == sorted(first)
        assert row.max() + 1 <= prior.k_max
    # low-dimensional tables leave trailing features zero
    assert np.any(np.all(X[:, :, -1] == 0, axis=1))


def test_prior_covers_its_ranges():
    """Dimensions span the whole range, separations from overlapping to far apart."""
    prior = BroadPrior()
    rng = np.random.default_rng(1)
    dims, ks = [], []
    for _ in range(300):
        X, y = draw_set(rng, prior, 80)
        dims.append(X.shape[1])
        ks.append(y.max() + 1)
    assert min(dims) == prior.dims[0] and max(dims) == prior.dims[1]
    assert min(ks) == 1 and max(ks) >= 6


def test_make_broad_is_seeded():
    a, la = make_broad(50, seed=7)
    b, lb = make_broad(50, seed=7)
    assert np.array_equal(a, b) and np.array_equal(la, lb)


def test_standardisation_numpy_and_torch_agree_and_ignore_units():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 5)) * [1, 10, 0.01, 3, 0] + [5, -2, 0, 1e3, 7]
    Z = robust_standardize_np(X)
    assert np.allclose(np.median(Z, axis=0), 0)
    assert np.all(Z[:, 4] == 0)                       # a constant feature stays at 0
    Zt = robust_standardize(torch.as_tensor(X[None]))[0].numpy()
    assert np.allclose(Z, Zt)
    scaled = X * [3.0, 0.001, 250.0, 1.0, 2.0] + [-4, 100, 3, 0, 1]
    assert np.allclose(robust_standardize_np(scaled), Z, atol=1e-9)


def test_standardisation_falls_back_when_the_iqr_is_zero():
    X = np.zeros((20, 1))
    X[:3] = 1.0                                       # IQR 0, std > 0
    Z = robust_standardize_np(X)
    assert np.isfinite(Z).all() and Z.max() > 0


def test_masked_standardisation_ignores_padding():
    X = torch.randn(1, 10, 3)
    mask = torch.tensor([[True] * 7 + [False] * 3])
    padded = X.clone()
    padded[0, 7:] = 1e6
    out = robust_standardize(padded, mask)
    assert torch.allclose(out[0, :7], robust_standardize(X[:, :7])[0], atol=1e-6)
    assert torch.all(out[0, 7:] == 0)


def test_model_answer_does_not_depend_on_units():
    """A standardising network gives the same greedy clustering and log q whatever the
    translation and the positive scale of each feature."""
    torch.manual_seed(0)
    net = SetNetwork(NetworkConfig(x_dim=4, h_dim=16, g_dim=16, hidden=16, depth=2, center="standardize")).eval()
    X, _ = make_broad(30, seed=3, prior=BroadPrior(dims=(4, 4), model_dim=4))
    moved = X * np.array([1e3, 0.02, 7.0, 1.0]) + np.array([-50.0, 3.0, 1e4, 0.5])
    with torch.inference_mode():
        a = run_policy(net, torch.as_tensor(X[None], dtype=torch.float32), Greedy())
        b = run_policy(net, torch.as_tensor(moved[None], dtype=torch.float32), Greedy())
    assert torch.equal(a.labels, b.labels)
    assert float(a.log_q[0]) == pytest.approx(float(b.log_q[0]), abs=1e-3)


def test_wide_tables_are_projected_after_standardising():
    X, _ = make_broad(60, seed=5, prior=BroadPrior(dims=(24, 24)))
    Z = to_model_space(X, 16)
    assert Z.shape == (60, 16)
    # projecting after standardising: rescaling one feature does not change the result
    X2 = X.copy()
    X2[:, 0] *= 1e4
    assert np.allclose(to_model_space(X2, 16), Z, atol=1e-8)


def test_class_like_partitions_and_crp_share():
    """Without CRP sets every partition has K in k_classes and no tiny class (each weight is at
    least min_share / K); with only CRP sets, K follows the CRP (one-cluster sets appear)."""
    from gfncp.broad_prior import draw_partition

    rng = np.random.default_rng(4)
    classes = BroadPrior(crp_share=0.0)
    ks = []
    for _ in range(200):
        y = draw_partition(rng, classes, 300)
        k = y.max() + 1
        ks.append(k)
        assert np.bincount(y).min() >= 0.5 * 300 * classes.min_share / k     # well above a few points
        assert y[0] == 0 and set(np.unique(y)) == set(range(k))            # canonical labels
    assert set(ks) == set(range(classes.k_classes[0], classes.k_classes[1] + 1))
    crp = [draw_partition(rng, BroadPrior(crp_share=1.0, alpha=(0.2, 0.2)), 50).max() + 1 for _ in range(100)]
    assert 1 in crp and max(crp) <= BroadPrior().k_max
