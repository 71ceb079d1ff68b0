"""Acceptance tests of the set network, the teacher-forced pass and the inference loop
(docs/method.md §Checks). Untrained networks in float64: the identities hold for any weights."""
import itertools

import numpy as np
import pytest
import torch

from gfncp.clusterer import Clusterer
from gfncp.inference import Beam, Forced, Greedy, Sample, run_policy
from gfncp.losses import LossWeights, clean_loss, paper_fm_terms, paper_loss
from gfncp.network import NetworkConfig, SetNetwork
from gfncp.partitions import all_partitions, canonical_labels
from gfncp.teacher import flow_residuals, log_reward, teacher_forced


@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    with torch.no_grad():
        yield
    torch.set_default_dtype(old)


def make_net(x_dim=2, seed=0, **kw):
    torch.manual_seed(seed)
    cfg = NetworkConfig(x_dim=x_dim, h_dim=16, g_dim=24, hidden=20, depth=3, **kw)
    return SetNetwork(cfg).double().eval()


def naive_step_log_flows(net, X, labels, n):
    """Reference: log-flows of every option at step n, straight from the definition
    (explicit cluster sets, no prefix sums). X (N, d) tensor, labels (N,) canonical."""
    Xc = net.preprocess(X[None])[0]
    h, q = net.h(Xc), net.q(Xc)
    K = int(labels[:n].max()) + 1 if n > 0 else 0
    clusters = [[i for i in range(n) if labels[i] == k] for k in range(K)]
    U = sum((q[i] for i in range(n + 1, len(X))), torch.zeros(net.config.h_dim))
    out = []
    for k in range(K + 1):
        members = [c + ([n] if j == k else []) for j, c in enumerate(clusters)]
        if k == K:
            members.append([n])
        G = sum(net.g(sum(h[i] for i in m)) for m in members)
        out.append(net.head(G, U))
    return torch.stack(out)


def random_labels(rng, n, k_max=4):
    return canonical_labels(rng.integers(0, k_max, size=n))


def test_parallel_pass_equals_naive_reference():
    rng = np.random.default_rng(0)
    for skip in (True, False):
        net = make_net(skip_head=skip)
        for _ in range(4):
            N = int(rng.integers(2, 13))
            X = torch.as_tensor(rng.normal(size=(N, 2)) * 3)
            labels = torch.as_tensor(random_labels(rng, N))
            tf = teacher_forced(net, X[None], labels[None])
            log_q = 0.0
            for n in range(1, N):
                ref = naive_step_log_flows(net, X, labels, n)
                K1 = len(ref)
                assert torch.allclose(tf.log_flows[0, n, :K1], ref, atol=1e-6)
                assert torch.isinf(tf.log_flows[0, n, K1:]).all()
                log_q += torch.log_softmax(ref, 0)[labels[n]]
            assert abs(tf.log_q.item() - float(log_q)) < 1e-6


def test_sequential_loop_matches_parallel_pass():
    rng = np.random.default_rng(1)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(3, 11, 2)) * 4)
    labels = torch.as_tensor(np.stack([random_labels(rng, 11) for _ in range(3)]))
    tf = teacher_forced(net, X, labels)
    res = run_policy(net, X, Forced(labels))
    assert torch.allclose(res.log_q, tf.log_q, atol=1e-9)
    assert torch.allclose(res.log_reward, tf.log_reward, atol=1e-9)
    assert torch.allclose(res.log_root, tf.log_root, atol=1e-9)
    assert torch.allclose(log_reward(net, X, labels), tf.log_reward, atol=1e-9)


def test_step_probabilities_sum_to_one_and_masked_options_get_zero():
    rng = np.random.default_rng(2)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(4, 9, 2)))
    labels = torch.as_tensor(np.stack([random_labels(rng, 9, 5) for _ in range(4)]))
    tf = teacher_forced(net, X, labels)
    p = tf.log_probs.exp()
    assert torch.allclose(p.sum(-1), torch.ones(4, 9), atol=1e-12)
    n_prev = torch.cat([torch.zeros(4, 1, dtype=torch.long), labels.cummax(1).values[:, :-1] + 1], 1)
    invalid = torch.arange(p.shape[-1]) > n_prev[..., None]
    assert (p[invalid] == 0).all()


def test_padding_rows_give_identical_results():
    rng = np.random.default_rng(3)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(2, 7, 2)) * 3)
    labels = torch.as_tensor(np.stack([random_labels(rng, 7) for _ in range(2)]))
    ref = teacher_forced(net, X, labels)
    Xp = torch.cat([X, torch.full((2, 3, 2), 99.0)], 1)
    lp = torch.cat([labels, torch.zeros(2, 3, dtype=torch.long)], 1)
    mask = torch.arange(10)[None].expand(2, 10) < 7
    tf = teacher_forced(net, Xp, lp, mask)
    assert torch.allclose(tf.log_q, ref.log_q) and torch.allclose(tf.log_reward, ref.log_reward)
    assert torch.allclose(tf.log_root, ref.log_root)


def test_energies_invariant_to_order_inside_clusters_and_unassigned_set():
    rng = np.random.default_rng(4)
    net = make_net()
    N, n = 10, 5
    X = torch.as_tensor(rng.normal(size=(N, 2)) * 3)
    labels = torch.as_tensor(random_labels(rng, N, 3))
    base = naive_step_log_flows(net, X, labels, n)
    # permute the already-assigned points among themselves, keeping the canonical labels'
    # cluster identity (relabel afterwards), and the unassigned points among themselves
    perm_assigned = rng.permutation(n)
    perm_unassigned = n + 1 + rng.permutation(N - n - 1)
    order = np.concatenate([perm_assigned, [n], perm_unassigned])
    new_labels = labels[order].numpy()
    relabel = canonical_labels(new_labels[:n])
    mapping = {old: new for old, new in zip(new_labels[:n], relabel)}
    new_labels[:n] = relabel
    out = naive_step_log_flows(net, X[order], torch.as_tensor(new_labels), n)
    K = len(base) - 1
    # option "join old cluster j" is now "join cluster mapping[j]"
    perm = [mapping[j] for j in range(K)] + [K]
    assert torch.allclose(out[perm], base, atol=1e-9)
    # the terminal energy depends on the partition only
    full = torch.as_tensor(rng.permutation(N))
    a = log_reward(net, X[None], labels[None])
    b = log_reward(net, X[full][None], torch.as_tensor(canonical_labels(labels[full].numpy()))[None])
    assert torch.allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("N", [4, 6])
def test_q_sums_to_one_over_all_partitions_in_every_order(N):
    rng = np.random.default_rng(N)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(N, 2)) * 2)
    parts = all_partitions(N)
    orders = list(itertools.permutations(range(N)))[:: max(1, len(list(itertools.permutations(range(N)))) // 12)]
    for order in orders:
        order = np.array(order)
        labels = torch.as_tensor(np.stack([canonical_labels(p[order]) for p in parts]))
        tf = teacher_forced(net, X[order][None].expand(len(parts), N, 2), labels)
        assert abs(tf.log_q.exp().sum().item() - 1.0) < 1e-10


def test_flow_residuals_sum_to_consistency_gap():
    rng = np.random.default_rng(5)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(3, 9, 2)))
    labels = torch.as_tensor(np.stack([random_labels(rng, 9) for _ in range(3)]))
    tf = teacher_forced(net, X, labels)
    r = flow_residuals(tf)
    gap = tf.log_q - (tf.log_reward - tf.log_root)
    assert torch.allclose(r.sum(1), gap, atol=1e-10)
    # by hand for row 0
    lf = tf.log_flows[0]
    chosen = [lf[n, labels[0, n]] for n in range(9)]
    assert torch.isclose(r[0, 1], tf.log_root[0] - torch.logsumexp(lf[1], 0))
    for n in range(2, 9):
        assert torch.isclose(r[0, n], chosen[n - 1] - torch.logsumexp(lf[n], 0))


def test_paper_fm_terms_match_hand_derivation():
    rng = np.random.default_rng(6)
    net = make_net()
    N = 8
    X = torch.as_tensor(rng.normal(size=(1, N, 2)))
    labels = torch.as_tensor(random_labels(rng, N))[None]
    tf = teacher_forced(net, X, labels)
    a, b = paper_fm_terms(tf)
    lf = tf.log_flows[0]
    for n in range(1, N):
        valid = torch.isfinite(lf[n])
        ln = lf[n][valid]
        exp_a = 0.0 if n == 1 else float(lf[n - 1, labels[0, n - 1]] - lf[n - 1][torch.isfinite(lf[n - 1])].max())
        exp_b = float(torch.log(torch.exp(ln).sum())) if n == N - 1 else float(torch.log(torch.exp(ln - ln.max()).sum()))
        assert abs(a[0, n].item() - exp_a) < 1e-10
        assert abs(b[0, n].item() - exp_b) < 1e-10
        if n < N - 1:
            assert a[0, n] <= 1e-12 and b[0, n] >= -1e-12
    loss, stats = paper_loss(tf, LossWeights(nll=0.0), log_reward(net, X, labels))
    assert torch.isfinite(loss) and stats["cd"] == pytest.approx(0.0, abs=1e-12)


def test_clean_loss_gradients_reach_root_energy():
    rng = np.random.default_rng(7)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(2, 8, 2)))
    labels = torch.as_tensor(np.stack([random_labels(rng, 8) for _ in range(2)]))
    with torch.enable_grad():
        loss, stats = clean_loss(teacher_forced(net, X, labels), LossWeights(fm=1.0))
        loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    assert stats["gap"] >= 0


def test_selectors_greedy_sample_beam():
    rng = np.random.default_rng(8)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(7, 2)) * 3)
    greedy = run_policy(net, X, Greedy())
    beam = run_policy(net, X, Beam(width=50))
    parts = torch.as_tensor(all_partitions(7))
    exact = teacher_forced(net, X[None].expand(len(parts), 7, 2), parts).log_q
    # a wide enough beam finds the exact mode, which is at least as good as greedy
    assert abs(beam.log_q[0].item() - exact.max().item()) < 1e-9
    assert beam.log_q[0] >= greedy.log_q[0] - 1e-12
    # ancestral samples: frequencies follow q
    gen = torch.Generator().manual_seed(0)
    s = run_policy(net, X[:4], Sample(4000, gen))
    p4 = torch.as_tensor(all_partitions(4))
    q4 = teacher_forced(net, X[:4][None].expand(len(p4), 4, 2), p4).log_q.exp()
    counts = np.array([(s.labels == p).all(1).sum().item() for p in p4]) / 4000
    assert np.abs(counts - q4.numpy()).max() < 0.03
    lookup = {tuple(p.tolist()): v for p, v in zip(p4, teacher_forced(net, X[:4][None].expand(len(p4), 4, 2), p4).log_q)}
    assert all(abs(lookup[tuple(l.tolist())] - lq) < 1e-9 for l, lq in zip(s.labels[:50], s.log_q[:50]))


def test_clusterer_orders_and_validation():
    torch.set_default_dtype(torch.float32)
    net = make_net().float()
    model = Clusterer(net, kind="gfncp", name="test")
    rng = np.random.default_rng(9)
    X = rng.normal(size=(12, 2)) * 5
    labels = model.greedy(X)
    assert labels[0] == 0 and len(labels) == 12
    order = rng.permutation(12)
    # log_prob under an order equals log_prob of the permuted data with permuted labels
    a = model.log_prob(X, labels, order=order)
    b = model.log_prob(X[order], canonical_labels(labels[order]))
    assert abs(a - b) < 1e-4
    lab_r, lq_r = model.greedy_orders(X, [np.arange(12), order])
    assert np.array_equal(lab_r[0], labels)
    assert np.array_equal(lab_r[1], model.greedy(X, order=order))
    assert abs(lq_r[1] - model.log_prob(X, lab_r[1], order=order)) < 1e-4
    s = model.sample(X, n_samples=20, seed=3)
    assert s.labels.shape == (20, 12) and np.array_equal(s.labels, model.sample(X, 20, seed=3).labels)
    d = s.distinct()
    assert d.counts.sum() == 20 and len(np.unique(d.labels, axis=0)) == len(d.labels)
    tr = model.trace(X, order=order)
    assert np.array_equal(tr.labels, model.greedy(X, order=order))
    assert all(abs(p.sum() - 1) < 1e-5 for p in tr.probs)
    assert abs(tr.log_q[-1] - model.log_prob(X, tr.labels, order=order)) < 1e-3
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        model.greedy(np.zeros(5))
    with pytest.raises(ValueError, match="expects 2"):
        model.greedy(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.greedy(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="permutation"):
        model.greedy(X, order=np.zeros(12, dtype=int))


def test_prelu_matches_torch_prelu_with_gradients():
    """The network's PReLU (leaky-ReLU kernels) equals torch's PReLU: values and both gradients."""
    from torch import nn

    from gfncp.network import PReLU, _ScalarPReLU

    x = torch.randn(40, 6, dtype=torch.float64, requires_grad=True)
    ours, ref = PReLU().double(), nn.PReLU().double()
    with torch.no_grad():
        ours.weight.fill_(0.3)
        ref.weight.fill_(0.3)
        torch.testing.assert_close(ours(x), ref(x))                  # the no-autograd path
    with torch.enable_grad():                                          # this module's tests run under no_grad
        slope = torch.full((1,), 0.3, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(_ScalarPReLU.apply, (x, slope))
        y_ours, y_ref = ours(x), ref(x)
        torch.testing.assert_close(y_ours, y_ref)
        g = torch.randn_like(y_ref)
        gx_ours, gw_ours = torch.autograd.grad(y_ours, (x, ours.weight), g)
        gx_ref, gw_ref = torch.autograd.grad(y_ref, (x, ref.weight), g)
    torch.testing.assert_close(gx_ours, gx_ref)
    torch.testing.assert_close(gw_ours, gw_ref)
    assert set(ours.state_dict()) == set(ref.state_dict())


def test_sampled_chains_sharing_states_keep_their_own_bookkeeping():
    """Chains in the same state share network rows (inference.run_policy); every chain's
    log q, log R and labels must still be its own: compare each with teacher forcing, for one
    shared order and for one order per chain."""
    rng = np.random.default_rng(12)
    net = make_net()
    X = torch.as_tensor(rng.normal(size=(10, 2)) * 3)
    gen = torch.Generator().manual_seed(1)
    res = run_policy(net, X, Sample(300, gen))
    assert len({tuple(r.tolist()) for r in res.labels}) > 5          # several distinct paths
    tf = teacher_forced(net, X[None].expand(300, 10, 2), res.labels)
    torch.testing.assert_close(res.log_q, tf.log_q, atol=1e-9, rtol=0)
    torch.testing.assert_close(res.log_reward, tf.log_reward, atol=1e-9, rtol=0)
    orders = torch.stack([torch.randperm(10, generator=gen) for _ in range(3)]).repeat(20, 1)   # 60 chains
    res = run_policy(net, X[orders], Sample(60, gen))
    tf = teacher_forced(net, X[orders], res.labels)
    torch.testing.assert_close(res.log_q, tf.log_q, atol=1e-9, rtol=0)
