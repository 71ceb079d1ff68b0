"""The state-graph figure (gfncp/figures/state_graph.py): built from plain data, no browser."""
from __future__ import annotations

import numpy as np
import pytest

import gfncp
from gfncp import references as refs
from gfncp import state_graph as sg
from gfncp.figures.state_graph import layout_rows, residual_summary, state_graph_figure


@pytest.fixture(scope="module")
def graph4(dev_models_dir):
    model = gfncp.load_pretrained("gfncp-mog2d")
    X, _ = gfncp.data.make_mog(4, dim=2, seed=3)
    return model, X, sg.state_graph(model, X)


def _trace(fig, name):
    found = [t for t in fig.data if t.name == name]
    assert found, [t.name for t in fig.data]
    return found[0]


def test_figure_holds_every_state_edge_and_order(graph4):
    model, X, g = graph4
    orders, table = g.terminal_log_q()
    exact = sg.exact_terminal_log_probs(g, refs.exact_posterior(X))
    order = np.array([2, 0, 3, 1])
    labels = model.greedy(X, order=order)
    fig = state_graph_figure(g, orders, table, exact=exact, path=(order, labels), current=2)
    nodes = _trace(fig, "states")
    assert len(nodes.x) == 52
    # colour = log flow relative to the root, in log units (the root is 0); no raw magnitudes anywhere
    assert np.allclose(np.asarray(nodes.marker.color), g.log_flow) and g.log_flow[0] == 0
    assert "log F(s) − log F(root)" in nodes.marker.colorbar.title.text
    assert all("e+" not in t and "log F(s) − log F(root) = " in t for t in nodes.text)
    # every edge drawn once, across the width bins (3 coordinates per edge: two ends and a break)
    n_edge_coords = sum(len(t.x) for t in fig.data if t.name and t.name.startswith("edges"))
    assert n_edge_coords == 3 * len(g.edges)
    path = _trace(fig, "path of the current order")
    assert len(path.x) == 5 and list(path.x) == [0, 1, 2, 3, 4]
    dots = _trace(fig, "q in each of the 24 orders")
    assert len(dots.x) == 15 * 24
    assert len(_trace(fig, "exact posterior").x) == 15
    cur = _trace(fig, "q in the current order")
    r = [i for i, o in enumerate(orders) if np.array_equal(o, order)][0]
    assert np.allclose(np.log(np.asarray(cur.x)), np.maximum(table[:, r], np.log(1e-6)))
    # rows: the most probable clustering (exact posterior) on top, aligned with the terminal states
    ticks = list(fig.layout.yaxis.ticktext)
    best = g.terminals[int(np.argmax(exact))]
    assert ticks[0] == g.text(int(best))


def test_layout_spreads_every_layer(graph4):
    _, _, g = graph4
    T = len(g.terminals)
    y = layout_rows(g, np.arange(T))
    assert np.array_equal(y[g.terminals], np.arange(T))
    for layer in range(1, 4):
        ys = y[g.layer == layer]
        assert len(set(np.round(ys, 6))) == len(ys) and ys.min() >= 0 and ys.max() <= T - 1


def test_summary_numbers(graph4):
    _, _, g = graph4
    _, table = g.terminal_log_q()
    s = residual_summary(g, table)
    assert s["max_abs_residual"] == pytest.approx(np.nanmax(np.abs(g.residual)))
    assert s["max_spread"] == pytest.approx(np.max(np.ptp(table, axis=1)))
    with pytest.raises(ValueError, match="one log-probability per finished clustering"):
        state_graph_figure(g, exact=np.zeros(3))
