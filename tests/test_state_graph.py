"""The GFlowNet state graph of tiny sets (gfncp/state_graph.py) against the model's own loop."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gfncp
from gfncp import references as refs
from gfncp import state_graph as sg
from gfncp.partitions import all_partitions, canonical_labels


@pytest.fixture(scope="module")
def models(dev_models_dir):
    return {kind: gfncp.load_pretrained(f"{kind}-mog2d") for kind in ("gfncp", "ncp")}


def _set(n, seed=3):
    X, _ = gfncp.data.make_mog(n, dim=2, seed=seed)
    return X


def test_state_counts_are_bell_numbers():
    # sum_k C(n, k) Bell(k) = Bell(n + 1): 1, 2, 5, 15, 52, 203
    assert [sg.n_states(n) for n in range(6)] == [1, 2, 5, 15, 52, 203]
    states = sg.enumerate_states(4)
    assert len(states) == 52 and len(set(states)) == 52
    assert states[0] == ()                                       # the root first
    assert sum(1 for s in states if sum(map(len, s)) == 4) == 15  # Bell(4) terminals


def test_four_point_graph_has_every_state_and_edge(models):
    g = sg.state_graph(models["gfncp"], _set(4))
    assert g.n_states == 52
    assert len(g.terminals) == 15
    assert g.log_flow[g.root] == 0.0                              # relative to the root
    # every state but the root is reached, and an edge adds exactly one point
    reached = {c for _, c, _ in g.edges}
    assert reached == set(range(1, 52))
    for parent, child, point in g.edges:
        assert g.layer[child] == g.layer[parent] + 1
        before = {p for b in g.states[parent] for p in b}
        after = {p for b in g.states[child] for p in b}
        assert after - before == {point}
    # the options offered for one point sum to probability 1
    for (s, p), kids in g.children.items():
        assert math.isclose(sum(g.edge_prob(s, c) for c in kids), 1.0, rel_tol=1e-12)
        assert len(kids) == len(g.states[s]) + 1                  # each cluster, or a new one
    # terminals have no residual; every other state has one for each point still waiting
    for s in range(g.n_states):
        waiting = 4 - g.layer[s]
        assert np.sum(np.isfinite(g.residual[s])) == waiting


@pytest.mark.parametrize("kind", ["gfncp", "ncp"])
def test_every_path_reproduces_the_models_log_q(models, kind):
    """Along any path (every order, every clustering), the sum of edge log-probabilities and the
    flows-plus-residuals identity both give the model's own log q of that path."""
    model = models[kind]
    X = _set(4)
    g = sg.state_graph(model, X)
    orders = np.array(list(itertools.permutations(range(4))))
    labels = all_partitions(4)
    model_lq = np.stack([model.log_prob_orders(X, lab, orders) for lab in labels])   # (15, 24)
    for t, lab in enumerate(labels):
        for r, order in enumerate(orders):
            by_edges = g.path_log_q(order, lab)
            by_flows = g.path_log_q_from_flows(order, lab)
            assert by_flows == pytest.approx(by_edges, abs=1e-9)
            assert by_edges == pytest.approx(model_lq[t, r], abs=2e-3, rel=1e-5)
    # terminal_log_q is the same table, rows in the order of g.terminals
    orders2, table = g.terminal_log_q()
    assert np.array_equal(orders2, orders)
    for row, s in enumerate(g.terminals):
        t = [i for i, lab in enumerate(labels) if np.array_equal(canonical_labels(g.labels_of(int(s))), lab)][0]
        np.testing.assert_allclose(table[row], model_lq[t], atol=2e-3, rtol=1e-5)
    # q sums to 1 over the terminals in every order
    np.testing.assert_allclose(np.exp(table).sum(axis=0), 1.0, atol=1e-9)


def test_edge_probabilities_are_the_traces_step_probabilities(models):
    model = models["gfncp"]
    X = _set(5, seed=11)
    g = sg.state_graph(model, X)
    assert g.n_states == 203
    rng = np.random.default_rng(0)
    for _ in range(4):
        order = rng.permutation(5)
        tr = model.trace(X, order=order)
        path = g.path(order, tr.labels)
        for n in range(1, 5):
            p = g.edge_prob(path[n], path[n + 1])
            assert p == pytest.approx(tr.probs[n][tr.choice[n]], abs=1e-4)
            # the trace's own flow into the state, relative to the root, is the graph's
            assert g.log_flow[path[n + 1]] == pytest.approx(tr.log_flows[n][tr.choice[n]] - tr.log_root, abs=2e-3)
        assert g.path_log_q(order, tr.labels) == pytest.approx(tr.log_q[-1], abs=2e-3)
        # residuals along the path: flow out vs flow in of the trace (log units)
        res = g.path_residuals(order, tr.labels)
        for n in range(2, 5):
            li = tr.log_flow_in[n]
            lo = np.log(np.sum(np.exp(tr.log_flows[n] - tr.log_flows[n].max()))) + tr.log_flows[n].max()
            assert res[n] == pytest.approx(li - lo, abs=2e-3)


def test_flow_matching_means_order_free_q():
    """Flows that match everywhere (F(s) = the reward mass of every clustering that extends s, for a
    set-level reward) have zero residuals, and then q of a clustering is R / F(root) in every order."""
    n = 4
    states = sg.enumerate_states(n)
    terminals = [s for s in states if sum(map(len, s)) == n]

    def log_reward(blocks):                  # any function of the finished clustering
        return -1.3 * len(blocks) + 0.2 * sum(len(b) ** 2 for b in blocks)

    def restricted(t, assigned):
        return tuple(sorted(tuple(p for p in b if p in assigned) for b in t if set(b) & assigned))

    raw = []
    for s in states:
        assigned = {p for b in s for p in b}
        raw.append(sg._lse([log_reward(t) for t in terminals if restricted(t, assigned) == s]))
    g = sg.graph_from_log_flows("gfncp", n, raw)
    finite = g.residual[np.isfinite(g.residual)]
    assert finite.size and np.abs(finite).max() < 1e-12
    _, table = g.terminal_log_q()
    np.testing.assert_allclose(table - table[:, :1], 0.0, atol=1e-12)      # the same in every order
    for row, s in enumerate(g.terminals):
        assert table[row, 0] == pytest.approx(g.log_flow[s])                # log R - log F(root)

    # break one flow: the residuals say where, and q starts to depend on the order
    raw2 = np.array(raw)
    raw2[g.index[((0,), (1,))]] += 1.0
    g2 = sg.graph_from_log_flows("gfncp", n, raw2)
    assert np.nanmax(np.abs(g2.residual)) > 0.1
    _, table2 = g2.terminal_log_q()
    assert np.ptp(table2, axis=1).max() > 0.01


def test_exact_posterior_lines_up_with_terminals(models):
    X = _set(4)
    g = sg.state_graph(models["gfncp"], X)
    post = refs.exact_posterior(X, alpha=0.7, sigma=1.0, lam=10.0)
    lp = sg.exact_terminal_log_probs(g, post)
    assert lp.shape == (15,)
    assert np.exp(lp).sum() == pytest.approx(1.0)
    best = g.terminals[int(np.argmax(lp))]
    assert np.array_equal(canonical_labels(g.labels_of(int(best))), post.labels[0])


def test_bad_inputs_say_what_is_allowed(models):
    with pytest.raises(ValueError, match="1 to 5 points"):
        sg.state_graph(models["gfncp"], _set(6))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        sg.state_graph(models["gfncp"], np.zeros((3, 3)))
    g = sg.state_graph(models["gfncp"], _set(3))
    with pytest.raises(ValueError, match="permutation of 0..2"):
        g.path([0, 0, 1], [0, 0, 0])
    assert sg.block_text(()) == "∅"
    assert sg.block_text(((0, 2), (1,))) == "{0 2}{1}"
    assert sg.block_text(((0, 2), (1,)), names="abc") == "{a c}{b}"
