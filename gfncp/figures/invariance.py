"""Figures of the order-invariance page (pure: data -> plotly Figure).

- `spread_figure`: log q of one fixed clustering under R orders, one strip (box + points)
  per model, each relative to that model's own median, so the spreads compare directly.
- `clusterings_figure`: small multiples of clusterings (rows = models, columns = orders),
  coloured consistently, points that differ from a reference ringed in red.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .palette import cluster_color

MODEL_COLORS = {"GFNCP": "#1f77b4", "NCP": "#ff7f0e"}
DIFF_COLOR = "#d62728"


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
        height=height, showlegend=False, margin=dict(l=60, r=20, t=50, b=40),
        title=dict(text="log q of the same clustering, one point per order", x=0.0, font=dict(size=15)),
        yaxis_title="log q − model's median (nats)", template="plotly_white",
    )
    return fig


def clusterings_figure(P, panels: list, n_cols: int, axis_titles=("", ""),
                       panel_size: int = 260, diff_label: str = "cluster differs from the original order") -> go.Figure:
    """Small multiples of clusterings of the same points P (N, 2).

    panels: list of dicts, row-major, each with "labels" (N,) colour ids (already matched so
    that equal clusters carry equal ids across panels), "title" (str) and optional "differs"
    (N,) bool (ringed in red). Two traces per panel: the points, and the red rings (possibly
    empty). The first non-empty ring trace is in the legend (no legend when nothing differs)."""
    P = np.asarray(P, dtype=float)
    n_rows = int(np.ceil(len(panels) / n_cols))
    fig = make_subplots(rows=n_rows, cols=n_cols, subplot_titles=[p["title"] for p in panels],
                        horizontal_spacing=0.03, vertical_spacing=0.12 if n_rows > 1 else 0.05)
    idx = np.arange(len(P))
    rings = [np.asarray(p.get("differs", np.zeros(len(P), bool)), dtype=bool) for p in panels]
    first_ring = next((i for i, d in enumerate(rings) if d.any()), -1)   # legend only when rings exist
    for i, panel in enumerate(panels):
        row, col = i // n_cols + 1, i % n_cols + 1
        labels = np.asarray(panel["labels"])
        differs = rings[i]
        fig.add_trace(go.Scatter(
            x=P[:, 0], y=P[:, 1], mode="markers", showlegend=False,
            marker=dict(size=6, color=[cluster_color(k) for k in labels], line=dict(width=0.4, color="white")),
            customdata=np.column_stack([idx, labels]),
            hovertemplate="point %{customdata[0]}<br>cluster %{customdata[1]}<extra></extra>",
        ), row=row, col=col)
        fig.add_trace(go.Scatter(
            x=P[differs, 0], y=P[differs, 1], mode="markers", name=diff_label,
            showlegend=bool(i == first_ring), legendgroup="differs",
            marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2, color=DIFF_COLOR)),
            hoverinfo="skip",
        ), row=row, col=col)
    fig.update_xaxes(showticklabels=False, zeroline=False, showgrid=False, mirror=True, showline=True,
                     linecolor="#dddddd")
    fig.update_yaxes(showticklabels=False, zeroline=False, showgrid=False, mirror=True, showline=True,
                     linecolor="#dddddd")
    for i in range(len(panels)):                 # equal units on both axes: round clusters look round
        sx = "" if i == 0 else str(i + 1)
        fig.layout[f"yaxis{sx}"].update(scaleanchor=f"x{sx}", scaleratio=1, constrain="domain")
        fig.layout[f"xaxis{sx}"].update(constrain="domain")
    for r in range(1, n_rows + 1):
        fig.update_yaxes(title_text=axis_titles[1], row=r, col=1)
    for c in range(1, n_cols + 1):
        fig.update_xaxes(title_text=axis_titles[0], row=n_rows, col=c)
    fig.update_annotations(font=dict(size=13, color="#31333f"), yshift=6)
    top = 70 if first_ring >= 0 else 40          # room for the legend only when there is one
    fig.update_layout(
        height=panel_size * n_rows + top + 40, template="plotly_white", margin=dict(l=40, r=10, t=top, b=40),
        legend=dict(orientation="h", yref="container", y=1.0, yanchor="top", x=1.0, xanchor="right",
                    font=dict(size=13)),
    )
    return fig
