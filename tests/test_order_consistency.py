"""Order consistency: the swap-balance residual, the flow-level anchor (gfncp.losses) and
the reward's order-free posterior (gfncp.reward_posterior), on problems whose answer is known."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gfncp.losses import anchor_loss, swap_balance, swap_labels, swap_pairs, swap_residuals
from gfncp.network import NetworkConfig, SetNetwork
from gfncp.partitions import canonical_labels
from gfncp.teacher import TeacherForced, flow_residuals, teacher_forced


# -- a miniature problem: policies built from a state flow F(s) -----------------------------

def _log_eppf(labels, alpha=0.7):
    """log CRP probability of a partition (exchangeable: depends on the block sizes only)."""
    sizes = np.bincount(labels)
    n = len(labels)
    return (len(sizes) * math.log(alpha) + sum(math.lgamma(s) for s in sizes)
            + math.lgamma(alpha) - math.lgamma(alpha + n))


def _posterior_flow(points, labels, post_labels, post_probs):
    """Marginal posterior probability of a partial clustering: the assigned points `points`
    with (any-numbered) labels `labels`, summed over every full partition that restricts to it."""
    restricted = canonical_labels(post_labels[:, points])
    match = (restricted == canonical_labels(labels)).all(axis=1)
    return math.log(post_probs[match].sum())


def _policy_from_flows(log_flow, X_rows, labels, bias=None) -> TeacherForced:
    """A TeacherForced record whose option log-flows are log F(child state) for a state flow
    log_flow(assigned row indices, their labels). orders: rows of X in assignment order.
    bias(n, k, K_n) -> float added to an option's log-flow (an order-dependent distortion)."""
    B, N = labels.shape
    lab = labels.numpy()
    K = int(lab.max()) + 1
    flows = torch.full((B, N, K + 1), float("-inf"), dtype=torch.float64)
    for b in range(B):
        for n in range(N):
            k_n = int(lab[b, :n].max()) + 1 if n else 0
            for k in range(k_n + 1):
                trial = np.append(lab[b, :n], k)
                v = log_flow(X_rows[b, :n + 1], trial)
                flows[b, n, k] = v + (bias(n, k, k_n) if bias else 0.0)
    log_probs = torch.log_softmax(flows, dim=-1)
    step_mask = torch.ones(B, N, dtype=torch.bool)
    step_mask[:, 0] = False
    return TeacherForced(flows, log_probs, torch.zeros(B, dtype=torch.float64), labels, step_mask,
                         torch.full((B,), N - 1))


def _swapped_pair(rows: np.ndarray, labels: np.ndarray, offset: int):
    perm, first = swap_pairs(len(rows), offset)
    lab = torch.as_tensor(labels)[None]
    return rows[perm.numpy()][None], swap_labels(lab, perm), rows[None], lab, first


@pytest.mark.parametrize("offset", [0, 1])
def test_swap_pairs_are_disjoint_adjacent_and_labels_stay_canonical(offset):
    perm, first = swap_pairs(9, offset)
    assert first.tolist() == list(range(offset, 8, 2))
    assert sorted(perm.tolist()) == list(range(9))
    for i in first.tolist():
        assert perm[i] == i + 1 and perm[i + 1] == i
    moved = set(first.tolist()) | set((first + 1).tolist())
    assert all(perm[j] == j for j in range(9) if j not in moved)
    rng = np.random.default_rng(offset)
    y = canonical_labels(rng.integers(0, 4, size=(5, 9)))
    got = swap_labels(torch.as_tensor(y), perm).numpy()
    assert np.array_equal(got, canonical_labels(y[:, perm.numpy()]))


@pytest.mark.parametrize("offset", [0, 1])
def test_swap_residual_is_zero_for_exchangeable_policies(offset):
    """A CRP prior policy and the exact Bayesian posterior's policy (flows = marginal
    probability of the partial clustering) are exchangeable: d = 0 at every swapped pair."""
    from gfncp.references import exact_posterior

    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 2)) * 2.0
    post = exact_posterior(X)
    post_labels, post_probs = post.labels, post.probs
    truth = canonical_labels(np.array([0, 1, 0, 2, 1, 0]))
    order = rng.permutation(6)
    Xs, ys, Xo, yo, first = _swapped_pair(order, truth[order], offset)
    crp = lambda rows, lab: _log_eppf(canonical_labels(lab))                     # noqa: E731
    exact = lambda rows, lab: _posterior_flow(rows, lab, post_labels, post_probs)  # noqa: E731
    for flow in (crp, exact):
        d = swap_residuals(_policy_from_flows(flow, Xo, yo), _policy_from_flows(flow, Xs, ys), first)
        assert d.shape == (1, len(first))
        assert d.abs().max().item() < 1e-9
    # The same flows with an order-dependent preference for new clusters late in the order: d != 0.
    late_new = lambda n, k, k_n: 0.4 * n * (k == k_n)                            # noqa: E731
    d = swap_residuals(_policy_from_flows(crp, Xo, yo, late_new), _policy_from_flows(crp, Xs, ys, late_new), first)
    assert d.abs().max().item() > 0.05


def _tiny_net_and_batch(seed: int, batch: int, n: int):
    """An untrained 2-D set network and a batch X (batch, n, 2), random canonical labels (batch, n)."""
    torch.manual_seed(0)
    net = SetNetwork(NetworkConfig(x_dim=2, h_dim=16, g_dim=16, hidden=16, depth=2))
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.normal(size=(batch, n, 2)) * 3, dtype=torch.float32)
    y = torch.as_tensor(canonical_labels(rng.integers(0, 3, size=(batch, n))))
    return net, X, y


def test_swap_residual_of_a_network_is_the_difference_of_two_step_log_probabilities():
    net, X, y = _tiny_net_and_batch(seed=1, batch=3, n=8)
    perm, first = swap_pairs(8, 1)
    tf, tfs = teacher_forced(net, X, y), teacher_forced(net, X[:, perm], swap_labels(y, perm))
    d = swap_residuals(tf, tfs, first)
    lp, lps = tf.log_p_chosen, tfs.log_p_chosen
    for j, i in enumerate(first.tolist()):
        assert torch.allclose(d[:, j], lp[:, i] + lp[:, i + 1] - lps[:, i] - lps[:, i + 1], atol=1e-5)
    # an untrained network is not exchangeable; the loss is the mean square over the pairs
    assert d.abs().max() > 1e-3
    assert swap_balance(tf, tfs, first).item() == pytest.approx((d ** 2).mean().item(), rel=1e-6)
    # summed over the pairs, d is the difference of log q between the two orders
    assert torch.allclose(d.sum(1), tf.log_q - tfs.log_q, atol=1e-5)


def test_anchor_is_zero_at_the_consistent_levels_and_moves_only_the_flows():
    net, X, y = _tiny_net_and_batch(seed=2, batch=4, n=10)
    tf = teacher_forced(net, X, y)
    expected = ((tf.log_root ** 2 + (tf.log_reward - tf.log_q) ** 2) / 10).mean()
    assert anchor_loss(tf).item() == pytest.approx(expected.item(), rel=1e-6)
    # at the consistent levels (root 0, R = q) the anchor is 0; a root off by 1 nat costs 1/N
    ok = TeacherForced(tf.log_flows, tf.log_probs, torch.zeros(4), tf.labels, tf.step_mask, tf.last)
    lf = ok.log_flows.clone()
    lf[torch.arange(4), tf.last, tf.labels[torch.arange(4), tf.last]] = tf.log_q
    ok = TeacherForced(lf, tf.log_probs, torch.zeros(4), tf.labels, tf.step_mask, tf.last)
    assert anchor_loss(ok).item() == pytest.approx(0.0, abs=1e-10)
    off = TeacherForced(lf, tf.log_probs, torch.ones(4), tf.labels, tf.step_mask, tf.last)
    assert anchor_loss(off).item() == pytest.approx(0.1, rel=1e-6)
    # the stop-gradient: no gradient reaches the policy's log-probabilities through log q
    log_probs = tf.log_probs.detach().requires_grad_(True)
    probe = TeacherForced(tf.log_flows.detach().requires_grad_(True), log_probs, tf.log_root.detach(),
                          tf.labels, tf.step_mask, tf.last)
    anchor_loss(probe).backward()
    assert log_probs.grad is None or log_probs.grad.abs().max() == 0
    assert probe.log_flows.grad.abs().max() > 0


def test_training_on_the_anchor_closes_the_flow_gap():
    """Minimising the anchor alone on a tiny network drives log F(root) to 0 and log R to log q,
    so the summed flow residual sum_n r_n = log q - (log R - log F(root)) goes to 0."""
    torch.manual_seed(0)
    net = SetNetwork(NetworkConfig(x_dim=2, h_dim=16, g_dim=16, hidden=16, depth=3))
    rng = np.random.default_rng(4)
    X = torch.as_tensor(rng.normal(size=(8, 12, 2)) * 4, dtype=torch.float32)
    y = torch.as_tensor(canonical_labels(rng.integers(0, 3, size=(8, 12))))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gap0 = flow_residuals(teacher_forced(net, X, y)).sum(1).abs().mean().item()
    for _ in range(300):
        loss = anchor_loss(teacher_forced(net, X, y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tf = teacher_forced(net, X, y)
    gap = flow_residuals(tf).sum(1).abs().mean().item()
    assert gap < 0.03 * gap0 and gap < 0.3
    assert tf.log_root.abs().max().item() < 0.3


def test_swap_and_anchor_flags_train_both_models(tmp_path):
    from gfncp.train import main, read_log
    for model, extra in (("gfncp", ["--swap", "1", "--anchor", "0.5", "--swap-policy", "1"]),
                         ("ncp", ["--swap", "1", "--swap-policy", "1"])):
        main(["--preset", "tiny", "--model", model, "--iters", "8", "--out", str(tmp_path), "--no-progress",
              "--run-name", model, *extra])
        rows = read_log(tmp_path / model / "log.csv")
        assert np.isfinite(rows[-1]["swap"]) and rows[-1]["swap"] >= 0
        assert np.isfinite(rows[-1]["swap_policy"]) and rows[-1]["swap_policy"] >= 0
        if model == "gfncp":
            assert np.isfinite(rows[-1]["anchor"]) and rows[-1]["anchor"] >= 0


# -- the reward's order-free posterior --------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_gfncp():
    from gfncp.clusterer import Clusterer
    torch.manual_seed(5)
    net = SetNetwork(NetworkConfig(x_dim=2, h_dim=16, g_dim=16, hidden=16, depth=3))
    for p in net.parameters():
        p.requires_grad_(False)
    return Clusterer(net, "gfncp", name="tiny")


def test_reward_log_weights_are_the_terminal_log_flows_in_any_order(tiny_gfncp):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 2)) * 3
    labels = canonical_labels(rng.integers(0, 3, size=(5, 7)))
    from gfncp.reward_posterior import reward_log_weights
    log_r = reward_log_weights(tiny_gfncp, X, labels)
    for row, lr in zip(labels, log_r):
        for order in (np.arange(7), rng.permutation(7)):
            terms = tiny_gfncp.flow_terms(X, row, [order])
            assert terms["log_reward"][0] == pytest.approx(lr, abs=1e-4)


def test_exact_reward_posterior_is_normalised_and_order_invariant(tiny_gfncp):
    """p_R depends on the set, not on the order of its rows: permuting X permutes p_R's
    partitions accordingly, with the same probabilities; q does not have this property."""
    from gfncp.model_distribution import model_partition_distribution
    from gfncp.reward_posterior import exact_reward_posterior
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 2)) * 3
    p = exact_reward_posterior(tiny_gfncp, X)
    assert p.method == "exact" and len(p.distribution) == 203
    assert p.distribution.probs.sum() == pytest.approx(1.0, abs=1e-9)
    assert p.log_prob(tiny_gfncp, X, p.distribution.labels[0]) == pytest.approx(p.distribution.log_probs[0], abs=1e-5)
    worst_q = 0.0
    for _ in range(3):
        order = rng.permutation(6)
        p2 = exact_reward_posterior(tiny_gfncp, X[order]).distribution.as_dict()
        # the partition c of X's rows is the partition c[order] of X[order]'s rows
        for row, prob in zip(p.distribution.labels, p.distribution.probs):
            key = canonical_labels(row[order]).tobytes()
            assert p2[key] == pytest.approx(prob, rel=1e-4, abs=1e-9)
        q1 = model_partition_distribution(tiny_gfncp, X).as_dict()
        q2 = model_partition_distribution(tiny_gfncp, X[order]).as_dict()
        worst_q = max(worst_q, max(abs(q2[canonical_labels(np.frombuffer(k, dtype=np.int64)[order]).tobytes()] - v)
                                   for k, v in q1.items()))
    assert worst_q > 1e-3               # the untrained policy q is order-dependent; p_R is not


def test_importance_sampled_reward_posterior_converges_to_the_exact_one(tiny_gfncp):
    from gfncp.metrics import total_variation
    from gfncp.reward_posterior import exact_reward_posterior, importance_weights, reward_posterior
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 2)) * 3
    exact = exact_reward_posterior(tiny_gfncp, X)
    from gfncp.reward_posterior import sampled_reward_posterior
    est = sampled_reward_posterior(tiny_gfncp, X, n_samples=4000, seed=0)
    assert est.method == "importance" and 1.0 <= est.ess <= 4000
    assert est.ess > 200
    assert total_variation(exact.distribution.as_dict(), est.distribution.as_dict()) < 0.08
    assert est.log_z == pytest.approx(exact.log_z, abs=0.1)
    assert reward_posterior(tiny_gfncp, X).method == "exact"
    # ESS: equal weights give S, one dominant weight gives ~1
    w, ess, _ = importance_weights(np.zeros(10), np.zeros(10))
    assert ess == pytest.approx(10) and w.sum() == pytest.approx(1.0)
    _, ess, _ = importance_weights(np.array([50.0, 0, 0, 0]), np.zeros(4))
    assert ess == pytest.approx(1.0, abs=1e-6)


def test_reward_posterior_needs_a_gfncp(tiny_gfncp):
    from gfncp.clusterer import Clusterer
    from gfncp.reward_posterior import reward_posterior
    ncp = Clusterer(tiny_gfncp.net, "ncp", name="tiny-ncp")
    with pytest.raises(ValueError, match="Only a GFNCP"):
        reward_posterior(ncp, np.zeros((4, 2)))


# -- neutral measures (gfncp.invariance) ------------------------------------------------------

def test_order_tv_and_residual_spread_hand_computed():
    from gfncp import invariance as inv
    P = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    tv = inv.order_tv(P)
    # pairs: (0,1) 0, (0,2) 0.5, (1,2) 0.5
    assert tv["mean"] == pytest.approx(1 / 3) and tv["matrix"][0, 2] == pytest.approx(0.5)
    assert inv.order_tv(P[:1])["mean"] == 0.0
    # log q = -10, -11; log R - log F(root) = -4 - 6 = -10 in both orders: residual sums 0 and -1
    res = inv.residual_sum_spread([-10.0, -11.0], [-4.0, -4.0], [6.0, 6.0])
    assert res["sum"].tolist() == pytest.approx([0.0, -1.0])
    assert res["std"] == pytest.approx(0.5) and res["range"] == pytest.approx(1.0) and res["level"] == pytest.approx(-0.5)
    # a constant offset is a level, not a spread
    flat = inv.residual_sum_spread([-10.0, -10.0], [-40.0, -40.0], [6.0, 6.0])
    assert flat["std"] == 0.0 and flat["level"] == pytest.approx(36.0)
    assert "around a level of 36 nats" in inv.describe_residual_spread(flat, 2)


def test_exact_order_distributions_are_q_over_all_partitions_in_each_order(tiny_gfncp):
    from gfncp import invariance as inv
    from gfncp.partitions import partition_key
    from gfncp.model_distribution import model_partition_distribution
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5, 2)) * 3
    orders = np.stack([np.arange(5), rng.permutation(5), rng.permutation(5)])
    labels, P = inv.exact_order_distributions(tiny_gfncp, X, orders)
    assert labels.shape == (52, 5) and P.shape == (3, 52)
    assert np.allclose(P.sum(axis=1), 1.0, atol=1e-5)
    q0 = model_partition_distribution(tiny_gfncp, X).as_dict()
    assert np.allclose(P[0], [q0[partition_key(row)] for row in labels], atol=1e-7)
    # P[r, m] is q of partition m (of X's rows) with the points fed in order r
    for r in (1, 2):
        for m in (0, 7, 51):
            lq = tiny_gfncp.log_prob(X, labels[m], order=orders[r])
            assert P[r, m] == pytest.approx(math.exp(lq), rel=1e-4)
    assert inv.order_tv(P)["mean"] > 1e-4                      # an untrained policy depends on the order
    with pytest.raises(ValueError):
        inv.exact_order_distributions(tiny_gfncp, rng.normal(size=(9, 2)), orders[:, :1])


def test_same_clustering_spreads_score_every_clustering_with_every_model(tiny_gfncp):
    from gfncp import invariance as inv
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 2)) * 3
    orders = inv.random_orders(10, 4, 0)
    cl = {"a": canonical_labels(rng.integers(0, 3, 10)), "b": np.zeros(10, dtype=int)}
    out = inv.same_clustering_spreads({"m1": tiny_gfncp}, X, cl, orders)
    assert set(out) == {"a", "b"}
    assert out["a"]["m1"] == pytest.approx(tiny_gfncp.log_prob_orders(X, cl["a"], orders).std())


def test_order_distributions_figure_has_one_bar_per_order_and_model():
    from gfncp.figures.invariance import order_distributions_figure
    P = {"GFNCP": np.full((3, 15), 1 / 15), "NCP": np.full((3, 15), 1 / 15)}
    fig = order_distributions_figure(P, top=10, p_reward=np.full(15, 1 / 15), tv_by_model={"GFNCP": 0.0, "NCP": 0.1})
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 6 and all(len(b.x) == 10 for b in bars)
    assert sum(bool(b.showlegend) for b in bars) == 3                 # one legend entry per order
    assert any(t.type == "scatter" and t.name.startswith("p_R") for t in fig.data)
    assert "mean TV between orders 0.100" in fig.layout.annotations[1].text


# -- the Order-invariance page: exact distributions and p_R on a tiny set ---------------------

PAGE = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "pages" / "order_invariance.py")


def test_order_page_shows_exact_distributions_and_reward_posterior_on_a_tiny_set(dev_models_dir):
    from streamlit.testing.v1 import AppTest

    import gfncp
    from gfncp.ui import state
    from gfncp.ui.state import Dataset

    state.load_model.clear()
    X, y = gfncp.data.make_mog(6, dim=2, seed=11)
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["dataset"] = Dataset("tiny labelled set", X, y, "generated")
    at.session_state["inv_n_orders"] = 5
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    text = "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])
    assert "The whole distribution over clusterings, order by order" in "\n".join(h.value for h in at.header)
    assert "exact over all 203 partitions" in text and "log p_R" in text
    assert "Mean total variation between the 5 orders: GFNCP" in text
    assert "summed flow residual" in text
    # the same clusterings scored by both models, on request
    n_tables = len(at.table)
    at.toggle(key="inv_all_scored").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.table) == n_tables + 1
    table = next(t.value for t in at.table if "the truth" in list(t.value.index))
    assert list(table.index) == ["the truth", "GFNCP's greedy clustering", "NCP's greedy clustering"]
    assert list(table.columns) == ["GFNCP std (nats)", "NCP std (nats)", "lower"]


UNC_PAGE = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "pages" / "uncertainty.py")


@pytest.mark.parametrize("n_points", [6, 25])
def test_uncertainty_page_offers_the_reward_posterior(dev_models_dir, n_points):
    """Exact p_R (with its TV to the exact posterior) on a tiny set; importance-sampled with its ESS beyond."""
    from streamlit.testing.v1 import AppTest

    import gfncp
    from gfncp.ui import state
    from gfncp.ui.state import Dataset

    state.load_model.clear()
    X, y = gfncp.data.make_mog(n_points, dim=2, seed=12)
    at = AppTest.from_file(UNC_PAGE, default_timeout=240)
    at.session_state["dataset"] = Dataset(f"labelled set of {n_points}", X, y, "generated")
    at.session_state["unc_S"] = 20
    at.run()
    assert not at.exception, at.exception
    at.checkbox(key="unc_reward").check().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    captions = "\n".join(c.value for c in at.caption)
    labels = [m.label for m in at.metric]
    if n_points <= 9:
        assert "exact over all 203 partitions" in captions
        assert "Total variation GFNCP p_R ↔ exact" in labels
    else:
        assert "effective sample size" in captions and "of 20" in captions
        assert "Total variation GFNCP p_R ↔ exact" not in labels
