"""About: what GFNCP and NCP are, what each page shows, the shipped models, the papers."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from gfncp.figures.data_views import state_tree_diagram
from gfncp.ui.intro import SEEN_KEY, page_files, tour
from gfncp.ui.sidebar import model_table_rows

st.title("About GFNCP Explorer")
st.markdown(
    "An interactive look at **amortized probabilistic clustering**: a neural network reads a whole "
    "point set and outputs a distribution over its partitions, one point at a time, in a single pass "
    "instead of a long MCMC run.")

if st.session_state.get(SEEN_KEY):        # (on a first visit the introduction box above has the same tour)
    st.subheader("Where to start")
    st.markdown("The tour of the first visit: each view is one click away, and each is a link you can share.")
    tour(page_files(), "about")

st.subheader("NCP and GFNCP")
st.markdown(
    "Both models assign the points in some order. At each step the next point joins one of the "
    "clusters built so far or opens a new one, and the network scores every option from set-level "
    "summaries: sums of encoded points per cluster and over the points still unassigned. "
    "**NCP** (Neural Clustering Process) and **GFNCP** use *the same set network*; they differ in "
    "how it is trained and what its outputs mean.")
left, right = st.columns(2, gap="large")
left.markdown(
    "**NCP** is trained by *teacher forcing*: it maximises the likelihood of the true cluster of "
    "each point given the true clusters of the points before it. Nothing forces the products of "
    "its step probabilities to agree across input orders, so the probability it gives a clustering "
    "*can depend on the order in which the points are fed in*.")
right.markdown(
    "**GFNCP** reads the same network as a Generative Flow Network: the score of a state, exp(−E), "
    "is its *flow* F; a partial clustering's flow is shared among its children, and a complete "
    "partition's flow is its reward R(c|x). Training adds *flow matching*: every state's flow "
    "must equal the sum of its children's flows. Where that holds, the step probabilities "
    "telescope and log q(c|x) = log R(c|x) − log F(root) along every path, whatever the order: "
    "the posterior over clusterings does **not** depend on the input order.")
st.plotly_chart(state_tree_diagram(), config={"displaylogo": False, "displayModeBar": False}, key="tree")
st.caption("The states of the clustering process for three points a, b, c. The two orders take different "
           "paths through different partial clusterings and reach the same partition {a b}{c}. With "
           "matched flows both paths give it the same probability, R(c|x) / F(root); NCP has no such "
           "constraint.")
st.info("How far the shipped models are from that ideal is measured, not assumed: the Order-invariance "
        "page scores the same clustering with both models under many orders, shows GFNCP's summed flow "
        "residual as a spread over orders, and on sets of up to 8 points compares the whole distribution over "
        "clusterings order by order, on any data set. In this release, on 2-D mixtures GFNCP's probability of "
        "the same clustering moves about half as much with the order as NCP's (lower on about three test sets "
        "in four), but over all partitions of 7 points its distribution moves a little more than NCP's, and on 16-D "
        "mixtures NCP's moves less. GFNCP's reward posterior p_R = R / Z, which does not depend on the order at "
        "all, is shown beside q on the Order-invariance and Uncertainty pages. The README's results tables "
        "have the numbers.")

st.subheader("The pages")
st.markdown(
    "- **Data**: generate a Gaussian mixture from the models' own prior (any dimension), load a bundled "
    "real table (iris, wine, breast cancer, penguins) or a digits task, or upload your own points; export "
    "the current set as CSV.\n"
    "- **Step through**: watch a model assign the points one by one, with the probability of every "
    "option (each existing cluster or a new one) and, for GFNCP, the flow into and out of each state; "
    "in a random, reversed, sorted, cluster-by-cluster or typed order.\n"
    "- **State graph**: for up to 5 points, the whole GFlowNet: every partial clustering, its log flow, "
    "the policy on every edge, the path of the current order, and q of each clustering under every order.\n"
    "- **Order invariance**: shuffle the input order many times and compare how much the probability "
    "of the same clustering (the true one, or either model's own answer) moves for GFNCP and for NCP.\n"
    "- **Uncertainty**: sample many clusterings and look at per-point uncertainty, co-assignment and "
    "the number of clusters, next to the exact posterior (tiny sets), a Gibbs sampler and classical "
    "clustering.\n"
    "- **About**: this page.")
st.caption("The sidebar always shows the current data set and the model pair serving it; when more than "
           "one pair fits (e.g. a 64-D upload), choose there.")

st.subheader("Shipped models")
rows = model_table_rows()
if rows:
    # A static table: the interactive data grid's code (1.2 MB of JavaScript) would add ~0.25 s to
    # a first visit (scripts/browser_floor.py measures the same for a bare page).
    formats = {"parameters": "{:,.0f}", "training (min)": "{:.1f}", "NMI": "{:.3f}", "ARI": "{:.3f}",
               "std log q over orders": "{:.3f}", "validation NMI": "{:.3f}"}
    # Short headers and no "kind" column (the objective says it): the table fits a 1024-px window.
    short = {"parameters": "weights", "training (min)": "train (min)", "std log q over orders": "log q std",
             "validation NMI": "val NMI"}
    table = pd.DataFrame([{k: ("—" if v is None else formats[k].format(v)) if k in formats else v
                           for k, v in row.items()} for row in rows]).set_index("model")
    st.table(table.drop(columns="kind").rename(columns=short))
    st.caption("From the model cards: NMI / ARI of greedy clustering on held-out sets (for the general pair: "
               "its consensus answer on the real-data suite) and *log q std*, the "
               "typical standard deviation of log q across input orders (lower = more order-invariant), once "
               "the evaluation has written them; *val NMI*, the validation NMI logged at the end of training. "
               "Every card also records the command that reproduces its model.")
else:
    st.warning("No models are installed: put the checkpoints in `assets/models/` (or point "
               "`GFNCP_MODELS_DIR` at them).", icon=":material/warning:")

st.subheader("References")
st.markdown(
    "- I. Chelly, R. Uziel, O. Freifeld, A. Pakman. *Consistent Amortized Clustering via Generative "
    "Flow Networks.* AISTATS 2025, PMLR 258:1729–1737. "
    "[arXiv:2502.19337](https://arxiv.org/abs/2502.19337) (GFNCP)\n"
    "- A. Pakman, Y. Wang, C. Mitelut, J. Lee, L. Paninski. *Neural Clustering Processes.* ICML 2020. "
    "[arXiv:1901.00409](https://arxiv.org/abs/1901.00409) (NCP)")
st.caption("This app is an independent re-implementation for teaching and exploration; the numbers come "
           "from its own models, not from the papers.")
