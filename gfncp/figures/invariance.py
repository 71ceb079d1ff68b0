"""Figures of the order-invariance page (pure: data -> plotly Figure).

- `spread_figure`: log q of one fixed clustering under R orders, one strip (box + points)
  per model, each relative to that model's own median, so the spreads compare directly.
- `order_distributions_figure`: for a tiny set, each model's exact q over all partitions under
  each of R orders, side by side (one panel per model, one bar per order for each of the most
  probable partitions), with GFNCP's order-free reward posterior p_R beside its bars.
- `clusterings_figure`: small multiples of clusterings (rows = models, columns = orders),
  coloured consistently, points that differ from a reference ringed in red.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .small_multiples import small_multiples

MODEL_COLORS = {"GFNCP": "#1f77b4", "NCP": "#ff7f0e"}


def spread_figure(log_q_by_model: dict, height: int = 380) -> go.Figure:
    """log_q_by_model: {model name: (R,) log q of the same clustering under R orders}.

    One box-and-points strip per model of log q minus that model's median (nats); hover
    shows the order number and the raw log q."""
    fig = go.Figure()
    for name, lq in log_q_by_model.items():
        lq = np.asarray(lq, dtype=float)
        dev = lq - np.median(lq)
        fig.add_trace(go.Box(
            y=dev, name=name, boxpoints="all", jitter=0.5, pointpos=0, marker=dict(size=6, opacity=0.75),
            line=dict(width=1.5), fillcolor="rgba(0,0,0,0)",
            marker_color=MODEL_COLORS.get(name, "#555555"),
            customdata=np.column_stack([np.arange(1, len(lq) + 1), lq]),
            hovertemplate=(f"{name}, order %{{customdata[0]:d}}<br>log q = %{{customdata[1]:.3f}} nats"
                           "<br>relative to median: %{y:+.3f} nats<extra></extra>"),
        ))
    fig.add_hline(y=0, line=dict(color="#999999", width=1, dash="dot"))
    fig.update_layout(
        height=height, showlegend=False, margin=dict(l=82, r=20, t=50, b=40),   # l: room for the tick labels and y title (one draw)
        title=dict(text="log q of the same clustering, one point per order", x=0.0, font=dict(size=15)),
        yaxis_title="log q − model's median (nats)",
    )
    return fig


ORDER_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d"]


def order_distributions_figure(P_by_model: dict, top: int = 10, p_reward=None, tv_by_model: dict | None = None,
                               height: int = 380) -> go.Figure:
    """P_by_model: {model name: (R, M) exact q over the same M partitions under R orders}.

    The `top` partitions by the first model's mean probability over orders, ranked on x; in each
    model's panel one bar per order (same colour = same order in both panels). p_reward (M,),
    when given, is drawn as black diamonds in the first panel (it is the same in every order).
    tv_by_model: {name: mean TV between orders}, shown in the panel titles."""
    from plotly.subplots import make_subplots

    names = list(P_by_model)
    lead = np.asarray(P_by_model[names[0]], float)
    rank = np.argsort(-lead.mean(axis=0), kind="stable")[:top]
    titles = [f"{n}: q in each order" + (f" (mean TV between orders {tv_by_model[n]:.3f})" if tv_by_model else "")
              for n in names]
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True, subplot_titles=titles, horizontal_spacing=0.06)
    x = [f"#{i + 1}" for i in range(len(rank))]
    for col, name in enumerate(names, start=1):
        P = np.asarray(P_by_model[name], float)[:, rank]
        for r, row in enumerate(P):
            fig.add_trace(go.Bar(x=x, y=row, name=f"order {r + 1}", legendgroup=f"order {r + 1}",
                                 showlegend=col == 1, marker_color=ORDER_COLORS[r % len(ORDER_COLORS)],
                                 hovertemplate=f"{name}, order {r + 1}<br>partition %{{x}}: q = %{{y:.4f}}<extra></extra>"),
                          row=1, col=col)
        if col == 1 and p_reward is not None:
            fig.add_trace(go.Scatter(x=x, y=np.asarray(p_reward, float)[rank], mode="markers", name="p_R (any order)",
                                     marker=dict(symbol="diamond", size=10, color="black"),
                                     hovertemplate="reward posterior p_R, partition %{x}: %{y:.4f}<extra></extra>"),
                          row=1, col=col)
    fig.update_layout(height=height, barmode="group", bargap=0.25, margin=dict(l=60, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.15))
    fig.update_yaxes(title_text="probability", row=1, col=1)
    return fig


def clusterings_figure(P, panels: list, n_cols: int, axis_titles=("", ""),
                       panel_size: int = 260, diff_label: str = "cluster differs from the original order") -> go.Figure:
    """Small multiples of clusterings of the same points P (N, 2).

    panels: list of dicts, row-major, each with "labels" (N,) colour ids (already matched so
    that equal clusters carry equal ids across panels), "title" (str) and optional "differs"
    (N,) bool (ringed in red). Two traces per panel: the points, and the red rings (possibly
    empty). The first non-empty ring trace is in the legend (no legend when nothing differs)."""
    return small_multiples(P, panels, n_cols, panel_height=panel_size, rings=True, axis_titles=axis_titles,
                           diff_label=diff_label, v_space=0.12 if len(panels) > n_cols else 0.05)
