"""The GFlowNet state graph of a tiny set: every state, its flow, every edge's probability."""
from __future__ import annotations

import numpy as np
import streamlit as st

from gfncp import orders as od
from gfncp import references as refs
from gfncp import state_graph as sg
from gfncp.figures.state_graph import residual_summary, state_graph_figure
from gfncp.ui.sources import generated_dataset
from gfncp.ui.state import current_pair, get_dataset, models_or_stop, set_dataset
from gfncp.prior import TEXTBOOK
from gfncp.ui.studies import mixture_references_apply
from gfncp.ui.training_range import show_training_range

PLOT_CONFIG = {"displaylogo": False}


@st.cache_data(max_entries=16, show_spinner=False)
def cached_graph(data_key: str, model_name: str, model_id: int, _model, _X):
    g = sg.state_graph(_model, _X)
    orders, table = g.terminal_log_q()
    return g, orders, table


@st.cache_data(max_entries=16, show_spinner=False)
def cached_exact(data_key: str, _X):
    return refs.exact_posterior(_X, **TEXTBOOK.as_dict())


def _example(n: int) -> None:
    set_dataset(generated_dataset(dict(n_points=n, dim=2, alpha=0.7, sigma=1.0, lam=10.0, seed=EXAMPLE_SEED[n])))
    st.session_state["sg_step"] = n


EXAMPLE_SEED = {3: 2, 4: 3, 5: 3}      # small sets with two clusters

st.title("The GFlowNet state graph")
st.markdown(
    "GFNCP builds a clustering one point at a time. Every **state** is a partial clustering of the points "
    "assigned so far; an **edge** adds one more point, to a cluster or as a new one. The network gives each "
    "state a flow F(s) = exp(−E(s)) from the clusters formed and the points still waiting, not from how the "
    "state was reached; the policy's probability of an edge is the child's share of the flows offered. When "
    "every state passes on exactly the flow it receives (**flow matching**: residual 0), the probability of a "
    "finished clustering is R(c)/F(root) along every path, so it cannot depend on the order of the points. "
    "Here is that graph, whole, for a set of up to five points (the method in full: `docs/method.md`).")

ds = get_dataset()
if ds.n > sg.MAX_POINTS:
    st.info(f"The current set has {ds.n} points: the whole graph is drawn for sets of up to {sg.MAX_POINTS} "
            f"points ({sg.n_states(sg.MAX_POINTS)} states; {ds.n} points would have {sg.n_states(min(ds.n, 12)):,}"
            f"{' or more' if ds.n > 12 else ''}). Take a small example set (the current one is replaced; the Data page "
            "can bring yours back):", icon=":material/account_tree:")
    row = st.container(horizontal=True)
    for n in (3, 4, 5):
        row.button(f"{n} points", key=f"sg_example_{n}", on_click=_example, args=(n,), icon=":material/scatter_plot:")
    st.stop()

gfn, ncp, X = models_or_stop(ds)
show_training_range(ds, gfn)
st.caption(f"Data: **{ds.name}** ({ds.n} points, {ds.dim}-D) · models `{gfn.name}` and `{ncp.name}`. "
           "Points are numbered by their row in the data, from 0.")

with st.container(border=True):
    row = st.container(horizontal=True, gap="small")
    c1, c2, c3 = (row.container(width=px) for px in (220, 330, 300))
    with c1:
        model_label = st.radio("Model", ["GFNCP", "NCP"], horizontal=True, key="sg_model",
                               help="NCP's scores are logits, not flows: its edge probabilities are real, "
                                    "its 'flows' and residuals mean nothing.")
    model = gfn if model_label == "GFNCP" else ncp
    kinds = od.available_kinds(ds.n, ds.truth is not None)
    st.session_state.setdefault("sg_order_kind", "data")
    if st.session_state["sg_order_kind"] not in kinds:
        st.session_state["sg_order_kind"] = "data"
    with c2:
        kind = st.selectbox("Input order", kinds, format_func=od.ORDER_KINDS.get, key="sg_order_kind")
        order_seed, order_text = 1, ""
        if kind == "random":
            order_seed = int(st.number_input("Order seed", min_value=0, max_value=2**31 - 1, step=1, key="sg_order_seed"))
        elif kind == "typed":
            st.session_state.setdefault("sg_order_text", " ".join(str(i) for i in reversed(range(ds.n))))
            order_text = st.text_input(f"Order (the {ds.n} point numbers)", key="sg_order_text",
                                       help="e.g. 2 0 1: point 2 first, then 0, then 1.")
    try:
        order = od.make_order(kind, ds.n, X=ds.X, labels=ds.truth, seed=order_seed, text=order_text)
    except od.OrderError as err:
        st.error(f"{err} Showing the data's row order meanwhile.", icon=":material/error:")
        order = np.arange(ds.n)
    with c3:
        st.session_state["sg_step"] = int(np.clip(st.session_state.get("sg_step", ds.n), 0, ds.n))
        step = st.slider("Step on the path", 0, ds.n, key="sg_step",
                         help="0 = the root (nothing assigned); the ringed state is the one after this step.")

with st.spinner("Computing every state's flow…"):
    g, orders, table = cached_graph(ds.key, model.name, id(model), model, X)
labels = model.greedy(X, order=order)
exact = None
if mixture_references_apply(current_pair(ds), ds.source):
    exact = sg.exact_terminal_log_probs(g, cached_exact(ds.key, ds.X))

fig = state_graph_figure(g, orders, table, exact=exact, path=(order, labels), current=step)
st.plotly_chart(fig, config=PLOT_CONFIG, key="sg_figure")
st.caption(f"Left: all {g.n_states} states, by the number of points assigned; colour = log F(s) − log F(root) "
           "(log units, relative to the root); edge width = the policy's probability of the edge given the point it "
           f"adds. Orange: the path {model_label}'s greedy choices take in the chosen order "
           f"({od.format_order(order)}). Right, on the rows of the {len(g.terminals)} finished clusterings: q under "
           f"each of the {len(orders)} orders (grey), in the chosen order (orange)"
           + (" and the exact posterior of the mixture model (black)." if exact is not None else
              "; no exact posterior for this kind of data (it assumes a mixture of round Gaussians)."))

path = g.path(order, labels)
res = g.path_residuals(order, labels)
by_edges = g.path_log_q(order, labels)
s = residual_summary(g, table)
term = path[-1]
row_t = int(np.flatnonzero(g.terminals == term)[0])
spread = float(np.ptp(table[row_t]))
if model.kind == "gfncp":
    st.markdown(
        f"**Along the orange path** the policy's log-probabilities add up to log q = **{by_edges:.2f}** nats for "
        f"{g.text(term)}. The same number from flows: log F(terminal) − log F(root) = {g.log_flow[term]:+.2f}, "
        f"plus the residuals of the states it passes ({', '.join(f'{r:+.2f}' for r in res)}). "
        f"With every residual 0, log q would be {g.log_flow[term]:+.2f} in every order; over the {len(orders)} "
        f"orders it ranges over {spread:.2f} nats for this clustering.")
    st.caption(f"Largest |residual| of any state: {s['max_abs_residual']:.2f} nats; the largest spread of a "
               f"clustering's log q across the orders: {s['max_spread']:.2f} nats (median {s['median_spread']:.2f}). "
               "A residual is log F(s) − log Σ F(children adding the next point), so it depends on which point "
               "comes next: hover a state for each.")
else:
    st.markdown(f"**Along the orange path** NCP's log-probabilities add up to log q = **{by_edges:.2f}** nats for "
                f"{g.text(term)}; over the {len(orders)} orders it ranges over {spread:.2f} nats. NCP's scores are "
                "logits: nothing ties them across states, so there is no flow to match.")
