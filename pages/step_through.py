"""Step-through: watch GFNCP's sequential policy assign the points one by one."""
from __future__ import annotations

import json
import time

import numpy as np
import streamlit as st

from gfncp import orders as od
from gfncp import state_graph as sg
from gfncp import trace_export as tx
from gfncp.figures import step_text as stt
from gfncp.figures import step_through as stf
from gfncp.projection import project_2d
from gfncp.trace import flow_mismatch, flows_of
from gfncp.ui import url_state
from gfncp.ui.state import get_dataset, models_or_stop
from gfncp.ui.training_range import show_training_range

SPEEDS = [1, 2, 4, 8, 15]           # steps per second
MIN_TICK_S = 0.25                    # the server redraws at most 4 times a second; faster speeds skip steps


# -- cached work (the page never re-runs a model per frame) -------------------------------------

def _timed(name: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    st.session_state.setdefault("st_timings", {})[name] = time.perf_counter() - t0
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def cached_trace(data_key: str, model_name: str, order: tuple, mode: str, seed: int, _model, _X,
                 model_id: int = 0):
    """model_id: id() of the loaded model, so that a reloaded model gets fresh traces."""
    return _timed("trace " + model_name, _model.trace, _X, seed=seed, mode=mode, order=np.asarray(order))


@st.cache_data(max_entries=32, show_spinner=False)
def cached_forced(data_key: str, model_name: str, path: tuple, _model, _X, _path_trace, model_ids: tuple = ()):
    """`model_name`'s policy along the path identified by `path` (model, order seed, mode, seed)."""
    return _timed("forced " + model_name, tx.forced_trace, _model, _X, _path_trace)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_projection(data_key: str, method: str, _X):
    return project_2d(_X, method, seed=0)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_exports(key: tuple, meta_json: str, _trace) -> tuple[bytes, bytes]:
    return tx.trace_json_bytes(_trace, json.loads(meta_json)), tx.trace_csv_bytes(_trace)


# -- widget callbacks ---------------------------------------------------------------------------

def _move(delta: int, n_steps: int) -> None:
    _pause()
    st.session_state["st_step"] = int(np.clip(st.session_state.get("st_step", 1) + delta, 1, n_steps))


def _reset() -> None:
    _pause()
    st.session_state["st_step"] = 1


def _pause() -> None:
    if st.session_state.get("st_playing"):
        st.session_state["st_playing"] = False
        st.session_state["st_full_rerun"] = True     # stops the fragment's timer


def _toggle_play(n_steps: int) -> None:
    playing = not st.session_state.get("st_playing", False)
    if playing and st.session_state.get("st_step", 1) >= n_steps:
        st.session_state["st_step"] = 1          # play again from the start
    st.session_state["st_playing"] = playing
    st.session_state["st_play_hold"] = playing   # the run right after Play shows the current step
    st.session_state["st_full_rerun"] = True     # the fragment's timer is set up by a full run


def _clusters(trace) -> str:
    k = int(trace.labels.max()) + 1
    return f"{k} cluster{'s' if k != 1 else ''}"


def _new_order() -> None:
    if st.session_state.get("st_order_kind") == "random":
        st.session_state["st_order_seed"] = int(st.session_state.get("st_order_seed", 1)) + 1
    st.session_state["st_order_kind"] = "random"


# -- page -----------------------------------------------------------------------------------------

st.title("Step-through")
st.markdown(
    "GFNCP clusters a set by taking its points **one at a time**. At every step its policy gives a "
    "probability to each existing cluster and to a **new cluster**, and one option is taken. "
    "Step through the assignments below, or play them."
)

ds = get_dataset()
gfn, ncp, X = models_or_stop(ds)

N = ds.n
show_training_range(ds, gfn)
st.caption(
    f"Data: **{ds.name}** ({N} points, {ds.dim}-D) · models: `{gfn.name}` and `{ncp.name}` · change the data "
    "on the Data page."
    + (f" With {N} points the whole GFlowNet is small enough to draw: see the **State graph** page." if N <= sg.MAX_POINTS
       else "")
)

# settings -------------------------------------------------------------------------------------
# Defaults in session state (not as widget values): a link may have set them (gfncp/ui/url_state.py).
kinds = od.available_kinds(N, ds.truth is not None)
for key, default in (("st_order_kind", "data"), ("st_order_seed", 1), ("st_order_text", ""), ("st_seed", 0),
                     ("st_speed", 4), ("st_mode", "Greedy"), ("st_compare", False), ("st_path", "GFNCP's choices"),
                     ("st_projection", "PCA")):
    st.session_state.setdefault(key, default)
if st.session_state["st_order_kind"] not in kinds:
    st.session_state["st_order_kind"] = "data"
with st.container(border=True):
    # Fixed-width groups in a row that wraps: equal columns cut labels off in a narrow window.
    row = st.container(horizontal=True, gap="small")
    c1, c2, c3, c4 = (row.container(width=px) for px in (185, 250, 205, 195))
    with c1:
        mode_label = st.radio("Decoding", ["Greedy", "Sampled"], horizontal=True, key="st_mode",
                              help="Greedy takes the most probable option at every step; Sampled draws "
                                   "the option from the policy (reproducible with the seed).")
        mode = "sample" if mode_label == "Sampled" else "greedy"
        seed = int(st.number_input("Sampling seed", min_value=0, max_value=2**31 - 1, step=1,
                                   key="st_seed", disabled=mode == "greedy"))
    with c2:
        kind = st.selectbox("Input order", kinds, format_func=od.ORDER_KINDS.get, key="st_order_kind",
                            help="The order in which the points are fed to the policy. Typed: your own order "
                                 f"(sets of up to {od.TYPED_MAX_N} points).")
        order_seed, order_text = int(st.session_state["st_order_seed"]), ""
        if kind == "random":
            order_seed = int(st.number_input("Order seed", min_value=0, max_value=2**31 - 1, step=1,
                                             key="st_order_seed"))
        elif kind == "typed":
            if not st.session_state["st_order_text"]:
                st.session_state["st_order_text"] = " ".join(str(i) for i in reversed(range(N)))
            order_text = st.text_input(f"Order: the {N} point numbers", key="st_order_text",
                                       help="Points are numbered by their row in the data, from 0; e.g. '2 0 1'.")
        st.button("New random order", key="st_new_order", icon=":material/shuffle:", on_click=_new_order,
                  width="stretch")
    with c3:
        compare = st.toggle("Compare with NCP", key="st_compare",
                            help="Show NCP's policy on the same partial clusterings, side by side with GFNCP's.")
        path_label = st.radio("Path followed", ["GFNCP's choices", "NCP's choices"], horizontal=True,
                              key="st_path", disabled=not compare,
                              help="Whose decisions build the partial clustering; the other model's "
                                   "probabilities are evaluated on the same states.")
    with c4:
        projection = "pca"
        if ds.dim > 2:
            view = st.radio("2-D view", ["PCA", "UMAP"], horizontal=True, key="st_projection",
                            help="How the points are drawn (the models see the full data).")
            projection = "umap" if view == "UMAP" else "pca"
        speed = st.select_slider("Speed (steps per second)", SPEEDS, key="st_speed")

try:
    order = od.make_order(kind, N, X=ds.X, labels=ds.truth, seed=order_seed, text=order_text)
except od.OrderError as err:
    st.error(f"{err} Meanwhile the points are fed in the data's row order.", icon=":material/error:")
    kind, order = "data", np.arange(N)
order_key = tuple(int(i) for i in order)
if kind == "data" and ds.source in ("real", "upload"):
    st.caption(":material/info: A table's rows are often stored sorted by class, an order the models never saw "
               "in training (every training set came in a random order), and a greedy pass can then stay in one "
               "cluster. Choose a random order to see the kind of order they know.")

# traces (computed once per data set, model, order, decoding and seed) --------------------------------
follow_ncp = compare and path_label == "NCP's choices"
main_model, other_model = (ncp, gfn) if follow_ncp else (gfn, ncp)
try:
    with st.spinner(f"Running {main_model.name} on {N} points…"):
        trace = cached_trace(ds.key, main_model.name, order_key, mode, seed, main_model, X, id(main_model))
        other = None
        if compare:
            other = cached_forced(ds.key, other_model.name, (main_model.name, order_key, mode, seed),
                                  other_model, X, trace, (id(main_model), id(other_model)))
    with st.spinner("Projecting the points to 2-D…" if ds.dim > 2 else "Preparing…"):
        xy, axis_titles = cached_projection(ds.key, projection, ds.X)
except (ValueError, RuntimeError) as err:
    st.error(f"Could not compute the trace: {err}")
    st.stop()

trace_id = (ds.key, main_model.name, order_key, mode, seed, id(main_model))
if st.session_state.get("st_trace_id") not in (None, trace_id):
    st.session_state["st_step"] = 1              # a new path starts at step 1 (a link's step is kept)
    st.session_state["st_playing"] = False
st.session_state["st_trace_id"] = trace_id
st.session_state["st_step"] = int(np.clip(st.session_state.get("st_step", 1), 1, N))

st.markdown(f"**Input order:** {od.describe_order(kind, order, order_seed)}. Step n assigns the n-th point "
            "of this list.")

playing = bool(st.session_state.get("st_playing", False))
tick = max(1.0 / float(speed), MIN_TICK_S)


@st.fragment(run_every=tick if playing else None)
def player() -> None:
    t0 = time.perf_counter()
    if st.session_state.pop("st_full_rerun", False):
        st.rerun()                               # start / stop the fragment's timer
    skipped = max(1, int(round(speed * tick)))     # steps per redraw: 1 up to 4 steps/s, then 2 or 4
    if st.session_state.get("st_playing", False) and not st.session_state.pop("st_play_hold", False):
        # one redraw per tick, so every step up to 4 steps/s is drawn (a slow machine plays slower, it
        # does not skip); caption and figure below are the same step
        st.session_state["st_step"] = min(st.session_state["st_step"] + skipped, N)
        if st.session_state["st_step"] >= N:
            st.session_state["st_playing"] = False
            st.session_state["st_full_rerun"] = True     # the next run stops the timer
    n = st.session_state["st_step"] - 1          # the slider below shows the same value
    is_playing = st.session_state.get("st_playing", False)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.button("Reset", key="st_reset", icon=":material/skip_previous:", on_click=_reset, help="Back to step 1")
        st.button("Back", key="st_back", icon=":material/chevron_left:", on_click=_move, args=(-1, N),
                  disabled=n <= 0)
        st.button("Step", key="st_forward", icon=":material/chevron_right:", icon_position="right",
                  on_click=_move, args=(1, N), disabled=n >= N - 1)
        st.button("Pause" if is_playing else "Play", key="st_play",
                  icon=":material/pause:" if is_playing else ":material/play_arrow:",
                  on_click=_toggle_play, args=(N,), type="primary" if is_playing else "secondary",
                  disabled=N <= 1)
        if ds.images is not None:
            img = np.asarray(ds.images[int(trace.order[n])], dtype=float).reshape(8, 8)
            st.image(np.kron(1 - img / max(img.max(), 1e-9), np.ones((5, 5))), width=40)
        with st.container(width="stretch"):
            st.caption(f"**{stt.step_caption(trace, n, other)}**",
                       help="Steps count from 1; points are numbered by their row in the data (from 0).")
    if N > 1:
        st.slider("Step", 1, N, key="st_step", label_visibility="collapsed")
    fig = stf.step_figure(xy, trace, n, other, axis_titles=axis_titles)
    st.plotly_chart(fig, key="st_figure", config={"displaylogo": False})
    st.session_state.setdefault("st_timings", {})["step view"] = time.perf_counter() - t0
    note = ("Play, Pause, Reset, Back, Step and the slider all move the one step shown; the caption and the figure "
            "are drawn together, from the recorded trace (the model is not run again).")
    if skipped > 1 and is_playing:
        note += f" At {speed} steps per second the view is redrawn every {skipped} steps."
    st.caption(f"{note} Server time for this view: {time.perf_counter() - t0:.2f} s.")
    url_state.publish("step_through")            # the address bar follows the step


player()

# explanation, comparison, export ------------------------------------------------------------------
flows_trace = flows_of(trace, other)
if flows_trace is not None:
    mismatch = flow_mismatch(flows_trace)
    worst = int(np.argmax(np.abs(mismatch)))
    st.info(f"**What flow in = flow out means.** {stt.FLOW_EXPLANATION} On this path the two differ most "
            f"at step {worst + 1}: log(flow out) − log(flow in) = {mismatch[worst]:+.2f} nats "
            "(flows are shown in log units).", icon=":material/water:")
if compare and other is not None:
    gap = tx.policy_gap(trace, other)
    differs = tx.preferred_options(trace) != tx.preferred_options(other)
    own_g = cached_trace(ds.key, gfn.name, order_key, mode, seed, gfn, X, id(gfn))
    own_n = cached_trace(ds.key, ncp.name, order_key, mode, seed, ncp, X, id(ncp))
    same = bool(np.array_equal(own_g.labels, own_n.labels))
    st.markdown(
        f"**Where the policies differ.** On this path the two models would pick different options at "
        f"**{int(differs.sum())}** of {N} steps, and their probabilities differ by more than "
        f"{stf.GAP_THRESHOLD} at **{int((gap > stf.GAP_THRESHOLD).sum())}** steps. Run on their own in this order, "
        f"GFNCP finds {_clusters(own_g)} and NCP {_clusters(own_n)}"
        + (" (the same clustering)." if same else " (different clusterings).")
    )
    if differs.any():
        steps = ", ".join(str(int(s) + 1) for s in np.flatnonzero(differs)[:12])
        st.caption(f"Steps where they would choose differently: {steps}{' …' if differs.sum() > 12 else ''}.")

st.subheader("Export the trace")
st.caption("One record per step: the point assigned, every option with its probability and log-flow, the "
           "choice and the running log q. In the files `step` counts from 0.")
meta = {"data": ds.name, "data_key": ds.key, "model": main_model.name, "decoding": mode, "seed": seed,
        "order": od.order_spec(kind, order_seed, order), "order_seed": order_seed}
exports = [(trace, main_model.name, meta)]
if compare and other is not None:
    exports.append((other, other_model.name, {**meta, "model": other_model.name, "path_of": main_model.name}))
row = st.container(horizontal=True, gap="small")     # buttons as wide as their labels, wrapping (no cut labels)
for i, (tr, name, m) in enumerate(exports):
    key = trace_id + (name, compare)
    js, cs = cached_exports(key, json.dumps(m, sort_keys=True), tr)
    stem = f"trace_{name}_{ds.key[:8]}_{od.order_spec(kind, order_seed, order).replace(':', '-').replace('.', '-')[:40]}_{mode}"
    label = name if i == 0 else f"{name}, same path"
    row.download_button(f"{label} · JSON", js, icon=":material/download:", file_name=stem + ".json",
                        mime="application/json", key=f"st_dl_json_{i}", width="content")
    row.download_button(f"{label} · CSV", cs, icon=":material/download:", file_name=stem + ".csv",
                        mime="text/csv", key=f"st_dl_csv_{i}", width="content")
