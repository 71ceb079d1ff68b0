"""Pay the app's one-off start-up costs in the background, not on a user's first visit.

Importing scikit-learn costs ~0.85 s (scipy.stats builds its docstrings), the first KMeans
call initialises thread pools, and plotly imports the validators of each trace type the first
time a figure uses it (~0.1 s for the first small-multiples figure). Left alone, whichever
page first needs them (uncertainty: k-means and the DP-GMM; order invariance: scipy's
assignment solver) pays that on top of its own work. After the first page of a fresh server
has rendered, one daemon thread does it instead, once per process.
"""
from __future__ import annotations

import threading

import streamlit as st


MODULES = ("scipy.optimize", "sklearn.metrics", "sklearn.decomposition", "sklearn.mixture")


def _warm() -> None:
    import importlib

    import numpy as np

    for name in MODULES:
        importlib.import_module(name)
    from sklearn.cluster import KMeans

    KMeans(n_clusters=2, n_init=1, random_state=0).fit(np.random.default_rng(0).normal(size=(20, 2)))

    import plotly.graph_objects as go

    go.Figure(data=[go.Scatter(x=[0], y=[0], marker=dict(color=["#000"], line=dict(width=1))), go.Heatmap(z=[[0]]),
                    go.Box(y=[0]), go.Bar(x=[0], y=[0])],
              layout=dict(xaxis2=dict(domain=[0, 1], anchor="y2"), yaxis2=dict(scaleanchor="x2"),
                          annotations=[dict(text="", showarrow=False)], shapes=[dict(type="line")],
                          coloraxis=dict(colorbar=dict(title=dict(text=""))))).to_dict()


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Start the warm-up thread (first call in the process); later calls return it.

    pandas is imported here, in the calling script thread, before the thread starts: scikit-learn
    imports it, and plotly's validators look pandas up in sys.modules without importing it. While
    the warm-up thread was half-way through importing pandas, a page building a figure in another
    session found the half-initialised module and failed ("partially initialized module 'pandas'
    has no attribute 'Series'"; seen in AppTest running the About page right after app.py).
    """
    import pandas  # noqa: F401  (see above)

    thread = threading.Thread(target=_warm, name="gfncp-warm-up", daemon=True)
    thread.start()
    return thread
