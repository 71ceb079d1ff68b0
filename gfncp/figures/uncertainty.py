"""Figures of the uncertainty page (pure: data -> plotly Figure).

- `uncertainty_scatter`: points (or their 2-D projection) coloured by a per-point
  uncertainty value, with a colour bar; or by reference cluster.
- `coassignment_heatmap`: one or more co-assignment matrices side by side, points in the
  same order (by reference cluster), cluster boundaries drawn.
- `k_distribution_figure`: P(K = k) of one or more posteriors, grouped bars.
- `clustering_gallery`: small multiples of clusterings, probability in each title.
- `partition_bars`: probabilities of a few partitions under several distributions.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .palette import UNASSIGNED_COLOR, cluster_color
from .small_multiples import small_multiples

MODEL_COLORS = {"GFNCP p_R": "#2ca02c", "GFNCP": "#1f77b4", "NCP": "#ff7f0e", "Exact posterior": "#3a3a3a",
                "Gibbs": "#3a3a3a"}   # GFNCP's reward posterior p_R before GFNCP: the first prefix wins

# Red = uncertain in every colouring; (near-)certain points are a quiet grey-blue that stays
# visible on white.
UNCERTAIN_SCALE = [[0.0, "#a9b8cc"], [0.12, "#fee391"], [0.45, "#fd8d3c"], [0.75, "#e31a1c"], [1.0, "#67000d"]]
HEATMAP_SCALE = "Blues"
BOUNDARY_COLOR = "rgba(214, 39, 40, 0.75)"

# name -> (hover label, colour bar title, low, high, reversed colour scale)
QUANTITIES = {
    "entropy": ("entropy", "entropy<br>(nats)", 0.0, None, False),
    "probability": ("P(most likely cluster)", "P(most<br>likely)", 0.0, 1.0, True),
    "mate_confidence": ("cluster-mate confidence", "mate<br>confidence", 0.0, 1.0, True),
}


def _model_color(name: str) -> str:
    for key, col in MODEL_COLORS.items():
        if name.startswith(key):
            return col
    return "#7f7f7f"


def _marker_size(n: int) -> int:
    return 9 if n <= 150 else 7 if n <= 600 else 5 if n <= 2000 else 4


def cluster_name(k: int, unmatched: int | None = None) -> str:
    """"C3", or "unmatched" when k is the unmatched label value."""
    return "unmatched" if unmatched is not None and k == unmatched else f"C{k}"


def _clean_axes(fig, equal: bool = True, **kw):
    fig.update_xaxes(zeroline=False, showgrid=False, showline=True, linecolor="#dddddd", mirror=True, **kw)
    fig.update_yaxes(zeroline=False, showgrid=False, showline=True, linecolor="#dddddd", mirror=True, **kw)


def uncertainty_scatter(coords, value, most_probable, probability, *, quantity: str = "entropy",
                        unmatched: int | None = None, entropy=None, mate=None, reference=None,
                        axis_titles=("x₁", "x₂"), title: str = "", height: int = 520) -> go.Figure:
    """Points coords (N, 2) coloured by `value` (N,), one of QUANTITIES, with a colour bar.

    quantity="cluster" colours by the reference clustering (`reference` (N,)) instead.
    Hover: point index, most probable cluster (`unmatched` is that label's value for
    "unmatched") and its probability, plus entropy / mate confidence when given.
    Uncertain points are drawn last (on top) so they are never hidden.
    """
    P = np.asarray(coords, dtype=float)
    N = len(P)
    most = np.asarray(most_probable)
    prob = np.asarray(probability, dtype=float)
    ent = np.full(N, np.nan) if entropy is None else np.asarray(entropy, dtype=float)
    mat = np.full(N, np.nan) if mate is None else np.asarray(mate, dtype=float)
    names = np.array([cluster_name(k, unmatched) for k in most], dtype=object)
    custom = np.empty((N, 5), dtype=object)
    custom[:, 0] = np.arange(N)
    custom[:, 1] = names
    custom[:, 2] = np.round(prob, 3)
    custom[:, 3] = np.round(ent, 3)
    custom[:, 4] = np.round(mat, 3)
    hover = ("point %{customdata[0]}<br>most probable cluster: %{customdata[1]} "
             "(p = %{customdata[2]})<br>entropy: %{customdata[3]} nats"
             "<br>cluster-mate confidence: %{customdata[4]}<extra></extra>")

    fig = go.Figure()
    if quantity == "cluster":
        ref = np.asarray(reference if reference is not None else most)
        for k in np.unique(ref):
            m = ref == k
            fig.add_trace(go.Scatter(
                x=P[m, 0], y=P[m, 1], mode="markers", name=cluster_name(int(k), unmatched),
                marker=dict(size=_marker_size(N), color=cluster_color(int(k)) if k != unmatched else UNASSIGNED_COLOR,
                            line=dict(width=0.5, color="white")),
                customdata=custom[m], hovertemplate=hover))
        fig.update_layout(legend=dict(title="reference cluster", itemsizing="constant"))
    else:
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {list(QUANTITIES) + ['cluster']}, got {quantity!r}")
        label, bar_title, lo, hi, reverse = QUANTITIES[quantity]
        v = np.asarray(value, dtype=float)
        if hi is None:  # entropy: at least log 2 so that near-certain sets do not look alarming
            hi = float(max(np.log(2.0), np.nanmax(v) if N else 0.0))
        uncertainty = (hi - v) if reverse else v
        draw = np.argsort(np.nan_to_num(uncertainty, nan=-np.inf), kind="stable")
        fig.add_trace(go.Scatter(
            x=P[draw, 0], y=P[draw, 1], mode="markers", showlegend=False,
            marker=dict(size=_marker_size(N), color=v[draw], colorscale=UNCERTAIN_SCALE, reversescale=reverse,
                        cmin=lo, cmax=hi, line=dict(width=0.5, color="#777777"),
                        colorbar=dict(title=dict(text=bar_title), thickness=14, len=0.85)),
            customdata=custom[draw], hovertemplate=hover))
    _clean_axes(fig)
    fig.update_xaxes(title_text=axis_titles[0])
    fig.update_yaxes(title_text=axis_titles[1], scaleanchor="x", scaleratio=1)
    # Margins that already hold the tick labels, axis titles and colour bar (as Streamlit's theme draws
    # them): with too little room plotly grows them after drawing and draws everything again (500
    # points: 0.08 s instead of 0.04 s in plain Chromium).
    # On the right: the colour bar, or the legend of reference clusters (plotly shows none for one trace).
    right = 20 if quantity == "cluster" and len(fig.data) < 2 else 110
    fig.update_layout(height=height,
                      margin=dict(l=80, r=right, t=40 if title else 20, b=70),
                      title=dict(text=title, x=0.0, font=dict(size=15)) if title else None)
    return fig


def coassignment_heatmap(matrices: dict, order, boundaries, reference=None, height: int = 480,
                         max_labels: int = 25) -> go.Figure:
    """Co-assignment matrices {title: (N, N)} side by side, rows and columns in `order`
    (N,) (e.g. by reference cluster), with lines at `boundaries` (positions where a new
    reference cluster starts). One shared colour bar, 0..1 (z holds whole percent, uint8). The
    figure has a fixed width (square panels of side height - 80 px): show it at its own width.

    reference (N,): reference cluster of every point, for axis labels (C0, C1, ... at the
    centre of each block; only the largest `max_labels` blocks are labelled).
    """
    order = np.asarray(order, dtype=np.int64)
    N = len(order)
    names = [f"#{i}" for i in order]
    titles = list(matrices)
    # A fixed size, so that every panel is square and the colour bar sits right next to them.
    n = len(titles)
    left, top, bottom, gap = 50, 40, 40, 60
    side = height - top - bottom
    plot_width = n * side + (n - 1) * gap
    # The colour bar sits 2% of the plot width right of the panels and is ~100 px wide: a right margin
    # that holds it spares plotly a second drawing of the whole figure.
    right = 106 + int(np.ceil(0.02 * plot_width))
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles, horizontal_spacing=gap / plot_width)
    shapes = []                 # all boundary lines in one layout update (add_shape is ~6 ms each)
    for c, (title, C) in enumerate(matrices.items(), start=1):
        # Whole percent is all the colour scale and the hover show. Plotly sends numpy arrays as
        # base64 typed arrays, so uint8 is 8x smaller than float64 (300 x 300: 120 kB, not 1 MB)
        # and the browser decodes and draws it sooner.
        Z = np.rint(100.0 * np.clip(np.asarray(C, dtype=np.float64)[np.ix_(order, order)], 0.0, 1.0)).astype(np.uint8)
        fig.add_trace(go.Heatmap(
            z=Z, x=names, y=names, coloraxis="coloraxis",
            hovertemplate=f"{title}<br>points %{{y}} and %{{x}}<br>P(same cluster) = %{{z}}%<extra></extra>",
        ), row=1, col=c)
        axes = dict(xref="x" if c == 1 else f"x{c}", yref="y" if c == 1 else f"y{c}")
        for b in np.asarray(boundaries, dtype=float):
            pos = float(b - 0.5)
            line = dict(type="line", line=dict(color=BOUNDARY_COLOR, width=1), **axes)
            shapes.append(dict(line, x0=pos, x1=pos, y0=-0.5, y1=N - 0.5))
            shapes.append(dict(line, y0=pos, y1=pos, x0=-0.5, x1=N - 0.5))
    fig.update_layout(shapes=shapes)
    tickvals, ticktext = [], []
    if reference is not None and N:
        ref_sorted = np.asarray(reference)[order]
        starts = np.concatenate([[0], np.asarray(boundaries, dtype=np.int64), [N]])
        sizes = np.diff(starts)
        keep = np.argsort(-sizes, kind="stable")[:max_labels]
        min_gap = N / 28.0          # keep labels apart (a label is about 1/28 of the axis wide)
        for j in sorted(keep):
            centre = (starts[j] + starts[j + 1] - 1) / 2
            if tickvals and centre - tickvals[-1] < min_gap:
                continue
            tickvals.append(centre)
            ticktext.append(f"C{int(ref_sorted[starts[j]])}")
    axis = dict(type="category", tickmode="array", tickvals=tickvals, ticktext=ticktext, showgrid=False, ticks="",
                tickfont=dict(size=10))
    fig.update_xaxes(**axis, tickangle=0)
    fig.update_yaxes(**axis, autorange="reversed")
    fig.update_layout(
        height=height, width=left + plot_width + right,
        margin=dict(l=left, r=right, t=top, b=bottom),
        coloraxis=dict(colorscale=HEATMAP_SCALE, cmin=0, cmax=100,
                       colorbar=dict(title=dict(text="P(same<br>cluster)"), thickness=14, len=0.85, x=1.02,
                                     xanchor="left", tickvals=[0, 25, 50, 75, 100],
                                     ticktext=["0", "0.25", "0.5", "0.75", "1"])),
    )
    return fig


def k_distribution_figure(k_probs: dict, height: int = 360, title: str = "") -> go.Figure:
    """P(K = k) for several posteriors {name: (N+1,) probabilities}, grouped bars over the
    range of K with any mass; hover shows the probability."""
    fig = go.Figure()
    support = np.zeros(0, dtype=int)
    for probs in k_probs.values():
        support = np.union1d(support, np.flatnonzero(np.asarray(probs) > 0))
    if len(support) == 0:
        support = np.array([1])
    ks = np.arange(max(1, support.min()), support.max() + 1)
    for name, probs in k_probs.items():
        probs = np.asarray(probs, dtype=float)
        y = np.array([probs[k] if k < len(probs) else 0.0 for k in ks])
        fig.add_trace(go.Bar(x=ks, y=y, name=name, marker_color=_model_color(name),
                             hovertemplate=f"{name}<br>P(K = %{{x}}) = %{{y:.3f}}<extra></extra>"))
    top, bottom = (40 if title else 20), 85                     # room for the labels: one draw, not two
    fig.update_layout(
        height=height, barmode="group", bargap=0.25,
        margin=dict(l=82, r=20, t=top, b=bottom),
        title=dict(text=title, x=0.0, font=dict(size=15)) if title else None,
        # The legend (when there are two or more posteriors) sits a fixed 43 px under the plot, below the
        # axis title, whatever the figure's height: as a fraction of the plot it would need more margin
        # in taller figures.
        legend=dict(orientation="h", yanchor="top", y=-43 / max(height - top - bottom, 1), xanchor="left", x=0.0),
        xaxis=dict(title="number of clusters K", dtick=1 if len(ks) <= 25 else None),
        yaxis=dict(title="probability", rangemode="tozero"),
    )
    return fig


def clustering_gallery(coords, labels, titles, n_cols: int = 4, panel_height: int = 240,
                       axis_titles=("", "")) -> go.Figure:
    """Small multiples: the same points coords (N, 2) coloured by each clustering labels
    (M, N) (shared palette), with titles (M,) (e.g. probabilities; up to two lines, "<br>")."""
    panels = [{"labels": lab, "title": t} for lab, t in zip(np.asarray(labels), titles)]
    return small_multiples(coords, panels, n_cols, panel_height=panel_height, rings=False, axis_titles=axis_titles,
                           marker_line=0.3, h_space=0.02, margin=dict(l=10, r=10, t=50, b=10))


def partition_string(labels) -> str:
    """A partition as its blocks of point indices, e.g. "{0,1,4} {2,3}"."""
    labels = np.asarray(labels)
    return " ".join("{" + ",".join(str(i) for i in np.flatnonzero(labels == k)) + "}"
                    for k in range(int(labels.max()) + 1))


def partition_bars(labels, probs: dict, height: int = 420, title: str = "") -> go.Figure:
    """Probabilities of partitions labels (M, N) under several distributions
    {name: (M,) probabilities}: grouped bars, one group per partition (ranked #1..#M),
    hover with the partition written out as blocks of point indices."""
    labels = np.asarray(labels)
    x = [f"#{m + 1}" for m in range(len(labels))]
    blocks = [partition_string(row) for row in labels]
    fig = go.Figure()
    for name, p in probs.items():
        fig.add_trace(go.Bar(
            x=x, y=np.asarray(p, dtype=float), name=name, marker_color=_model_color(name),
            customdata=np.array(blocks, dtype=object)[:, None],
            hovertemplate=f"{name}<br>%{{x}}: %{{customdata[0]}}<br>probability %{{y:.3f}}<extra></extra>"))
    fig.update_layout(
        height=height, barmode="group", bargap=0.2,
        margin=dict(l=72, r=20, t=50 if title else 30, b=70),     # room for the labels: one draw, not two
        title=dict(text=title, x=0.0, font=dict(size=15)) if title else None,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1.0),
        xaxis=dict(title="partition (ranked by the exact posterior)"),
        yaxis=dict(title="probability", rangemode="tozero"),
    )
    return fig
