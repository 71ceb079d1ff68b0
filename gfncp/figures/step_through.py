"""Figures for the step-through page: a recorded Trace drawn one step at a time.

Pure functions of plain data (a Trace, 2-D coordinates) -> plotly Figure; no Streamlit.

    xy, axes = project_2d(X, "pca")
    fig = step_figure(xy, trace, n, other=None)              # one step (server-side stepping)
    fig = animated_figure(xy, trace, other=None, start=n)    # every step as a Plotly frame

Step n (0-based) assigns point trace.order[n]; after it n + 1 points are assigned. The UI
counts steps from 1 ("step n + 1 of N"). Clusters are numbered by creation in the trace, so
cluster k keeps `cluster_color(k)` from the first frame to the last.

Layout of a figure (one plotly figure so that all panels animate together):
  row 1  points (left; grey = not yet assigned, big black-outlined marker = the point being
         assigned) | the policy's probability of every option at this step (right)
  row 2  GFNCP's flow check per step: log(flow out / flow in)          (when flows exist)
  row 3  |p_GFNCP - p_NCP| per step on the same partial clustering      (compare mode)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..clusterer import Trace
from ..trace_export import flow_check, policy_gap, preferred_options
from .palette import UNASSIGNED_COLOR, cluster_color

# Client-side animation (all frames shipped to the browser at once) up to this many points;
# above it the page steps on the server. Measured (2-D set, this module, plotly 7.1): a
# figure with N frames grows ~quadratically in N: N=300 -> ~1.5 MB of JSON built and
# serialised in ~0.4 s; N=500 -> ~4 MB, ~1 s per rerun, and the browser stalls parsing it.
CLIENT_FRAMES_MAX_N = 300
MAX_BARS = 16                      # options drawn at most; the rest are pooled into "other"
GAP_THRESHOLD = 0.1                # |p_a - p_b| above this counts as "the policies differ"
MODEL_LABEL = {"gfncp": "GFNCP", "ncp": "NCP"}
CHOSEN_LINE = "#111111"
FLOW_EXPLANATION = (
    "Flow in = flow out: in a GFlowNet every partial clustering s passes on exactly the flow "
    "F(s) = exp(−E(s)) it receives to its children (Σ F(children) = F(s)); when that holds at "
    "every step, the product of the policy's probabilities telescopes to R(c|x) / F(∅), so "
    "the probability of the final clustering cannot depend on the order of the points "
    "(METHOD §2.4)."
)


# -- coordinates ------------------------------------------------------------------------------

def project_2d(X, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, tuple[str, str]]:
    """2-D coordinates to draw a set: the set itself when 2-D, else PCA (default) or UMAP.

    PCA: centred SVD, axis signs fixed (largest loading positive). UMAP is imported lazily
    and needs at least 10 points (PCA otherwise).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array (N, d), got shape {X.shape}.")
    n, d = X.shape
    if d == 1:
        return np.hstack([X, np.zeros((n, 1))]), ("x₁", "")
    if d == 2:
        return X.copy(), ("x₁", "x₂")
    if method == "umap" and n >= 10:
        import umap   # heavy: only when asked for

        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=int(seed))
        return np.asarray(reducer.fit_transform(X), dtype=np.float64), ("UMAP 1", "UMAP 2")
    centred = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    xy = centred @ (axes * signs[:, None]).T
    if xy.shape[1] < 2:
        xy = np.hstack([xy, np.zeros((n, 2 - xy.shape[1]))])
    var = s ** 2 / max(float(np.sum(s ** 2)), 1e-300)
    names = tuple(f"PC {i + 1} ({100 * var[i]:.0f}% var.)" if i < len(var) else f"PC {i + 1}" for i in range(2))
    return xy, names


# -- per-step data ----------------------------------------------------------------------------

def n_clusters_before(trace: Trace, n: int) -> int:
    """K_n: clusters that exist when step n starts (the options are 0..K_n-1 and "new")."""
    return len(trace.probs[n]) - 1


def option_name(k: int, n_existing: int) -> str:
    return "new cluster" if k == n_existing else f"cluster {k}"


def chosen_text(trace: Trace, n: int) -> str:
    k, K = int(trace.choice[n]), n_clusters_before(trace, n)
    return f"new cluster {k}" if k == K else f"cluster {k}"


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


def _fmt_p(p: float) -> str:
    if p >= 0.995:
        return "1.00" if p >= 0.9995 else f"{p:.3f}"
    if p < 0.005:
        return "<0.01" if p > 0 else "0"
    return f"{p:.2f}"


def fmt_flow(log_value: float) -> str:
    """exp(log_value) written as 3.2e-4, even far outside float range."""
    if not np.isfinite(log_value):
        return "0" if log_value < 0 else "inf"
    e10 = log_value / math.log(10.0)
    exp = math.floor(e10)
    mant = 10 ** (e10 - exp)
    if mant >= 9.95:
        mant, exp = mant / 10, exp + 1
    return f"{mant:.1f}e{exp:+d}" if abs(exp) >= 3 else f"{math.exp(log_value):.3g}"


def flow_values(trace: Trace, n: int) -> dict | None:
    """{"log_in", "log_out", "ratio"} at step n for a GFNCP trace (None for NCP: logits)."""
    if trace.kind != "gfncp":
        return None
    log_in, log_out = flow_check(trace)
    li, lo = float(log_in[n]), float(log_out[n])
    return {"log_in": li, "log_out": lo, "ratio": float(np.exp(lo - li))}


def flow_line(trace: Trace, n: int) -> str:
    """One line: flow in vs flow out at step n and the running log q."""
    fv = flow_values(trace, n)
    logq = f"log q(partial clustering) = {trace.log_q[n]:.2f}"
    if fv is None:
        return f"{logq} · NCP scores options with logits, not flows"
    rel = "≈" if abs(fv["ratio"] - 1) < 0.05 else "≠"
    return (f"flow in {fmt_flow(fv['log_in'])} {rel} flow out {fmt_flow(fv['log_out'])} "
            f"(ratio out/in {fv['ratio']:.2f}) · {logq}")


def step_caption(trace: Trace, n: int, other: Trace | None = None) -> str:
    """Plain text: "Step 18 of 100: point #42 → cluster 2 (p = 0.62)" (+ the other model)."""
    k = int(trace.choice[n])
    text = (f"Step {n + 1} of {trace.n_steps}: point #{int(trace.order[n])} → {chosen_text(trace, n)} "
            f"(p = {_fmt_p(float(trace.probs[n][k]))})")
    if other is not None:
        q = np.asarray(other.probs[n])
        best = int(np.argmax(q))
        name = MODEL_LABEL.get(other.kind, other.kind)
        text += f"; {name} gives it {_fmt_p(float(q[k]))}"
        if best != k:
            text += f" and prefers {option_name(best, len(q) - 1)} ({_fmt_p(float(q[best]))})"
    return text


def _title(trace: Trace, n: int, other: Trace | None) -> dict:
    k = int(trace.choice[n])
    head = (f"<b>Step {n + 1} of {trace.n_steps}</b>: point #{int(trace.order[n])} → "
            f"<b><span style='color:{cluster_color(k)}'>{chosen_text(trace, n)}</span></b> "
            f"(p = {_fmt_p(float(trace.probs[n][k]))})")
    if other is not None:
        q = np.asarray(other.probs[n])
        best = int(np.argmax(q))
        head += f" · {MODEL_LABEL.get(other.kind, other.kind)}: {_fmt_p(float(q[k]))}"
        if best != k:
            head += f", prefers {option_name(best, len(q) - 1)}"
    flows = trace if trace.kind == "gfncp" else other if other is not None and other.kind == "gfncp" else None
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


def _plan(trace: Trace, other: Trace | None) -> _Layout:
    flows = trace if trace.kind == "gfncp" else other if other is not None and other.kind == "gfncp" else None
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
    return _Layout(rows, flow_row, gap_row, flows, gap, differs)


def _dynamic_traces(xy, trace: Trace, n: int, other: Trace | None, plan: _Layout, scale) -> list[dict]:
    """The traces that change from step to step, as plain dicts (same order every frame)."""
    clusters = point_clusters(trace, n)
    cs, cmin, cmax = scale
    point = int(trace.order[n])
    k = int(trace.choice[n])
    bars = bar_data(trace, n, other)
    main_name = MODEL_LABEL.get(trace.kind, trace.kind)
    line_w = [3 if i == bars.chosen else 0 for i in range(len(bars.labels))]
    text = [f"<b>{_fmt_p(p)} ✓ chosen</b>" if i == bars.chosen else _fmt_p(p) for i, p in enumerate(bars.probs)]
    out = [
        dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="markers", xaxis="x", yaxis="y",
             marker=dict(color=clusters, colorscale=cs, cmin=cmin, cmax=cmax, size=8, showscale=False,
                         line=dict(width=0.5, color="white")),
             showlegend=False, name="points"),
        dict(type="scatter", x=[xy[point, 0]], y=[xy[point, 1]], mode="markers", xaxis="x", yaxis="y",
             marker=dict(color=cluster_color(k), size=19, line=dict(width=3, color=CHOSEN_LINE)),
             showlegend=False, name="current point",
             hovertemplate=f"point #{point} (being assigned)<extra></extra>"),
        dict(type="bar", orientation="h", y=bars.labels, x=bars.probs, xaxis="x2", yaxis="y2",
             marker=dict(color=bars.colors, line=dict(color=CHOSEN_LINE, width=line_w)),
             text=text, textposition="outside", cliponaxis=False, name=main_name,
             showlegend=other is not None, legendgroup="bars",
             hovertemplate="%{y}: p = %{x:.3f}<extra>" + main_name + "</extra>"),
    ]
    if other is not None:
        oname = MODEL_LABEL.get(other.kind, other.kind)
        out.append(dict(type="bar", orientation="h", y=bars.labels, x=bars.other_probs, xaxis="x2", yaxis="y2",
                        marker=dict(color=bars.colors, opacity=0.55,
                                    pattern=dict(shape="/", fgcolor="#333", solidity=0.25),
                                    line=dict(color="#333", width=0.5)),
                        text=[_fmt_p(p) for p in bars.other_probs], textposition="outside", cliponaxis=False,
                        name=f"{oname} (same partial clustering)", showlegend=True, legendgroup="bars",
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
    if row == plan.flow_row:
        d = _flow_mismatch(plan.flows)
        m = float(np.max(np.abs(d[np.isfinite(d)]))) if np.isfinite(d).any() else 0.0
        m = max(m * 1.1, 0.05)
        return -m, m
    return 0.0, max(float(np.max(plan.gap)) * 1.1 if plan.gap is not None and len(plan.gap) else 0.0, 0.2)


def _flow_mismatch(trace: Trace) -> np.ndarray:
    log_in, log_out = flow_check(trace)
    return log_out - log_in


def _base_figure(xy, trace: Trace, other: Trace | None, plan: _Layout, axis_titles, height: int | None) -> go.Figure:
    titles = ["", "Policy at this step: probability of every option"]
    specs = [[{}, {}]]
    heights = [1.0]
    if plan.flow_row:
        specs.append([{"colspan": 2}, None])
        titles += ["GFNCP flow check per step: log(flow out / flow in); 0 = flow in equals flow out", ""]
        heights.append(0.3)
    if plan.gap_row:
        specs.append([{"colspan": 2}, None])
        titles += [f"Policy difference per step: max |p_{MODEL_LABEL.get(trace.kind)} − "
                   f"p_{MODEL_LABEL.get(other.kind)}| over the options (red: they would choose differently)", ""]
        heights.append(0.3)
    fig = make_subplots(rows=plan.rows, cols=2, specs=specs, column_widths=[0.56, 0.44],
                        row_heights=heights, subplot_titles=titles, horizontal_spacing=0.16,
                        vertical_spacing=0.1 if plan.rows > 1 else 0.05)
    steps = np.arange(1, trace.n_steps + 1)
    if plan.flow_row:
        d = _flow_mismatch(plan.flows)
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
    fig.update_layout(height=height or rows_h, margin=dict(l=10, r=10, t=78, b=10), bargap=0.25,
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
    if other is not None and (not np.array_equal(other.order, trace.order) or not np.array_equal(other.choice, trace.choice)):
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


def animated_figure(xy, trace: Trace, other: Trace | None = None, start: int = 0, speed: float = 4.0,
                    axis_titles=("x₁", "x₂"), height: int | None = None) -> go.Figure:
    """Every step as a Plotly frame, with Play / Pause buttons and a step slider; shown at
    step `start`. Playback runs in the browser at `speed` steps per second."""
    xy = _validate(xy, trace, other)
    start = int(np.clip(start, 0, trace.n_steps - 1))
    plan = _plan(trace, other)
    fig, n_static, scale = _assemble(xy, trace, start, other, plan, axis_titles, height)
    idx = list(range(n_static, len(fig.data)))
    frames = []
    for n in range(trace.n_steps):
        dyn = _dynamic_traces(xy, trace, n, other, plan, scale)
        # only what changes: the points' colours, the current point, bars, cursors
        dyn[0] = dict(type="scatter", marker=dict(color=dyn[0]["marker"]["color"]))
        frames.append(go.Frame(name=str(n), data=dyn, traces=idx, layout=dict(title=_title(trace, n, other))))
    fig.frames = frames
    ms = int(round(1000.0 / max(float(speed), 0.1)))
    play = dict(label="▶ Play", method="animate",
                args=[None, dict(frame=dict(duration=ms, redraw=True), transition=dict(duration=0),
                                 fromcurrent=True, mode="immediate")])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0),
                                    mode="immediate")])
    slider_steps = [dict(method="animate", label=str(n + 1),
                         args=[[str(n)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                              transition=dict(duration=0))])
                    for n in range(trace.n_steps)]
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0.0, xanchor="left",
                          y=-0.02, yanchor="top", pad=dict(t=6, r=6), buttons=[play, pause],
                          font=dict(size=13))],
        sliders=[dict(active=start, steps=slider_steps, x=0.17, len=0.83, y=-0.01, yanchor="top",
                      pad=dict(t=8, b=4), ticklen=0, minorticklen=0, font=dict(color="rgba(0,0,0,0)"),
                      currentvalue=dict(prefix="Step ", suffix=f" of {trace.n_steps}", visible=True,
                                        xanchor="left", font=dict(size=13, color="#333")),
                      transition=dict(duration=0))],
    )
    fig.update_layout(height=(fig.layout.height or 0) + 70, margin=dict(b=80))
    return fig
