"""Uncertainty: how sure is GFNCP about each point, each pair of points and the number of
clusters, and how does its posterior compare with the exact one / a Gibbs sampler?"""
from __future__ import annotations

import functools
import time

import numpy as np
import pandas as pd
import streamlit as st

from gfncp import posterior as post
from gfncp.exports import matrix_csv, per_point_csv
from gfncp.figures import uncertainty as figs
from gfncp.prior import TEXTBOOK
from gfncp.ui.busy import model_work
from gfncp.ui.state import current_pair, get_dataset, models_or_stop, projection
from gfncp.ui.training_range import show_training_range
from gfncp.ui.studies import (DEFAULT_BURN_IN, DEFAULT_SAMPLES, DEFAULT_SWEEPS, REFERENCES, automatic_reference,
                               baseline, clamp_burn_in, exact_posterior, gibbs_run, kmeans_k, mixture_references_apply,
                               model_exact, posterior_summary, reward_posterior)

PLOT_CONFIG = {"displaylogo": False}
HEATMAP_MAX = 300          # larger sets: an evenly spaced subset (a 440-px panel has no room for more rows)
N_GALLERY = 8
COLOURINGS = {
    "entropy": "Entropy",
    "probability": "P(most likely cluster)",
    "mate_confidence": "Cluster-mate confidence",
    "cluster": "Reference cluster",
}


# -- cached computations (keyed by data set, model and parameters; models and arrays unhashed)

def _projection(data_key: str, method: str, n_neighbors: int, min_dist: float, X):
    """2-D view of the set, cached per data set and parameters (shared with the other pages)."""
    t0 = time.perf_counter()
    P = projection(data_key, X, method=method, seed=0, n_neighbors=n_neighbors, min_dist=min_dist)
    return np.asarray(P, dtype=float)[:, :2], time.perf_counter() - t0


def _fmt_q(log_q: float) -> str:
    return f"q={np.exp(log_q):.2f}" if log_q >= np.log(0.01) else f"log q={log_q:.1f}"


def metric(row, label: str, value, **kwargs) -> None:
    """A metric as wide as its label or value, in a row (st.container(horizontal=True)) that wraps on
    narrow screens: equal fixed columns cut labels and values off there."""
    row.metric(label, value, width="content", **kwargs)


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p < 0.01 else f"{p:.2f}"


# -- page --------------------------------------------------------------------------------------

st.title("Uncertainty")
st.markdown(
    "GFNCP is a distribution over clusterings, not a single answer. Drawing many clusterings from it shows "
    "which points it is sure about, which pairs of points it keeps together, and how many clusters it believes in."
)

ds = get_dataset()
gfn, ncp, X_in = models_or_stop(ds)
pair = current_pair(ds)

N = ds.n
if N < 2:
    st.info("Uncertainty needs at least 2 points: the current data set has one. Pick another set on the Data page.")
    st.stop()

show_training_range(ds, gfn)
st.caption(f"Data: **{ds.name}** · {N} points in {ds.dim}-D · model **{gfn.name}**"
           + (f" (input mapped to {gfn.dim}-D)" if ds.dim != gfn.dim else ""))

# Fixed-width groups in a row that wraps: equal columns cut labels off in a narrow window.
row = st.container(horizontal=True, gap="small")
c1, c2, c3, c4, c5 = (row.container(width=px) for px in (230, 150, 250, 240, 250))
for _key, _default in (("unc_S", DEFAULT_SAMPLES), ("unc_seed", 0), ("unc_ncp", False), ("unc_reward", False)):
    st.session_state.setdefault(_key, _default)      # defaults here: a link may have set them
n_samples = c1.select_slider("Posterior samples S", options=[10, 20, 50, 100, 200, 500], key="unc_S",
                             help="Ancestral samples from the model's sequential policy (all equally weighted).")
seed = int(c2.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="unc_seed"))
ref_mode = c3.radio("Reference clustering", list(REFERENCES), key="unc_ref", horizontal=True,
                    help="The clustering that per-point uncertainty is expressed against. Consensus of orders: "
                         "greedy decoding in 16 random orders, the answer the others agree with most (what "
                         "GFNCPClustering returns). Greedy: one pass in the rows' own order.")
ref_key = REFERENCES[ref_mode]
with_ncp = c4.checkbox("Also sample NCP for comparison", key="unc_ncp")
with_reward = c5.checkbox("GFNCP's reward posterior p_R", key="unc_reward",
                          help="p_R(c | x) = R(c | x) / Z(x), from GFNCP's terminal flows: order-free by construction. "
                               "Exact over all partitions for sets of up to 9 points; beyond, GFNCP's S samples "
                               "reweighted by R / q (self-normalised importance sampling; its effective sample size "
                               "says how many samples the weights are worth).")

if N > 1000:
    st.caption(f"{N} points: drawing {n_samples} clusterings runs the model {n_samples} × {N} steps and can take "
               "a while the first time (results are cached).")
models = {"GFNCP": gfn} | ({"NCP": ncp} if with_ncp else {})
results = {}
try:
    for name, model in models.items():
        with st.spinner(f"Drawing {n_samples} clusterings from {name}…"), model_work():
            results[name] = posterior_summary(ds.key, model.name, n_samples, seed, ref_key, model, X_in)
except (ValueError, RuntimeError) as err:
    st.error(f"The model could not run on this data set: {err}")
    st.stop()

summary, t_sample = results["GFNCP"]
reward = None
if with_reward:
    try:
        with st.spinner("GFNCP's reward posterior p_R…"), model_work():
            reward, t_reward = reward_posterior(ds.key, gfn.name, n_samples, seed, gfn, X_in)
    except (ValueError, RuntimeError) as err:
        st.error(f"The reward posterior could not be computed: {err}")
    if reward is not None:
        st.caption(
            "GFNCP's reward posterior p_R: " + (
                f"exact over all {len(reward.distribution):,} partitions" if reward.method == "exact" else
                f"GFNCP's {reward.n_samples} samples reweighted by R / q: effective sample size "
                f"**{reward.ess:.1f}** of {reward.n_samples}, {len(reward.distribution)} distinct clusterings")
            + f" ({t_reward:.2f} s). Shown beside q in the P(K) figure"
            + (" and against the exact posterior below." if reward.method == "exact" else "."))
pts = summary.points

# -- coordinates to draw the points in ------------------------------------------------------------
if ds.dim == 2:
    coords, axis_titles, where = np.asarray(ds.X, dtype=float), ("x₁", "x₂"), "the points themselves"
else:
    coords, axis_titles, where = None, ("PC 1", "PC 2"), "their first two principal components (PCA)"

# -- 1. per point ---------------------------------------------------------------------------------
st.header("1 · How sure is the model about each point?")
st.markdown(
    f"Every sampled clustering is matched to a **reference clustering** ({ref_mode}, "
    f"{pts.n_reference_clusters} clusters); a point is certain when it lands in the same reference cluster in "
    "every sample. Red = uncertain in every colouring."
)
with st.expander("How these numbers are defined"):
    st.markdown(
        "- **Reference clustering**: the most probable of the S sampled clusterings (the one drawn most often; "
        "ties broken by the model's probability q), or the model's greedy clustering.\n"
        "- **Matching**: each sample's clusters are paired one-to-one with the reference clusters so that as many "
        "points as possible keep their reference cluster (Hungarian algorithm on the table of overlaps). A sample "
        "cluster left without a partner, or sharing no point with it, is *unmatched*. Cluster numbers in the "
        "samples are arbitrary, so without matching 'the same cluster' would mean nothing.\n"
        "- **Assignment distribution** of point i: over the S samples, the fraction in which i lands in each "
        "reference cluster (or in an unmatched cluster).\n"
        "- **Entropy**: of that distribution, in nats. 0 = always the same cluster; log 2 ≈ 0.69 = a coin flip "
        "between two clusters.\n"
        "- **P(most likely cluster)**: the largest probability in that distribution (1 = certain).\n"
        "- **Cluster-mate confidence**: the mean, over the other points j of i's reference cluster, of the "
        "co-assignment probability P(i and j in the same cluster). For a point alone in its reference cluster: "
        "the probability that it is alone. Low values flag a point whose cluster-mates change from sample to sample.\n"
        "- **Posterior over K**: the fraction of samples with K clusters (ancestral samples are equally weighted)."
    )

shown_name = "GFNCP"
o1, o2 = st.columns([3, 2])
colour_by = o1.radio("Colour points by", list(COLOURINGS), format_func=COLOURINGS.get, horizontal=True,
                     key="unc_colour")
if with_ncp:
    shown_name = o2.radio("Uncertainty of", list(models), horizontal=True, key="unc_shown")
s_shown, t_s = results[shown_name]
shown = s_shown.points
k_mode = int(np.argmax(s_shown.k_probs))
row = st.container(horizontal=True, gap="medium")
metric(row, "Clusters in the reference", shown.n_reference_clusters)
metric(row, "Most probable K", k_mode, help=f"P(K = {k_mode}) = {s_shown.k_probs[k_mode]:.2f}")
metric(row, "Posterior mean of K", f"{s_shown.expected_k:.2f}")
n_unsure = int((shown.probability < 0.9).sum())
metric(row, "Mean entropy (nats)", f"{shown.entropy.mean():.2f}")
metric(row, "Uncertain points", f"{100 * n_unsure / N:.0f}%",
            help=f"{n_unsure} of {N} points: their most likely cluster has probability below 0.9.")
metric(row, "Time", f"{t_s:.2f} s", help=f"{n_samples} samples, the reference clustering and all statistics "
                                         "(first computation; cached afterwards).")

left, right = st.columns([2, 1])
with left:
    if ds.dim > 2:
        method = st.radio("Projection", ["PCA", "UMAP"], horizontal=True, key="unc_proj",
                          help="PCA is instant. UMAP keeps neighbourhoods better; it takes a few seconds the "
                               "first time and is then cached for this data set and these parameters.")
        umap_params = None
        if method == "UMAP":
            with st.form("unc_umap_form", border=False):
                u1, u2, u3 = st.columns([2, 2, 1], vertical_alignment="bottom")
                nn = u1.slider("n_neighbors", 2, 100, 15, key="unc_nn",
                               help="Size of the neighbourhood UMAP preserves: "
                                    "small = local detail, large = global shape.")
                md = u2.slider("min_dist", 0.0, 0.99, 0.1, step=0.01, key="unc_md",
                               help="How tightly UMAP may pack points together.")
                if u3.form_submit_button("Compute UMAP", type="primary", key="unc_umap_go"):
                    st.session_state["unc_umap"] = (ds.key, int(nn), float(md))
            saved = st.session_state.get("unc_umap")
            if saved and saved[0] == ds.key:
                umap_params = saved[1:]
            else:
                st.caption("Choose n_neighbors and min_dist, then press **Compute UMAP**. Showing PCA meanwhile.")
        try:
            if umap_params is not None:
                with st.spinner("Fitting UMAP (first time for these parameters)…"):
                    coords, t_proj = _projection(ds.key, "umap", umap_params[0], umap_params[1], ds.X)
                axis_titles = ("UMAP 1", "UMAP 2")
                where = (f"a UMAP projection (n_neighbors {umap_params[0]}, min_dist {umap_params[1]:.2f}; "
                         f"ready in {t_proj:.1f} s, cached for this data set and these parameters)")
            else:
                coords, _ = _projection(ds.key, "pca", 15, 0.1, ds.X)
        except Exception as err:  # noqa: BLE001 - a failed projection must not take the page down
            st.error(f"The projection failed: {err}")
            st.stop()
    values = {"entropy": shown.entropy, "probability": shown.probability,
              "mate_confidence": shown.mate_confidence}.get(colour_by)
    st.plotly_chart(figs.uncertainty_scatter(
        coords, values, shown.most_probable, shown.probability, quantity=colour_by, unmatched=shown.unmatched,
        entropy=shown.entropy, mate=shown.mate_confidence, reference=shown.reference, axis_titles=axis_titles),
        width="stretch", config=PLOT_CONFIG, key="unc_scatter")
    st.caption(f"{shown_name}: {N} points drawn on {where}. Hover a point for its index, most probable cluster "
               "and its probability.")
with right:
    st.markdown("**Least certain points**")
    worst = np.argsort(-shown.entropy, kind="stable")[:12]
    # Static tables on this page: the interactive data grid's code (1.2 MB of JavaScript) would add
    # ~0.25 s to a first visit (scripts/browser_floor.py measures the same for a bare page).
    # Three narrow columns: the column is about 180 px wide in a 1024-px window (entropy, the
    # ranking, is in the scatter's colours and hover).
    st.table(pd.DataFrame({
        "point": worst,
        "cluster": [figs.cluster_name(int(k), shown.unmatched) for k in shown.most_probable[worst]],
        "P": [f"{p:.2f}" for p in shown.probability[worst]],
    }).set_index("point"))
    st.caption("The 12 points of highest entropy; cluster: the most likely reference cluster, P its probability.")

# -- 2. pairs and K -------------------------------------------------------------------------------
st.header("2 · Which points go together, and how many clusters?")
order, bounds = post.reference_order(summary.reference, pts.mate_confidence, max_points=HEATMAP_MAX)
st.markdown(
    "The **co-assignment matrix**: for every pair of points, the fraction of samples that put them in the same "
    "cluster. Points are ordered by GFNCP's reference cluster (red lines mark the boundaries) and, inside a "
    "cluster, from most to least confident. Solid blocks = clusters the model is sure of; pale blocks or colour "
    "off the blocks = doubt about membership, or clusters that are sometimes merged."
)
heat = figs.coassignment_heatmap({name: r[0].coassignment for name, r in results.items()}, order, bounds,
                                 reference=summary.reference, height=460)
k_probs = {name: r[0].k_probs for name, r in results.items()}
if reward is not None:
    k_probs["GFNCP p_R"] = reward.distribution.k_distribution()
kfig = figs.k_distribution_figure(k_probs,
                                  title="Posterior of K", height=400)
if len(results) == 1:
    hcol, kcol = st.columns([3, 2], vertical_alignment="center")
else:
    hcol, kcol = st.container(), st.container()
hcol.plotly_chart(heat, width="content", config=PLOT_CONFIG, key="unc_heatmap")
kcol.plotly_chart(kfig, width="stretch", config=PLOT_CONFIG, key="unc_k")
if len(order) < N:
    st.caption(f"The heatmap shows {len(order)} of {N} points (evenly spaced in this order); "
               "the CSV export below has all pairs.")

# -- 3. the top clusterings -------------------------------------------------------------------------
st.header("3 · The most frequent clusterings")
top = summary.top
st.markdown(f"GFNCP's {n_samples} samples hold {top.n_distinct} distinct clusterings. Each panel gives the share of "
            "samples that were this clustering and the model's probability q of it.")
if top.n_distinct == n_samples:
    st.caption("Every sample is different: the posterior is spread over very many clusterings, so they are ranked "
               "by q, and the per-point and pairwise summaries above are the informative ones.")
aligned = post.match_to_reference(top.labels, summary.reference, fresh_unmatched=True)
titles = [f"#{i + 1} · K={k} · {f * 100:.0f}% of samples<br>{_fmt_q(q)}"
          for i, (f, q, k) in enumerate(zip(top.frequency, top.log_q, top.n_clusters))]
st.plotly_chart(figs.clustering_gallery(coords, aligned[:N_GALLERY], titles[:N_GALLERY]),
                width="stretch", config=PLOT_CONFIG, key="unc_gallery")
st.caption("Colours are matched to the reference clustering: the same colour is the same cluster in every panel.")

# -- 4. against the truth ---------------------------------------------------------------------------
st.header("4 · Against the truth")
is_mog = mixture_references_apply(pair, ds.source)
auto_reference = automatic_reference(N, pair, ds.source)     # what also runs in the background prefetch
truth = ds.truth
table_labels: dict[str, np.ndarray] = {}
table_seconds: dict[str, float] = {}
for name, r in results.items():
    table_labels[f"{name} (reference clustering)"] = r[0].reference
    table_seconds[f"{name} (reference clustering)"] = r[1]

if not is_mog:
    st.info(
        "The exact posterior and the Gibbs sampler assume the model the mixture-of-Gaussians networks were trained "
        f"on (a Chinese-restaurant-process mixture of round Gaussians, σ = {TEXTBOOK.sigma:g}, centres spread "
        f"λ = {TEXTBOOK.lam:g}). Digit images "
        "do not follow it, so only the classical baselines are shown."
    )
else:
    if ds.source == "upload":
        st.caption(f"The references assume the data are in the model's units (within-cluster spread "
                   f"σ = {TEXTBOOK.sigma:g}, cluster centres spread λ = {TEXTBOOK.lam:g} around 0).")
    X_ref = np.asarray(ds.X, dtype=float)
    if auto_reference == "exact":
        exact = None
        try:
            with st.spinner("Enumerating every partition (exact posterior and the models' q)…"), model_work():
                exact, t_exact = exact_posterior(ds.key, X_ref)
                model_dists = {}
                model_times = {}
                for name, model in {"GFNCP": gfn, "NCP": ncp}.items():
                    model_dists[name], model_times[name] = model_exact(ds.key, model.name, model, X_in)
                if reward is not None and reward.method == "exact":
                    model_dists["GFNCP p_R"] = reward.distribution
        except (ValueError, RuntimeError) as err:
            st.error(f"The exact comparison failed: {err}")
        if exact is not None:
            st.markdown(
                f"With {N} points all {len(exact):,} partitions can be enumerated, so the **exact Bayesian posterior** "
                f"p(clustering | data) ({TEXTBOOK.describe()}) and each model's **exact q** over all "
                "partitions (not samples) can be compared directly."
            )
            tv = post.total_variations(exact, model_dists)
            row = st.container(horizontal=True, gap="medium")
            metric(row, "Total variation GFNCP ↔ exact", f"{tv['GFNCP']:.3f}",
                        help="½ Σ |q(c) − p(c)| over all partitions: 0 = identical, 1 = disjoint.")
            metric(row, "Total variation NCP ↔ exact", f"{tv['NCP']:.3f}")
            if "GFNCP p_R" in tv:
                metric(row, "Total variation GFNCP p_R ↔ exact", f"{tv['GFNCP p_R']:.3f}",
                       help="GFNCP's reward posterior R / Z over all partitions: the same in every order.")
            metric(row, "Exact MAP probability", f"{exact.probs[0]:.3f}")
            metric(row, "Time, exact posterior", f"{t_exact:.2f} s",
                        help=f"Enumerating all partitions: {t_exact:.2f} s. Each model's exact q over them: "
                             f"GFNCP {model_times['GFNCP']:.2f} s, NCP {model_times['NCP']:.2f} s.")
            dists = {"Exact posterior": exact} | model_dists
            top_labels, top_probs = post.aligned_probabilities(dists, k=10)
            n_top = len(top_labels)
            bars_title = (f"The {n_top} most probable partitions under the exact posterior" if len(exact) > n_top
                          else f"All {n_top} partitions, ranked by the exact posterior")
            st.plotly_chart(figs.partition_bars(top_labels, top_probs, title=bars_title),
                            width="stretch", config=PLOT_CONFIG, key="unc_partition_bars")
            titles = [f"#{i + 1} · exact {_fmt_p(top_probs['Exact posterior'][i])}"
                      f"<br>GFNCP {_fmt_p(top_probs['GFNCP'][i])}"
                      f" · NCP {_fmt_p(top_probs['NCP'][i])}" for i in range(min(N_GALLERY, len(top_labels)))]
            shown_top = post.match_to_reference(top_labels[:N_GALLERY], exact.map_labels, fresh_unmatched=True)
            st.plotly_chart(figs.clustering_gallery(coords, shown_top, titles, panel_height=220),
                            width="stretch", config=PLOT_CONFIG, key="unc_exact_gallery")
            kc, hc = st.columns([2, 3])
            kc.plotly_chart(figs.k_distribution_figure({name: d.k_distribution() for name, d in dists.items()},
                                                       title="P(K): exact vs the models"),
                            width="stretch", config=PLOT_CONFIG, key="unc_exact_k")
            exact_C = exact.coassignment()
            hc.plotly_chart(figs.coassignment_heatmap({"Exact posterior": exact_C, "GFNCP (exact q)":
                                                       model_dists["GFNCP"].coassignment()},
                                                      *post.reference_order(exact.map_labels),
                                                      reference=exact.map_labels, height=340),
                            width="content", config=PLOT_CONFIG, key="unc_exact_heatmap")
            table_labels["Exact posterior (MAP)"] = exact.map_labels
            table_seconds["Exact posterior (MAP)"] = t_exact
    else:
        st.markdown(
            "For larger sets the posterior cannot be enumerated; a **collapsed Gibbs sampler** (Neal 2000, "
            f"algorithm 3) on the same model ({TEXTBOOK.describe()}) approximates it. Its co-assignment "
            "matrix is shown beside GFNCP's, in the same point order."
        )
        g1, g2, g3, _ = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
        sweeps = int(g1.number_input("Gibbs sweeps", min_value=20, max_value=2000, value=DEFAULT_SWEEPS, step=20,
                                     key="unc_sweeps"))
        burn = int(g2.number_input("Burn-in sweeps", min_value=0, max_value=1000, value=DEFAULT_BURN_IN, step=10,
                                   key="unc_burn"))
        burn = clamp_burn_in(sweeps, burn)
        gibbs_key = (ds.key, sweeps, burn, seed)
        run_now = auto_reference == "gibbs" or st.session_state.get("unc_gibbs_done") == gibbs_key
        if not run_now:
            if g3.button("Run Gibbs", type="primary", key="unc_gibbs_btn",
                         help=f"About {N * sweeps / 25000:.0f}–{N * sweeps / 10000:.0f} s for {N} points."):
                st.session_state["unc_gibbs_done"] = gibbs_key
                run_now = True
            else:
                st.caption(f"{N} points: press **Run Gibbs** to run {sweeps} sweeps (a few seconds).")
        if run_now:
            g = None
            try:
                with st.spinner(f"Running collapsed Gibbs ({sweeps} sweeps over {N} points)…"), model_work():
                    g, g_C, g_k = gibbs_run(ds.key, sweeps, burn, seed, X_ref)
            except (ValueError, RuntimeError) as err:
                st.error(f"The Gibbs sampler failed: {err}")
            if g is not None:
                agree = post.coassignment_agreement(g_C, summary.coassignment)
                row = st.container(horizontal=True, gap="medium")
                metric(row, "Mean |P_Gibbs − P_GFNCP|", f"{agree['mean_abs']:.3f}",
                            help="Mean over all pairs of points of the difference between the two "
                                 "co-assignment matrices.")
                metric(row, "Pairs that differ by > 0.5", f"{agree['frac_over_half'] * 100:.1f}%")
                metric(row, "Gibbs: K (MAP state)", int(g.map_labels.max()) + 1)
                metric(row, "Gibbs time", f"{g.seconds:.2f} s",
                            help=f"{sweeps} sweeps, {burn} burn-in, {len(g.samples)} samples kept. "
                                 f"GFNCP: {t_sample:.2f} s for {n_samples} samples and their statistics.")
                mats = {"Gibbs": g_C, "GFNCP": summary.coassignment}
                if "NCP" in results:
                    mats["NCP"] = results["NCP"][0].coassignment
                orderings = {"GFNCP's reference clustering": (summary.reference, pts.mate_confidence),
                             "Gibbs MAP state": (g.map_labels, None)}
                if truth is not None:
                    orderings["the true labels"] = (truth, None)
                by = st.radio("Order points by", list(orderings), horizontal=True, key="unc_gibbs_order",
                              help="Both heatmaps always use the same order; the red lines separate its clusters.")
                g_order, g_bounds = post.reference_order(*orderings[by], max_points=HEATMAP_MAX)
                st.plotly_chart(figs.coassignment_heatmap(mats, g_order, g_bounds, reference=orderings[by][0],
                                                          height=440 if len(mats) == 2 else 380),
                                width="content", config=PLOT_CONFIG, key="unc_gibbs_heatmap")
                k_all = {"Gibbs": g_k} | {name: r[0].k_probs for name, r in results.items()}
                st.plotly_chart(figs.k_distribution_figure(k_all, title="P(K): Gibbs vs the models", height=320),
                                width="stretch", config=PLOT_CONFIG, key="unc_gibbs_k")
                table_labels["Gibbs (MAP state)"] = g.map_labels
                table_seconds["Gibbs (MAP state)"] = g.seconds

# classical baselines, for context (every data set)
st.subheader("Classical clusterings, for context")
k_known = truth is not None
k_for_kmeans = kmeans_k(truth, summary.reference)
try:
    with st.spinner("Fitting k-means and a Dirichlet-process GMM…"), model_work():
        km = baseline(ds.key, "kmeans", k_for_kmeans, seed, np.asarray(ds.X, dtype=float))
        dp = baseline(ds.key, "dpgmm", None, seed, np.asarray(ds.X, dtype=float))
except (ValueError, RuntimeError) as err:
    st.error(f"A baseline failed: {err}")
else:
    km_name = f"k-means (K = {k_for_kmeans}, {'true K' if k_known else 'GFNCP’s K'})"
    table_labels[km_name], table_seconds[km_name] = km.labels, km.seconds
    table_labels["DP-GMM (variational)"], table_seconds["DP-GMM (variational)"] = dp.labels, dp.seconds
target = truth if k_known else summary.reference
rows = post.clustering_table(table_labels, target, table_seconds)
table = pd.DataFrame(rows).set_index("method")
for column, fmt in (("NMI", "{:.3f}"), ("seconds", "{:.3g}")):
    table[column] = table[column].map(lambda x: "—" if pd.isna(x) else fmt.format(x))
st.table(table.rename(columns={"NMI": "NMI to the true labels" if k_known else "NMI to GFNCP's reference",
                               "seconds": "time (s)"}))
st.caption(("NMI = normalised mutual information with the true labels (1 = identical clusterings). "
            if k_known else "This data set has no labels: NMI is measured against GFNCP's reference clustering. ")
           + "Times: model sampling includes all S samples; k-means runs 10 initialisations.")

# -- 5. export ----------------------------------------------------------------------------------------
st.header("5 · Export")
exports = st.container(horizontal=True)      # the two buttons side by side, wrapping when narrow
exports.download_button("Per-point uncertainty (CSV)", per_point_csv(pts), file_name="uncertainty_points.csv",
                        mime="text/csv", on_click="ignore", key="unc_dl_points",
                        help="index, most probable reference cluster (-1 = unmatched), its probability, entropy "
                             "(nats), cluster-mate confidence, reference cluster — for GFNCP.")
exports.download_button("Co-assignment matrix (CSV)", functools.partial(matrix_csv, summary.coassignment),
                        file_name="coassignment.csv", mime="text/csv", on_click="ignore", key="unc_dl_coassign",
                        help=f"GFNCP's {N}×{N} matrix of P(i and j in the same cluster).")
