"""Figures of the Data and About pages: point sets, projections, digit thumbnails, scaling
previews and the state-tree diagram.

Every function is pure: arrays in, a plotly Figure (or an array) out; no Streamlit.
Clusters are coloured with `palette.cluster_color` of their canonical label and named
by their canonical label ("cluster 0" first), as on the other pages.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..projection import project
from .palette import NEW_CLUSTER, UNASSIGNED, cluster_color

POINT_COLOR = "#1F77B4"       # points without labels
FONT = dict(family="Source Sans Pro, sans-serif", size=13)


def _marker_size(n: int) -> int:
    return 9 if n <= 100 else 7 if n <= 400 else 5 if n <= 1500 else 4


def _base_layout(fig: go.Figure, title: str, height: int) -> None:
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left", font=dict(size=15)) if title else None,
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        plot_bgcolor="white", font=FONT,
        legend=dict(itemsizing="constant", title_text=""),
    )


def _equal_axes(fig: go.Figure, xref: str = "x", yaxis: str = "yaxis") -> None:
    fig.update_layout({yaxis: dict(scaleanchor=xref, scaleratio=1)})


def _style_axes(fig: go.Figure) -> None:
    fig.update_xaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False, showline=True, linecolor="#cccccc")
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False, showline=True, linecolor="#cccccc")


# -- point sets ------------------------------------------------------------------------------


def _cluster_traces(X2: np.ndarray, labels, hover, size: int, legendgroup_prefix: str = "",
                    showlegend: bool = True, names=None) -> list[go.Scatter]:
    rows = np.arange(len(X2))
    hover = None if hover is None else np.asarray([str(h) for h in hover], dtype=object)
    traces = []
    if labels is None:
        traces.append(go.Scatter(
            x=X2[:, 0], y=X2[:, 1], mode="markers", name=f"points ({len(X2)})",
            marker=dict(size=size, color=POINT_COLOR, line=dict(width=0.5, color="white")),
            customdata=rows, text=hover, showlegend=False,
            hovertemplate=("%{text}" if hover is not None else "row %{customdata}") + "<extra></extra>",
        ))
        return traces
    labels = np.asarray(labels)
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        name = ("unassigned" if k < 0 else _short(names[k]) if names is not None and k < len(names)
                else f"cluster {int(k)}")
        traces.append(go.Scatter(
            x=X2[members, 0], y=X2[members, 1], mode="markers",
            name=f"{name} ({len(members)})", legendgroup=f"{legendgroup_prefix}{k}", showlegend=showlegend,
            marker=dict(size=size, color=cluster_color(k), line=dict(width=0.5, color="white")),
            customdata=members, text=None if hover is None else hover[members],
            hovertemplate=(("%{text}<br>" if hover is not None else "row %{customdata}<br>")
                           + name + "<extra></extra>"),
        ))
    return traces


NAME_CHARS = 40               # legend names longer than this are shortened with "…"


def _short(name) -> str:
    name = str(name)
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _legend_margin(names) -> int:
    """Right margin (px) that holds legend entries "name (size)" as Streamlit's theme draws them."""
    longest = max((len(_short(n)) for n in names), default=0) + 6        # " (123)"
    return max(165, 50 + 7 * longest)


def scatter_clusters(X2, labels=None, title: str = "", hover=None, height: int = 480,
                     axis_titles: tuple[str, str] = ("", ""), cluster_names=None,
                     show_legend: bool = True) -> go.Figure:
    """Scatter of a 2-D point set, one trace per cluster (colour `cluster_color(k)`, legend
    "cluster k (size)", or "<cluster_names[k]> (size)" when names are given, e.g. the known
    classes of a real data set), or one trace when labels is None. Equal axis scales.

    X2: (N, 2); labels: (N,) canonical ints (-1 = unassigned, grey) or None;
    hover: optional (N,) strings shown on hover instead of "row i"; show_legend=False leaves
    the legend out (a narrow column), the names still show on hover.
    """
    X2 = np.asarray(X2, dtype=float)
    if X2.ndim != 2 or X2.shape[1] != 2:
        raise ValueError(f"scatter_clusters needs an (N, 2) array, got shape {X2.shape}")
    if labels is not None and len(labels) != len(X2):
        raise ValueError(f"labels has {len(labels)} entries for {len(X2)} points")
    fig = go.Figure(_cluster_traces(X2, labels, hover, _marker_size(len(X2)), names=cluster_names,
                                    showlegend=show_legend))
    _base_layout(fig, title, height)
    # Room for the tick labels, axis titles and legend as Streamlit's theme draws them: with less,
    # plotly grows the margins after drawing and draws everything again.
    right = (10 if labels is None or not show_legend else 165 if cluster_names is None
             else _legend_margin(cluster_names))
    fig.update_layout(margin=dict(l=88, r=right, b=72))
    fig.update_xaxes(title_text=axis_titles[0])
    fig.update_yaxes(title_text=axis_titles[1])
    _style_axes(fig)
    _equal_axes(fig)
    return fig


# -- digits ----------------------------------------------------------------------------------


def digits_thumbnails(images, labels, per_cluster: int = 6, title: str = "",
                      cell_px: int = 44) -> go.Figure:
    """A grid of 8x8 digit images: one row per cluster (its first `per_cluster` members in
    data order), row labels in the cluster's colour. One heatmap trace, ink dark on white.

    images: (N, 64) pixel values (any non-negative scale; shown relative to the maximum);
    labels: (N,) canonical ints, or None for one row "all points".
    """
    images = np.asarray(images, dtype=float)
    if images.ndim != 2 or images.shape[1] != 64:
        raise ValueError(f"digits_thumbnails needs (N, 64) images, got shape {images.shape}")
    labels = np.zeros(len(images), dtype=int) if labels is None else np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} entries for {len(images)} images")
    per_cluster = max(1, int(per_cluster))
    top = images.max() if images.size and images.max() > 0 else 1.0
    clusters = [int(k) for k in np.unique(labels)]
    cell = 9                                            # 8 pixels + 1 gap
    z = np.full((len(clusters) * cell - 1, per_cluster * cell - 1), np.nan)
    text = np.full(z.shape, "", dtype=object)
    for r, k in enumerate(clusters):
        members = np.flatnonzero(labels == k)
        for c, row in enumerate(members[:per_cluster]):
            z[r * cell:r * cell + 8, c * cell:c * cell + 8] = images[row].reshape(8, 8) / top
            text[r * cell:r * cell + 8, c * cell:c * cell + 8] = f"row {row}, cluster {k}"
    fig = go.Figure(go.Heatmap(
        z=z, text=text, colorscale="Greys", zmin=0.0, zmax=1.0, showscale=False,
        hovertemplate="%{text}<extra></extra>", hoverongaps=False, xgap=0, ygap=0,
    ))
    sizes = {k: int(np.sum(labels == k)) for k in clusters}
    ticktext = [f'<span style="color:{cluster_color(k)}">■</span> cluster {k} ({sizes[k]})'
                for k in clusters]
    fig.update_yaxes(tickvals=[r * cell + 3.5 for r in range(len(clusters))], ticktext=ticktext,
                     autorange="reversed", showgrid=False, zeroline=False, ticks="")
    # equal pixel aspect, the grid kept against its row labels on the left
    fig.update_xaxes(visible=False, showgrid=False, zeroline=False, constrain="domain", constraintoward="left")
    _base_layout(fig, title, height=max(140, len(clusters) * cell_px + (50 if title else 20)))
    _equal_axes(fig)
    # a left margin that holds the row labels (~7 px a character), so plotly draws the grid once
    label_chars = max(len(f"■ cluster {k} ({sizes[k]})") for k in clusters)
    fig.update_layout(plot_bgcolor="white", margin_l=12 + 7 * label_chars)
    return fig


# -- scaling preview --------------------------------------------------------------------------


def scaling_preview(before, after, labels=None, height: int = 380) -> go.Figure:
    """Two small scatters side by side: the set as uploaded and after scaling into the
    model's units, each with equal axis scales (first two principal axes when d > 2).
    The right panel carries a dashed circle of radius 1 next to the points' top-left corner:
    one within-cluster standard deviation of the shipped models' training data."""
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    if before.shape != after.shape:
        raise ValueError(f"before {before.shape} and after {after.shape} must have the same shape")
    b2, a2 = project(before), project(after)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("As uploaded", "In model units"),   # short: half of a narrow column each
                        horizontal_spacing=0.08)
    size = max(3, _marker_size(len(b2)) - 2)
    for col, pts in ((1, b2), (2, a2)):
        for tr in _cluster_traces(pts, labels, None, size, showlegend=False):
            fig.add_trace(tr, row=1, col=col)
    # scale reference: a circle of radius 1 just outside the top-left corner of the points
    cx, cy = a2[:, 0].min() - 1.5, a2[:, 1].max() + 1.5
    fig.add_shape(type="circle", x0=cx - 1, x1=cx + 1, y0=cy - 1, y1=cy + 1, xref="x2", yref="y2",
                  line=dict(color=NEW_CLUSTER, dash="dash", width=1.5))
    fig.add_annotation(x=cx + 1.2, y=cy, xref="x2", yref="y2", text="radius 1", showarrow=False,
                       xanchor="left", font=dict(size=11, color=NEW_CLUSTER))
    _base_layout(fig, "", height)
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), showlegend=False)
    _style_axes(fig)
    _equal_axes(fig, "x", "yaxis")
    _equal_axes(fig, "x2", "yaxis2")
    return fig


# -- the state tree (About page) -------------------------------------------------------------

_ORDER_COLORS = (cluster_color(0), cluster_color(1))


def state_tree_diagram(height: int = 400) -> go.Figure:
    """The GFlowNet state graph of GFNCP for three points a, b, c.

    From the root (nothing assigned) each order adds one point at a time, either to an
    existing cluster or as a new one. Order (a, b, c) and order (c, b, a) take different
    paths through different partial clusterings but end in the same terminal partition
    {a b}{c}; grey dotted edges are some of the other moves. Nodes are boxed labels
    (annotations), edges are line traces: three traces (other moves, the two orders).
    """
    nodes = {  # name: (x, y, label, kind)
        "root": (0, 0.0, "∅", "root"),
        "a": (1, 1.5, "{a}", "partial"),
        "c": (1, -1.5, "{c}", "partial"),
        "ab": (2, 2.25, "{a b}", "partial"),
        "a|b": (2, 0.75, "{a} {b}", "partial"),
        "c|b": (2, -0.75, "{b} {c}", "partial"),
        "cb": (2, -2.25, "{b c}", "partial"),
        "abc": (3, 2.25, "{a b c}", "terminal"),
        "ab|c": (3, 0.0, "{a b} {c}", "target"),
        "a|b|c": (3, -2.25, "{a} {b} {c}", "terminal"),
    }
    order1 = [("root", "a"), ("a", "ab"), ("ab", "ab|c")]
    order2 = [("root", "c"), ("c", "c|b"), ("c|b", "ab|c")]
    others = [("a", "a|b"), ("c", "cb"), ("ab", "abc"), ("cb", "abc"), ("a|b", "a|b|c"), ("c|b", "a|b|c")]

    def edge_trace(edges, color, name, width, dash=None):
        xs, ys = [], []
        for u, v in edges:
            xs += [nodes[u][0], nodes[v][0], None]
            ys += [nodes[u][1], nodes[v][1], None]
        return go.Scatter(x=xs, y=ys, mode="lines", name=name, hoverinfo="skip",
                          line=dict(color=color, width=width, dash=dash))

    fig = go.Figure([edge_trace(others, UNASSIGNED, "other moves", 1.5, "dot"),
                     edge_trace(order1, _ORDER_COLORS[0], "order a, b, c", 4),
                     edge_trace(order2, _ORDER_COLORS[1], "order c, b, a", 4)])
    styles = {"root": ("#ffffff", NEW_CLUSTER, 2), "partial": ("#ffffff", "#9a9a9a", 1),
              "terminal": ("#f4f4f4", "#9a9a9a", 1), "target": ("#fff3c4", NEW_CLUSTER, 2)}
    # One layout update with every annotation: add_annotation re-validates the whole list each
    # time (16 calls: 0.16 s, most of the About page's run).
    annotations = []
    for x, y, label, kind in nodes.values():
        fill, line, width = styles[kind]
        annotations.append(dict(x=x, y=y, text=f"<b>{label}</b>" if kind in ("root", "target") else label,
                                showarrow=False, bgcolor=fill, bordercolor=line, borderwidth=width, borderpad=6,
                                font=dict(size=14, color="#222")))
    notes = [(0, -0.55, "root: flow F(root)"),
             (3, -0.6, "reached by both orders:<br>reward R(c|x)")]
    annotations += [dict(x=x, y=y, text=text, showarrow=False, yanchor="top", font=dict(size=12, color="#555"))
                    for x, y, text in notes]
    annotations += [dict(x=x, y=3.05, text=label, showarrow=False, font=dict(size=12, color="#777"))
                    for x, label in enumerate(["start", "1 point assigned", "2 points assigned", "complete partitions"])]
    fig.update_layout(annotations=annotations)
    _base_layout(fig, "", height)
    fig.update_layout(legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.02, yanchor="top"),
                      margin=dict(l=10, r=10, t=10, b=50), plot_bgcolor="white")   # b: the legend (one draw)
    fig.update_xaxes(visible=False, range=[-0.35, 3.4], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-2.75, 3.3], fixedrange=True)
    return fig
