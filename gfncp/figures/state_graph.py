"""The GFlowNet state graph of a tiny set as one plotly figure (pure: StateGraph -> Figure).

    g = gfncp.state_graph.state_graph(model, X)
    orders, table = g.terminal_log_q()
    fig = state_graph_figure(g, orders, table, exact=exact_lp, path=(order, labels))

Left: every state, by the number of points assigned (0 = the root, N = finished clusterings);
node colour = log F(s) − log F(root) (log units, relative to the root); edge width = the
policy's probability of that edge given the point it adds; the path of the current order in
orange. Right, on the same rows as the finished clusterings: q of each clustering under every
order (grey dots; the current order's in orange) and the exact posterior (black diamond).
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..state_graph import StateGraph, block_text

PATH_COLOR = "#ff7f0e"
EXACT_COLOR = "#111111"
ORDER_DOT = "rgba(90, 110, 140, 0.45)"
P_FLOOR = 1e-6                      # probabilities below are drawn at the floor (log axis)
# edge widths by the policy's probability of the edge: (upper bound, width, colour)
EDGE_BINS = ((0.05, 0.4, "rgba(150,150,150,0.25)"), (0.3, 1.0, "rgba(120,120,120,0.45)"),
             (0.7, 2.0, "rgba(90,90,90,0.6)"), (1.01, 3.5, "rgba(60,60,60,0.75)"))
ROW_PX = 17


def layout_rows(graph: StateGraph, terminal_rank) -> np.ndarray:
    """(M,) y position of every state: finished clusterings at their rank (0 = top row); in other
    layers, states sorted by the mean row of the clusterings that extend them, spread evenly over
    the same height (so that edges run mostly to nearby rows)."""
    n = graph.n_points
    T = len(graph.terminals)
    y = np.zeros(graph.n_states)
    term_rows = {int(s): float(r) for s, r in zip(graph.terminals, terminal_rank)}
    for s, r in term_rows.items():
        y[s] = r
    # mean row of the completions of each state: from the leaves up (a parent's completions are its children's)
    mean_row = {s: (r, 1.0) for s, r in term_rows.items()}
    for layer in range(n - 1, -1, -1):
        ids = [int(i) for i in np.flatnonzero(graph.layer == layer)]
        for s in ids:
            tot, cnt = 0.0, 0.0
            for (parent, _), kids in graph.children.items():
                if parent != s:
                    continue
                for c in kids:
                    tot += mean_row[c][0] * mean_row[c][1]
                    cnt += mean_row[c][1]
                break                      # the children adding one point cover every completion once
            mean_row[s] = (tot / cnt if cnt else 0.0, cnt)
        ids.sort(key=lambda s: (mean_row[s][0], graph.states[s]))
        if len(ids) == 1:
            y[ids[0]] = (T - 1) / 2
        else:
            for k, s in enumerate(ids):
                y[s] = k * (T - 1) / (len(ids) - 1)
    return y


def _hover(graph: StateGraph, s: int, names) -> str:
    lines = [f"<b>{block_text(graph.states[s], names)}</b>",
             f"log F(s) − log F(root) = {graph.log_flow[s]:+.2f}"]
    waiting = [p for p in range(graph.n_points) if np.isfinite(graph.residual[s, p])]
    if waiting:
        res = ", ".join(f"{names[p] if names is not None else p}: {graph.residual[s, p]:+.2f}" for p in waiting)
        lines.append(f"flow-matching residual (next point: log F − log Σ children) {res}")
    else:
        lines.append("finished clustering: its flow is its reward R")
    return "<br>".join(lines)


def state_graph_figure(graph: StateGraph, orders=None, terminal_log_q=None, exact=None, path=None,
                       names=None, current: int | None = None, height: int | None = None) -> go.Figure:
    """The whole graph (see the module docstring).

    orders, terminal_log_q: graph.terminal_log_q()'s result (computed here when None).
    exact: (T,) exact posterior log-probabilities of graph.terminals, or None.
    path: (order, labels) to highlight, or None; current: the step to ring on that path (0 = root).
    names: a label per point (default its row number).
    """
    if terminal_log_q is None:
        orders, terminal_log_q = graph.terminal_log_q(orders)
    orders = np.asarray(orders)
    table = np.asarray(terminal_log_q, dtype=np.float64)
    T = len(graph.terminals)
    if table.shape != (T, len(orders)):
        raise ValueError(f"terminal_log_q must have shape ({T}, {len(orders)}), got {table.shape}.")
    if exact is not None and np.shape(exact) != (T,):
        raise ValueError(f"exact must have one log-probability per finished clustering ({T}).")
    # rows: by exact posterior when given, else by median q across orders (most probable on top)
    key = np.asarray(exact, dtype=np.float64) if exact is not None else np.median(table, axis=1)
    rank_order = np.argsort(-key, kind="stable")
    rank = np.empty(T, dtype=np.int64)
    rank[rank_order] = np.arange(T)
    y = layout_rows(graph, rank)
    x = graph.layer.astype(np.float64)

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.58, 0.42], horizontal_spacing=0.13)
    # edges, one trace per width bin
    edges = graph.edges
    probs = np.array([graph.edge_prob(a, b) for a, b, _ in edges])
    lo = 0.0
    for hi, width, colour in EDGE_BINS:
        sel = [i for i, p in enumerate(probs) if lo <= p < hi]
        lo = hi
        if not sel:
            continue
        ex, ey = [], []
        for i in sel:
            a, b, _ = edges[i]
            ex += [x[a], x[b], None]
            ey += [y[a], y[b], None]
        fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(width=width, color=colour), hoverinfo="skip",
                                 showlegend=False, name=f"edges p < {hi:g}"), row=1, col=1)
    # the current order's path
    path_states = None
    if path is not None:
        order, labels = path
        path_states = graph.path(order, labels)
        fig.add_trace(go.Scatter(x=x[path_states], y=y[path_states], mode="lines",
                                 line=dict(width=4, color=PATH_COLOR), hoverinfo="skip", showlegend=True,
                                 name="path of the current order"), row=1, col=1)
    # states
    lf = graph.log_flow
    span = max(float(np.max(np.abs(lf))), 1e-6)
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="markers", showlegend=False, name="states",
        marker=dict(size=np.where(graph.layer == graph.n_points, 9, 8), color=lf, colorscale="RdBu", cmin=-span,
                    cmax=span, line=dict(width=0.6, color="#333"),
                    colorbar=dict(title=dict(text="log F(s) − log F(root)", side="right"), x=-0.1, xanchor="right",
                                  len=0.8, thickness=12)),
        text=[_hover(graph, s, names) for s in range(graph.n_states)], hovertemplate="%{text}<extra></extra>"),
        row=1, col=1)
    if path_states is not None and current is not None:
        s = path_states[int(np.clip(current, 0, len(path_states) - 1))]
        fig.add_trace(go.Scatter(x=[x[s]], y=[y[s]], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(size=17, color="rgba(0,0,0,0)", line=dict(width=3, color=PATH_COLOR)),
                                 name="current state"), row=1, col=1)
    # terminal table: q under every order, the current order's, the exact posterior
    rows = rank.astype(np.float64)
    q = np.maximum(np.exp(table), P_FLOOR)
    R = len(orders)
    order_text = [" ".join(str(int(i)) for i in o) for o in orders]
    fig.add_trace(go.Scatter(
        x=q.reshape(-1), y=np.repeat(rows, R), mode="markers", name=f"q in each of the {R} orders",
        marker=dict(size=5, color=ORDER_DOT), customdata=np.tile(order_text, T),
        hovertemplate="q = %{x:.3g} in order %{customdata}<extra></extra>"), row=1, col=2)
    if path is not None:
        order = np.asarray(path[0])
        match = [r for r, o in enumerate(orders) if np.array_equal(o, order)]
        if match:
            fig.add_trace(go.Scatter(x=q[:, match[0]], y=rows, mode="markers", name="q in the current order",
                                     marker=dict(size=8, color=PATH_COLOR, symbol="line-ns-open", line=dict(width=3)),
                                     hovertemplate="current order: q = %{x:.3g}<extra></extra>"), row=1, col=2)
    if exact is not None:
        fig.add_trace(go.Scatter(x=np.maximum(np.exp(np.asarray(exact)), P_FLOOR), y=rows, mode="markers",
                                 name="exact posterior", marker=dict(size=9, color=EXACT_COLOR, symbol="diamond"),
                                 hovertemplate="exact posterior %{x:.3g}<extra></extra>"), row=1, col=2)
    ticks = [block_text(graph.states[int(graph.terminals[i])], names) for i in rank_order]
    h = height or max(420, ROW_PX * T + 130)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, row=1, col=1,
                     tickvals=list(range(T)), ticktext=ticks, side="right", ticks="", tickfont=dict(size=10))
    fig.update_yaxes(showgrid=True, gridcolor="#f0f0f0", row=1, col=2)
    fig.update_xaxes(tickvals=list(range(graph.n_points + 1)), range=[-0.3, graph.n_points + 0.3],
                     title_text="points assigned", zeroline=False, showgrid=False, row=1, col=1)
    qmin = float(np.min(q))
    fig.update_xaxes(type="log", range=[math.log10(qmin) - 0.2, 0.05], title_text="probability of the clustering",
                     showgrid=True, gridcolor="#eee", exponentformat="power", row=1, col=2)
    fig.update_layout(height=h, margin=dict(l=150, r=20, t=40, b=55), plot_bgcolor="white",
                      legend=dict(orientation="h", x=1.0, xanchor="right", y=1.0, yanchor="bottom", font=dict(size=11)),
                      hoverlabel=dict(namelength=-1))
    return fig


def residual_summary(graph: StateGraph, table) -> dict:
    """Numbers for a caption: the largest |residual| of any state, and the largest spread of a
    clustering's log q across the orders (both in nats)."""
    res = graph.residual[np.isfinite(graph.residual)]
    table = np.asarray(table, dtype=np.float64)
    spread = table.max(axis=1) - table.min(axis=1)
    worst = int(np.argmax(spread))
    return {"max_abs_residual": float(np.max(np.abs(res))) if res.size else 0.0,
            "max_spread": float(spread[worst]), "worst_terminal": int(graph.terminals[worst]),
            "median_spread": float(np.median(spread))}
