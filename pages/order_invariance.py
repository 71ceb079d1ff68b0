"""Order invariance: shuffle the input order, see whose posterior moves."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gfncp import invariance as inv
from gfncp import orders as od
from gfncp.figures import invariance as figs
from gfncp.projection import project_2d
from gfncp.ui.busy import model_work
from gfncp.ui.state import get_dataset, models_or_stop
from gfncp.ui.studies import (DEFAULT_ORDERS, DEFAULT_SEED, EXACT_ORDERS, REWARD_SAMPLES, SCORED, OrderStudy,
                               exact_orders, reward_posterior, scored_orders)
from gfncp.ui.training_range import show_training_range

N_SHOWN = 3                # random orders shown next to the original one
PLOT_CONFIG = {"displaylogo": False}


def _differ(diff, n=None) -> str:
    k = int(np.sum(diff))
    return f"{k}{'' if n is None else f' of {n} points'} differ{'s' if k == 1 else ''}"


st.title("Order invariance")
st.markdown(
    "GFNCP and NCP both cluster a set one point at a time, so each could give a different answer when the "
    "same points arrive in a different order. Here we feed the current data set in many random orders and "
    "measure how much each model's answer moves."
)

ds = get_dataset()
gfn, ncp, X = models_or_stop(ds)

N = len(X)
if N < 2:
    st.info("Order invariance needs at least 2 points: the current data set has one. Pick another set on the Data page.")
    st.stop()

show_training_range(ds, gfn)
st.caption(f"Data: **{ds.name}** · {N} points in {ds.dim}-D · models **{gfn.name}** vs **{ncp.name}**")

st.session_state.setdefault("inv_n_orders", DEFAULT_ORDERS)      # defaults here: a link may have set them
st.session_state.setdefault("inv_seed", DEFAULT_SEED)
c1, c2, c3 = st.columns([2, 1, 2])
n_orders = c1.slider("Number of random orders R", 5, 200, step=5, key="inv_n_orders",
                     help="Each order is a uniformly random permutation of the points.")
seed = int(c2.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="inv_seed",
                           help="Seed of the numpy Generator that draws the orders."))

truth_known = ds.truth is not None
if st.session_state.get("inv_scored") not in [k for k in SCORED if truth_known or k != "truth"]:
    st.session_state.pop("inv_scored", None)       # a link's "truth" on a set without labels
scored = c3.radio(
    "Clustering scored in every order", [k for k in SCORED if truth_known or k != "truth"],
    format_func=SCORED.get, key="inv_scored",
    help="Section 1 asks both models for the probability of this one clustering under every order. "
         "A model's greedy clustering is its answer in the original order: usually a clustering it finds "
         "likely, whose probability need not move like that of the truth.")

models = {"GFNCP": gfn, "NCP": ncp}
study = OrderStudy(ds.key, models, X, ds.truth, n_orders, seed, scored)
orders = study.orders

# -- all model calls: cached per (model, task, chunk), on two threads, with a progress bar
# (gfncp/ui/studies.py; the prefetcher may have run some of them already).
try:
    bar = st.progress(0.0, text=f"Running both models under {n_orders} orders…")
    with model_work():
        done = study.run(threads=2, ctx=get_script_run_ctx(), on_done=lambda k, total: bar.progress(
            k / total, text=f"Running both models under {n_orders} orders… ({k}/{total})"))
    bar.empty()
except (ValueError, RuntimeError) as err:
    st.error(f"The models could not run on this data set: {err}")
    st.stop()
fixed = study.fixed

original = {name: done[(name, "greedy", 0)]["labels"][0] for name in models}
if scored != "truth":
    original[scored] = fixed             # the very clustering the orders are scored on
if scored == "truth":
    fixed_text = f"the true clustering of the data ({int(fixed.max()) + 1} clusters)"
else:
    fixed_text = (f"{SCORED[scored]} in the original order ({int(fixed.max()) + 1} clusters"
                  + ("" if truth_known else "; this data set has no labels") + ")")


fixed_lq = {name: study.stacked(done, name, "fixed", "log_q") for name in models}
greedy_labels = {name: study.stacked(done, name, "greedy", "labels") for name in models}
greedy_lq = {name: study.stacked(done, name, "greedy", "log_q") for name in models}
summaries = {name: inv.spread_summary(fixed_lq[name]) for name in models}

# -- 1. the number that matters -----------------------------------------------------------
st.header("1 · The probability of one clustering, order by order")
st.markdown(
    f"Take one fixed clustering, {fixed_text}, and ask each model for its probability "
    f"q(clustering | data) with the points fed in each of the {n_orders} orders. "
    "A model that describes a posterior over clusterings should give the same number every time."
)
left, right = st.columns([3, 2])
left.plotly_chart(figs.spread_figure(fixed_lq), width="stretch", config=PLOT_CONFIG)
with right:
    st.markdown("&nbsp;")
    for name in models:
        st.markdown(inv.describe_spread(name, summaries[name]))
    st.info(inv.compare_spreads("GFNCP", summaries["GFNCP"], "NCP", summaries["NCP"]))
    table = pd.DataFrame({
        name: {"median log q (nats)": f"{s['median']:.2f}", "std (nats)": f"{s['std']:.3g}",
               "range (nats)": f"{s['range']:.3g}", "max / min probability": inv.format_ratio(s),
               "probability std / mean": f"{s['cv']:.3g}"}
        for name, s in summaries.items()})
    st.table(table)

# GFNCP's reward posterior p_R = R / Z: one number for the clustering, whatever the order.
reward = None
if N <= inv.MAX_ORDER_TV_N + 1 or st.toggle(
        f"GFNCP's order-free reward posterior p_R of this clustering (importance sampling, {REWARD_SAMPLES} samples)",
        key="inv_reward", help="p_R(c | x) = R(c | x) / Z(x) from GFNCP's terminal flows, which do not depend on the "
                               "order. Exact (all partitions) for sets of up to 9 points; beyond, Z is estimated by "
                               "self-normalised importance sampling with GFNCP's policy q as proposal."):
    with st.spinner("GFNCP's reward posterior…"), model_work():
        reward, _ = reward_posterior(ds.key, gfn.name, REWARD_SAMPLES, seed, gfn, X)
    log_pr = reward.log_prob(gfn, X, fixed)
    how = (f"exact over all {len(reward.distribution):,} partitions" if reward.method == "exact" else
           f"importance sampling, {reward.n_samples} draws from q, effective sample size {reward.ess:.1f}")
    st.markdown(
        f"**GFNCP's reward posterior** p_R(c | x) = R(c | x) / Z(x) of this clustering: log p_R = **{log_pr:.2f}** nats "
        f"in every order ({how}), beside GFNCP's log q from {summaries['GFNCP']['min']:.2f} to "
        f"{summaries['GFNCP']['max']:.2f} nats over the orders. p_R is order-invariant by construction (it reads only "
        "the finished clusters); it equals q when the flows match. NCP has no reward.")

# The same clusterings scored by both models: the truth (when known) and each model's greedy answer.
others = {"GFNCP": "GFNCP's greedy clustering", "NCP": "NCP's greedy clustering"}
if st.toggle("Score every clustering with both models (the truth, each model's greedy answer)", key="inv_all_scored",
             help="A model's own greedy answer is a clustering it is confident about, whose probability moves less "
                  "with the order for that reason alone; scoring the same clusterings with both models is the "
                  "neutral comparison."):
    cands = ({"the truth": ds.truth} if truth_known else {}) | {others[n]: original[n] for n in models}
    rows = {}
    with st.spinner("Scoring the clusterings under every order…"), model_work():
        for label, lab in cands.items():
            key = "truth" if label == "the truth" else "greedy:" + label
            std = {name: float(np.std(scored_orders(ds.key, m.name, n_orders, seed, key, m, X, orders, lab)))
                   for name, m in models.items()}
            rows[label] = {"GFNCP std (nats)": f"{std['GFNCP']:.3g}", "NCP std (nats)": f"{std['NCP']:.3g}",
                           "lower": "GFNCP" if std["GFNCP"] < std["NCP"] else ("NCP" if std["NCP"] < std["GFNCP"] else "equal")}
    st.table(pd.DataFrame(rows).T)

# -- 1b. the whole distribution, exactly, on tiny sets ---------------------------------------
if N <= inv.MAX_ORDER_TV_N:
    st.header("1b · The whole distribution over clusterings, order by order")
    R_exact = min(EXACT_ORDERS, n_orders)
    st.markdown(
        f"With {N} points every clustering can be enumerated, so here is each model's exact probability of every "
        f"partition with the points fed in {R_exact} of the orders (the original one first), and the mean total "
        "variation between the orders (0 = the order changes nothing; 1 = disjoint). GFNCP's reward posterior p_R "
        "(black) is the same in every order.")
    with st.spinner("Enumerating every partition under each order…"), model_work():
        dists = {name: exact_orders(ds.key, m.name, R_exact, seed, m, X, orders[:R_exact])[1]
                 for name, m in models.items()}
    tvs = {name: inv.order_tv(P)["mean"] for name, P in dists.items()}
    if reward is not None and reward.method == "exact":
        labels_all = exact_orders(ds.key, gfn.name, R_exact, seed, gfn, X, orders[:R_exact])[0]
        p_reward = inv.probabilities_of(labels_all, reward.distribution)
    else:
        p_reward = None
    st.plotly_chart(figs.order_distributions_figure(dists, p_reward=p_reward, tv_by_model=tvs),
                    width="stretch", config=PLOT_CONFIG)
    lower = min(tvs, key=tvs.get)
    st.caption(f"Mean total variation between the {R_exact} orders: GFNCP {tvs['GFNCP']:.3f}, NCP {tvs['NCP']:.3f} "
               f"({'equal' if tvs['GFNCP'] == tvs['NCP'] else lower + ' lower'}). Partitions ranked by GFNCP's mean "
               "probability over the orders.")

# -- 2. what a user sees ----------------------------------------------------------------------
st.header("2 · The clustering each model outputs")
st.markdown(
    "Greedy decoding (the most probable option at every step) under the original order and the first "
    f"{N_SHOWN} random orders. Colours are matched across panels (equal colour = same cluster); "
    "points ringed in red sit in a different cluster than in that model's original-order clustering."
)
P, axis_titles = project_2d(ds.X, variance_in_titles=False)
if ds.dim > 2:
    st.caption("The data have more than two dimensions: the panels show the first two principal components.")
ref_colours = {name: inv.match_labels(fixed, original[name]) for name in models}
panels = []
for name in models:
    panels.append({"labels": ref_colours[name], "title": f"{name} · original order · K={original[name].max() + 1}"})
    for r in range(min(N_SHOWN, n_orders)):
        lab = greedy_labels[name][r]
        diff = inv.differences(ref_colours[name], lab)
        panels.append({"labels": inv.match_labels(ref_colours[name], lab), "differs": diff,
                       "title": f"{name} · order {r + 1} · K={lab.max() + 1} · {_differ(diff)}"})
st.plotly_chart(figs.clusterings_figure(P, panels, n_cols=1 + min(N_SHOWN, n_orders), axis_titles=axis_titles),
                width="stretch", config=PLOT_CONFIG)

truth = ds.truth
agree = {name: study.agreement(done, name) for name in models}
rows = {}
for name, a in agree.items():
    row = {"distinct clusterings": f"{a['n_distinct']} of {a['n_orders']}",
           "most common clustering": f"{a['modal_share']:.0%} of orders",
           "mean pairwise ARI": f"{a['mean_pairwise_ari']:.3f}",
           "clusters K": (f"{a['k_min']}" if a["k_min"] == a["k_max"] else f"{a['k_min']}–{a['k_max']}")}
    if truth is not None:
        row["NMI to truth (mean)"] = f"{a['nmi_truth_mean']:.3f}"
        row["ARI to truth (mean)"] = f"{a['ari_truth_mean']:.3f}"
    rows[name] = row
st.markdown(f"**Agreement across all {n_orders} orders** (ARI 1 = identical clusterings):")
st.table(pd.DataFrame(rows))

# -- 3. shuffle once ------------------------------------------------------------------------
st.header("3 · Shuffle once")
state_key = f"inv_shuffle_{ds.key}_{seed}"


def _shuffle():
    st.session_state[state_key] = st.session_state.get(state_key, 0) + 1


st.button("Shuffle once", on_click=_shuffle, type="primary")
count = st.session_state.get(state_key, 0)
if count == 0:
    st.caption("Press the button to feed the points in a fresh random order and compare each model's clustering "
               "with its clustering in the original order.")
else:
    order = inv.one_order(N, seed, count)
    try:
        shuffled = {name: study.greedy_one(name, order, f"shuffle:{seed}:{count}") for name in models}
    except (ValueError, RuntimeError) as err:
        st.error(f"The models could not run on this order: {err}")
        st.stop()
    sp = []
    for name in models:
        diff = inv.differences(ref_colours[name], shuffled[name])
        sp.append({"labels": inv.match_labels(ref_colours[name], shuffled[name]), "differs": diff,
                   "title": f"{name} · shuffle #{count} · K={shuffled[name].max() + 1} · {_differ(diff, N)}"})
    st.plotly_chart(figs.clusterings_figure(P, sp, n_cols=2, axis_titles=axis_titles, panel_size=380),
                    width="stretch", config=PLOT_CONFIG)
    lq = {name: models[name].log_prob(X, fixed, order=order) for name in models}
    st.caption(f"Shuffle #{count} (first points fed: {', '.join(str(i) for i in order[:8])}, …). "
               f"log q of the fixed clustering under this order: GFNCP {lq['GFNCP']:.2f} "
               f"(median over the {n_orders} orders {summaries['GFNCP']['median']:.2f}), "
               f"NCP {lq['NCP']:.2f} (median {summaries['NCP']['median']:.2f}).")

# -- 3b. orders chosen by hand ----------------------------------------------------------------
st.subheader("Orders of your choice, side by side")


@st.cache_data(show_spinner=False, max_entries=32)
def hand_orders_table(data_key: str, specs: tuple, fixed_key: str, _models, _X, _fixed, _orders):
    orders = np.stack(_orders)
    out = {}
    for name, m in _models.items():
        labels, greedy_lq = m.greedy_orders(_X, orders)
        out[name] = {"fixed": m.log_prob_orders(_X, _fixed, orders), "k": labels.max(axis=1) + 1,
                     "greedy": greedy_lq}
    return out


example = "data,reversed,pca" + (",clusters" if truth_known else "") + ",random:1" + (
    ",typed:" + ".".join(str(i) for i in reversed(range(N))) if N <= od.TYPED_MAX_N else "")


def _use_example() -> None:
    st.session_state["inv_hand_orders"] = example


st.session_state.setdefault("inv_hand_orders", "")      # nothing runs until orders are typed (or linked)
row = st.container(horizontal=True, vertical_alignment="bottom")
text = row.text_input(
    "Orders (separated by commas)", key="inv_hand_orders", placeholder=example, width=520,
    help="data = the data's row order; reversed; pca = sorted along the first principal axis; clusters = cluster by "
         f"cluster (true labels); random:SEED; typed:I.J.K… (every point once, sets of up to {od.TYPED_MAX_N} points).")
chosen, problems = od.parse_order_specs(text, N, X=ds.X, labels=truth)
for p in problems:
    st.warning(p, icon=":material/warning:")
if chosen:
    specs = tuple(s for s, _ in chosen)
    try:
        hand = hand_orders_table(ds.key, specs, str(hash(fixed.tobytes())), models, X, fixed, [o for _, o in chosen])
    except (ValueError, RuntimeError) as err:
        st.error(f"The models could not run on these orders: {err}")
    else:
        st.table(pd.DataFrame({
            "order": [f"{s} ({od.format_order(o[:6])}{' …' if N > 6 else ''})" for s, o in chosen],
            "GFNCP log q (fixed clustering)": [f"{v:.2f}" for v in hand["GFNCP"]["fixed"]],
            "NCP log q (fixed clustering)": [f"{v:.2f}" for v in hand["NCP"]["fixed"]],
            "GFNCP greedy K": hand["GFNCP"]["k"], "NCP greedy K": hand["NCP"]["k"],
        }).set_index("order"))
        st.caption(f"log q of {fixed_text} under each order (nats), and the number of clusters each model finds "
                   "when the points come in that order. An order-invariant model gives the same log q in every row.")
else:
    st.caption("Type the orders to compare, e.g. " + example + ", or press **Use the example**.")

# -- 4. why ---------------------------------------------------------------------------------
st.header("4 · Why GFNCP should not care about the order")
why, gap_col = st.columns([3, 2])
why.markdown(
    "Both models multiply step probabilities, one per point, so in general the product depends on the order. "
    "GFNCP's step probabilities are ratios of *flows* F(s) = exp(−E(s)), and the energy E of a state depends "
    "only on the clusters formed so far and on the set of points still waiting, not on how the state was "
    "reached. Summing the flow-matching residuals r_n along the path gives, in every order,\n\n"
    "  **log q(c | x) = log R(c | x) − log F(root) + Σ_n r_n**,\n\n"
    "where R(c | x) depends only on the finished clustering and F(root) only on the set of points: neither "
    "knows the order (docs/method.md §Flows and order invariance). So what makes log q move with the order is how "
    "much the residual sum **varies between orders**, measured on the right; a residual sum that is the same in "
    "every order (a level) leaves q order-invariant. R / Z, GFNCP's reward posterior p_R (above), is order-free "
    "whatever the residuals. "
    "NCP has no flows: its scores are unnormalised logits with no such identity, so the check is not shown for NCP."
)
residuals = inv.residual_sum_spread(*(study.stacked(done, "GFNCP", "fixed", field)
                                      for field in ("log_q", "log_reward", "log_root")))
with gap_col:
    st.markdown("**GFNCP's summed flow residual** Σ r_n = log q − (log R − log F(root)), order by order, "
                "for the fixed clustering")
    box = st.success if summaries["GFNCP"]["rounding"] or residuals["std"] <= inv.CONSISTENT_GAP_NATS else st.warning
    box(inv.describe_residual_spread(residuals, n_orders))

# -- export ---------------------------------------------------------------------------------
per_order = pd.DataFrame({
    "order_index": np.arange(1, n_orders + 1),
    "gfncp_log_q_fixed": fixed_lq["GFNCP"], "ncp_log_q_fixed": fixed_lq["NCP"],
    "gfncp_residual_sum": residuals["sum"],
    "gfncp_greedy_k": greedy_labels["GFNCP"].max(axis=1) + 1, "ncp_greedy_k": greedy_labels["NCP"].max(axis=1) + 1,
    "gfncp_greedy_log_q": greedy_lq["GFNCP"], "ncp_greedy_log_q": greedy_lq["NCP"],
    "order": [" ".join(map(str, o)) for o in orders],
})
buf = io.StringIO()
per_order.to_csv(buf, index=False)
st.download_button("Download per-order results (CSV)", buf.getvalue(), file_name=f"order_invariance_{ds.key}.csv",
                   mime="text/csv", on_click="ignore", help="One row per order: log q of the fixed clustering under both models, "
                                         "GFNCP's summed flow residual, the greedy clusterings' K and log q, and the order.")
