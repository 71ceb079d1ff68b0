"""Figures for the step-through page: a recorded Trace drawn one step at a time.

Pure functions of plain data (a Trace, 2-D coordinates) -> plotly Figure; no Streamlit. The
words beside the figure are in step_text.py.

    xy, axes = gfncp.projection.project_2d(X, "pca")
    fig = step_figure(xy, trace, n, other=None)              # the state after step n

Step n (0-based) assigns point trace.order[n]; after it n + 1 points are assigned. The UI
counts steps from 1 ("step n + 1 of N"). Clusters are numbered by creation in the trace, so
cluster k keeps `cluster_color(k)` from the first frame to the last.

Layout of a figure (one plotly figure, so that the panels stay together):
  row 1  points (left; grey = not yet assigned, big black-outlined marker = the point being
         assigned) | the policy's probability of every option at this step (right)
  row 2  GFNCP's flow check per step: log(flow out / flow in)          (when flows exist)
  row 3  |p_GFNCP - p_NCP| per step on the same partial clustering      (compare mode)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..trace import Trace, flow_mismatch, flows_of
from ..trace_export import policy_gap, preferred_options
from .palette import UNASSIGNED_COLOR, cluster_color
from .step_text import MODEL_LABEL, chosen_text, flow_line, fmt_prob, option_name

POINT_SIZE, UNASSIGNED_SIZE, CURRENT_SIZE = 9, 6, 19   # marker sizes (px)
MAX_BARS = 16                      # options drawn at most; the rest are pooled into "other"
GAP_THRESHOLD = 0.1                # |p_a - p_b| above this counts as "the policies differ"
CHOSEN_LINE = "#111111"


# -- per-step data ----------------------------------------------------------------------------

@dataclass
class BarData:
    """The options drawn for one step (at most MAX_BARS, the rest pooled into one bar)."""

    labels: list            # y labels, top to bottom
    option: list            # cluster index of each bar; K_n = "new"; -1 = pooled "other"
    probs: np.ndarray       # main model's probability of each bar (sums to 1)
    other_probs: np.ndarray | None
    colors: list
    chosen: int             # index (into the bars) of the option the trace chose


def bar_data(trace: Trace, n: int, other: Trace | None = None, max_bars: int = MAX_BARS) -> BarData:
    p = np.asarray(trace.probs[n], dtype=np.float64)
    q = None if other is None else np.asarray(other.probs[n], dtype=np.float64)
    K = len(p) - 1
    choice = int(trace.choice[n])
    sizes = np.bincount(np.asarray(trace.choice[:n], dtype=np.int64), minlength=K)
    keep = list(range(K + 1))
    pooled: list[int] = []
    if K + 1 > max_bars:
        ranked = [int(k) for k in np.argsort(-p[:K], kind="stable")]
        must = {choice, K}
        if q is not None:
            must.add(int(np.argmax(q)))
        top = [k for k in ranked if k not in must][: max(max_bars - 1 - len(must), 0)]
        keep = sorted(set(top) | must)
        pooled = [k for k in range(K + 1) if k not in keep]
    labels, option, probs, oprobs, colors = [], [], [], [], []
    for k in keep:
        option.append(k)
        if k == K:
            labels.append(f"new cluster ({k})" if K else "new cluster (0)")
        else:
            labels.append(f"cluster {k} · {sizes[k]} pt{'s' if sizes[k] != 1 else ''}")
        probs.append(p[k])
        oprobs.append(q[k] if q is not None else 0.0)
        colors.append(cluster_color(k))
    if pooled:
        labels.insert(len(labels) - 1, f"{len(pooled)} other clusters")
        option.insert(len(option) - 1, -1)
        probs.insert(len(probs) - 1, float(p[pooled].sum()))
        oprobs.insert(len(oprobs) - 1, float(q[pooled].sum()) if q is not None else 0.0)
        colors.insert(len(colors) - 1, UNASSIGNED_COLOR)
    return BarData(labels, option, np.array(probs), None if q is None else np.array(oprobs), colors,
                   option.index(choice))


def _title(trace: Trace, n: int, other: Trace | None) -> dict:
    k = int(trace.choice[n])
    head = (f"<b>Step {n + 1} of {trace.n_steps}</b>: point #{int(trace.order[n])} → "
            f"<b><span style='color:{cluster_color(k)}'>{chosen_text(trace, n)}</span></b> "
            f"(p = {fmt_prob(float(trace.probs[n][k]))})")
    if other is not None:
        q = np.asarray(other.probs[n])
        best = int(np.argmax(q))
        head += f" · {MODEL_LABEL.get(other.kind, other.kind)}: {fmt_prob(float(q[k]))}"
        if best != k:
            head += f", prefers {option_name(best, len(q) - 1)}"
    flows = flows_of(trace, other)
    sub = flow_line(flows, n) if flows is not None else flow_line(trace, n)
    if flows is not None and flows is not trace:
        sub = "GFNCP on this path: " + sub
    return {"text": f"{head}<br><span style='font-size:12px;color:#555'>{sub}</span>",
            "x": 0.01, "xanchor": "left", "y": 0.985, "yanchor": "top", "font": {"size": 16}}


# -- figure pieces ----------------------------------------------------------------------------

def point_clusters(trace: Trace, n: int) -> np.ndarray:
    """(N,) cluster of every point after step n, -1 if not yet assigned."""
    return trace.labels_at(n)


def _colorscale(n_clusters: int) -> tuple[list, float, float]:
    """Stepped colorscale so that integer colour value k (-1..n_clusters-1) is cluster_color(k)."""
    m = n_clusters + 1
    scale = []
    for i in range(m):
        c = cluster_color(i - 1)
        scale += [[i / m, c], [(i + 1) / m, c]]
    return scale, -1.5, n_clusters - 0.5


@dataclass
class _Layout:
    rows: int
    flow_row: int | None
    gap_row: int | None
    flows: Trace | None
    gap: np.ndarray | None
    differs: np.ndarray | None
    mismatch: np.ndarray | None = None     # log(flow out / flow in) per step
    flow_range: tuple = (-0.05, 0.05)
    gap_range: tuple = (0.0, 0.2)


def _plan(trace: Trace, other: Trace | None) -> _Layout:
    flows = flows_of(trace, other)
    rows, flow_row, gap_row = 1, None, None
    if flows is not None:
        rows += 1
        flow_row = rows
    gap = differs = None
    if other is not None:
        rows += 1
        gap_row = rows
        gap = policy_gap(trace, other)
        differs = preferred_options(trace) != preferred_options(other)
    plan = _Layout(rows, flow_row, gap_row, flows, gap, differs)
    if flows is not None:
        plan.mismatch = flow_mismatch(flows)
        finite = plan.mismatch[np.isfinite(plan.mismatch)]
        m = max(float(np.max(np.abs(finite))) * 1.1 if len(finite) else 0.0, 0.05)
        plan.flow_range = (-m, m)
    if gap is not None:
        plan.gap_range = (0.0, max(float(np.max(gap)) * 1.1 if len(gap) else 0.0, 0.2))
    return plan


def _dynamic_traces(xy, trace: Trace, n: int, other: Trace | None, plan: _Layout, scale) -> list[dict]:
    """The traces that change from step to step, as plain dicts (same order every frame)."""
    clusters = point_clusters(trace, n)
    cs, cmin, cmax = scale
    point = int(trace.order[n])
    k = int(trace.choice[n])
    bars = bar_data(trace, n, other)
    main_name = MODEL_LABEL.get(trace.kind, trace.kind)
    line_w = [3 if i == bars.chosen else 0 for i in range(len(bars.labels))]
    text = [f"<b>{fmt_prob(p)} ✓ chosen</b>" if i == bars.chosen else fmt_prob(p) for i, p in enumerate(bars.probs)]
    out = [
        dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="markers", xaxis="x", yaxis="y",
             marker=dict(color=clusters, colorscale=cs, cmin=cmin, cmax=cmax, showscale=False,
                         size=np.where(clusters >= 0, POINT_SIZE, UNASSIGNED_SIZE).astype(np.int8),
                         line=dict(width=0.5, color="white")),
             showlegend=False, name="points"),
        dict(type="scatter", x=[xy[point, 0]], y=[xy[point, 1]], mode="markers", xaxis="x", yaxis="y",
             marker=dict(color=cluster_color(k), size=CURRENT_SIZE, line=dict(width=3, color=CHOSEN_LINE)),
             showlegend=False, name="current point",
             hovertemplate=f"point #{point} (being assigned)<extra></extra>"),
        dict(type="bar", orientation="h", y=bars.labels, x=bars.probs, xaxis="x2", yaxis="y2",
             marker=dict(color=bars.colors, line=dict(color=CHOSEN_LINE, width=line_w)),
             text=text, textposition="outside", cliponaxis=False, name=main_name,
             showlegend=False,
             hovertemplate="%{y}: p = %{x:.3f}<extra>" + main_name + "</extra>"),
    ]
    if other is not None:
        oname = MODEL_LABEL.get(other.kind, other.kind)
        out.append(dict(type="bar", orientation="h", y=bars.labels, x=bars.other_probs, xaxis="x2", yaxis="y2",
                        marker=dict(color=bars.colors, opacity=0.55,
                                    pattern=dict(shape="/", fgcolor="#333", solidity=0.25),
                                    line=dict(color="#333", width=0.5)),
                        text=[fmt_prob(p) for p in bars.other_probs], textposition="outside", cliponaxis=False,
                        name=f"{oname} (same partial clustering)", showlegend=False,
                        hovertemplate="%{y}: p = %{x:.3f}<extra>" + oname + "</extra>"))
    for row in (plan.flow_row, plan.gap_row):
        if row is None:
            continue
        ax = str(row + 1)                   # strips are x3 / x4 (row 1 holds x and x2)
        lo, hi = _strip_range(plan, row)
        out.append(dict(type="scatter", x=[n + 1, n + 1], y=[lo, hi], mode="lines", xaxis="x" + ax, yaxis="y" + ax,
                        line=dict(color=CHOSEN_LINE, width=2, dash="dot"), showlegend=False, hoverinfo="skip",
                        name="current step"))
    return out


def _strip_range(plan: _Layout, row: int) -> tuple[float, float]:
    return plan.flow_range if row == plan.flow_row else plan.gap_range


def _base_figure(xy, trace: Trace, other: Trace | None, plan: _Layout, axis_titles, height: int | None) -> go.Figure:
    bar_title = "Policy: probability of each option"
    if other is not None:
        bar_title = (f"Policy: {MODEL_LABEL.get(trace.kind)} (solid) vs {MODEL_LABEL.get(other.kind)} "
                     "(hatched)<br>on the same partial clustering")
    titles = ["", bar_title]
    specs = [[{}, {}]]
    heights = [1.0]
    if plan.flow_row:
        specs.append([{"colspan": 2}, None])
        titles.append("GFNCP flow check: log(flow out / flow in) per step; 0 = consistent")
        heights.append(0.3)
    if plan.gap_row:
        specs.append([{"colspan": 2}, None])
        titles.append(f"|p_{MODEL_LABEL.get(trace.kind)} − p_{MODEL_LABEL.get(other.kind)}| per step "
                      "(largest over the options; red: different favourite)")
        heights.append(0.3)
    fig = make_subplots(rows=plan.rows, cols=2, specs=specs, column_widths=[0.56, 0.44],
                        row_heights=heights, subplot_titles=titles, horizontal_spacing=0.16,
                        vertical_spacing=0.13 if plan.rows > 1 else 0.05)
    fig.update_annotations(font=dict(size=13, color="#444"))
    steps = np.arange(1, trace.n_steps + 1)
    if plan.flow_row:
        d = plan.mismatch
        fig.add_trace(go.Scatter(x=steps, y=d, mode="lines+markers" if trace.n_steps <= 300 else "lines",
                                 marker=dict(size=4, color="#1f77b4"), line=dict(width=1.2, color="#1f77b4"),
                                 showlegend=False, name="log(out/in)",
                                 hovertemplate="step %{x}: log(out/in) = %{y:.3f}<extra></extra>"),
                      row=plan.flow_row, col=1)
        fig.add_hline(y=0, line=dict(color="#888", width=1), row=plan.flow_row, col=1)
        lo, hi = _strip_range(plan, plan.flow_row)
        fig.update_yaxes(range=[lo, hi], title_text="log out/in", row=plan.flow_row, col=1)
    if plan.gap_row:
        colors = np.where(plan.differs, "#d62728", "#9aa7b8")
        fig.add_trace(go.Bar(x=steps, y=plan.gap, marker=dict(color=list(colors), line=dict(width=0)),
                             showlegend=False, name="|Δp|",
                             hovertemplate="step %{x}: max |Δp| = %{y:.3f}<extra></extra>"),
                      row=plan.gap_row, col=1)
        fig.add_hline(y=GAP_THRESHOLD, line=dict(color="#d62728", width=1, dash="dash"), row=plan.gap_row, col=1)
        fig.update_yaxes(range=list(_strip_range(plan, plan.gap_row)), title_text="max |Δp|",
                         row=plan.gap_row, col=1)
    for row in (plan.flow_row, plan.gap_row):
        if row:
            fig.update_xaxes(range=[0.5, trace.n_steps + 0.5], title_text="step", title_standoff=2,
                             row=row, col=1)
    # points panel: fixed ranges so that nothing jumps while animating; equal aspect
    pad = 0.06 * max(float(np.ptp(xy[:, 0])) if len(xy) else 1.0, float(np.ptp(xy[:, 1])) if len(xy) else 1.0, 1e-9)
    fig.update_xaxes(range=[float(xy[:, 0].min()) - pad, float(xy[:, 0].max()) + pad], title_text=axis_titles[0],
                     zeroline=False, row=1, col=1)
    fig.update_yaxes(range=[float(xy[:, 1].min()) - pad, float(xy[:, 1].max()) + pad], title_text=axis_titles[1],
                     zeroline=False, scaleanchor="x", scaleratio=1, constrain="domain", row=1, col=1)
    fig.update_xaxes(range=[0, 1.28], tickvals=[0, 0.25, 0.5, 0.75, 1.0], title_text="probability",
                     row=1, col=2)
    fig.update_yaxes(autorange="reversed", type="category", automargin=True, row=1, col=2)
    rows_h = 470 + 150 * (plan.rows - 1)
    # Margins that already hold the tick labels and titles (as Streamlit's theme draws them): with less,
    # plotly grows them after drawing and draws everything again, on every step.
    fig.update_layout(height=height or rows_h, margin=dict(l=78, r=22, t=78, b=55), bargap=0.25,
                      barmode="group", plot_bgcolor="white", uirevision="step-through",
                      legend=dict(orientation="h", x=1.0, xanchor="right", y=1.0, yanchor="bottom",
                                  bgcolor="rgba(255,255,255,0.8)", font=dict(size=11)),
                      hoverlabel=dict(namelength=-1))
    fig.update_xaxes(showgrid=True, gridcolor="#eee", linecolor="#ccc")
    fig.update_yaxes(showgrid=True, gridcolor="#eee", linecolor="#ccc")
    return fig


def _static_hover(xy, trace: Trace) -> dict:
    rank = np.empty(trace.n_steps, dtype=np.int64)
    rank[trace.order] = np.arange(1, trace.n_steps + 1)
    text = [f"point #{i} · assigned at step {rank[i]}" for i in range(len(xy))]
    return dict(text=text, hovertemplate="%{text}<br>cluster %{marker.color} (−1: not yet assigned)<extra></extra>")


def _validate(xy, trace: Trace, other: Trace | None):
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) != trace.n_steps:
        raise ValueError(f"xy must have shape ({trace.n_steps}, 2), got {xy.shape}.")
    same_path = other is None or (np.array_equal(other.order, trace.order) and np.array_equal(other.choice, trace.choice))
    if not same_path:
        raise ValueError("`other` must be on the same path as `trace` (gfncp.trace_export.forced_trace).")
    return xy


def _assemble(xy, trace, n, other, plan, axis_titles, height):
    fig = _base_figure(xy, trace, other, plan, axis_titles, height)
    n_static = len(fig.data)
    scale = _colorscale(int(np.max(trace.choice)) + 1)
    dyn = _dynamic_traces(xy, trace, n, other, plan, scale)
    dyn[0].update(_static_hover(xy, trace))
    fig.add_traces(dyn)
    fig.update_layout(title=_title(trace, n, other))
    return fig, n_static, scale


def step_figure(xy, trace: Trace, n: int, other: Trace | None = None,
                axis_titles=("x₁", "x₂"), height: int | None = None) -> go.Figure:
    """The state after step n (0-based): one static figure (server-side stepping)."""
    xy = _validate(xy, trace, other)
    if not 0 <= n < trace.n_steps:
        raise ValueError(f"step {n} out of range 0..{trace.n_steps - 1}.")
    plan = _plan(trace, other)
    fig, _, _ = _assemble(xy, trace, n, other, plan, axis_titles, height)
    return fig
