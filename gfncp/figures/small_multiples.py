"""Small multiples of clusterings of one point set: a grid of scatter panels, one figure.

Used by the order-invariance page (clusterings under several orders, changed points ringed)
and the uncertainty page (the most frequent clusterings). The grid is laid out here and the
Figure is constructed once from plain dicts: make_subplots plus an add_trace per panel and
per-axis updates cost 0.1-0.3 s for eight panels (plotly validates every call), which is a
visible share of a page's 2-second budget.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .palette import cluster_color

DIFF_COLOR = "#d62728"
OUTLINE_MAX_POINTS = 200
# automargin off: the axes have no tick labels and their titles fit the fixed margins; with it on,
# plotly measures the axes after drawing and draws the whole figure a second time (8 panels x 500
# points: 0.29 s instead of 0.13 s in headless Chromium, margins 10 px).
AXIS_STYLE = dict(showticklabels=False, zeroline=False, showgrid=False, mirror=True, showline=True,
                  linecolor="#dddddd", automargin=False)


def grid_domains(n_rows: int, n_cols: int, h_space: float, v_space: float) -> list[tuple[list, list]]:
    """Paper-coordinate domains ([x0, x1], [y0, y1]) of the cells, row-major from the top left
    (the same layout as plotly's make_subplots with these spacings)."""
    width = (1.0 - h_space * (n_cols - 1)) / n_cols
    height = (1.0 - v_space * (n_rows - 1)) / n_rows
    cells = []
    for r in range(n_rows):
        y1 = 1.0 - r * (height + v_space)
        for c in range(n_cols):
            x0 = c * (width + h_space)
            clip = lambda v: min(max(v, 0.0), 1.0)          # noqa: E731  (rounding at the edges)
            cells.append(([clip(x0), clip(x0 + width)], [clip(y1 - height), clip(y1)]))
    return cells


def small_multiples(P, panels: list, n_cols: int, *, panel_height: int = 260, rings: bool = True,
                    axis_titles=("", ""), diff_label: str = "cluster differs from the original order",
                    marker_line: float = 0.4, h_space: float = 0.03, v_space: float | None = None,
                    margin: dict | None = None) -> go.Figure:
    """Panels of the same points P (N, 2), each coloured by its own labels.

    panels: row-major dicts with "labels" (N,) colour ids (matched across panels, so equal
    ids are equal clusters), "title" (str, may hold "<br>") and, with rings=True, optional
    "differs" (N,) bool, drawn as red rings. rings=True gives every panel two traces (points,
    rings; possibly empty) and puts the first non-empty ring trace in the legend.
    Both axes of a panel have equal units, so round clusters look round.
    Above OUTLINE_MAX_POINTS points the markers lose their white outline: the browser draws
    every SVG point with its own style, and the outline stroke is ~30% of that time
    (8 panels x 500 points: 0.30 s instead of 0.43 s in headless Chromium).
    """
    P = np.asarray(P, dtype=float)
    if len(P) > OUTLINE_MAX_POINTS:
        marker_line = 0.0
    n = len(panels)
    n_cols = max(1, min(n_cols, n))
    n_rows = max(1, int(np.ceil(n / n_cols)))
    total_height = panel_height * n_rows + 50
    if v_space is None:
        v_space = min(0.3, 60 / total_height) if n_rows > 1 else 0.0
    idx = np.arange(len(P))
    differs = [np.asarray(p.get("differs", np.zeros(len(P), bool)), dtype=bool) for p in panels]
    first_ring = next((i for i, d in enumerate(differs) if d.any()), -1) if rings else -1

    traces, layout, titles = [], {}, []
    for i, ((x_dom, y_dom), panel) in enumerate(zip(grid_domains(n_rows, n_cols, h_space, v_space), panels)):
        sx = "" if i == 0 else str(i + 1)
        row, col = divmod(i, n_cols)
        labels = np.asarray(panel["labels"])
        axes = dict(xaxis=f"x{sx}", yaxis=f"y{sx}")
        traces.append(dict(
            type="scatter", x=P[:, 0], y=P[:, 1], mode="markers", showlegend=False, **axes,
            marker=dict(size=6, color=[cluster_color(k) for k in labels], line=dict(width=marker_line, color="white")),
            customdata=np.column_stack([idx, labels]),
            hovertemplate="point %{customdata[0]}<br>cluster %{customdata[1]}<extra></extra>"))
        if rings:
            d = differs[i]
            traces.append(dict(
                type="scatter", x=P[d, 0], y=P[d, 1], mode="markers", name=diff_label, **axes,
                showlegend=bool(i == first_ring), legendgroup="differs", hoverinfo="skip",
                marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2, color=DIFF_COLOR))))
        layout[f"xaxis{sx}"] = dict(AXIS_STYLE, domain=x_dom, anchor=f"y{sx}", constrain="domain",
                                    title=dict(text=axis_titles[0] if row == n_rows - 1 else ""))
        layout[f"yaxis{sx}"] = dict(AXIS_STYLE, domain=y_dom, anchor=f"x{sx}", scaleanchor=f"x{sx}", scaleratio=1,
                                    constrain="domain", title=dict(text=axis_titles[1] if col == 0 else ""))
        titles.append(dict(text=panel["title"], x=sum(x_dom) / 2, y=y_dom[1], xref="paper", yref="paper",
                           xanchor="center", yanchor="bottom", yshift=6, showarrow=False,
                           font=dict(size=13, color="#31333f")))
    top = 70 if first_ring >= 0 else 50          # room for the legend only when there is one
    layout.update(
        annotations=titles, height=total_height + (top - 50),
        margin=margin or dict(l=40, r=10, t=top, b=40),
        legend=dict(orientation="h", yref="container", y=1.0, yanchor="top", x=1.0, xanchor="right",
                    font=dict(size=13)))
    return go.Figure(data=traces, layout=layout)
