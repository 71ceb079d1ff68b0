"""Compute the heavy pages' results for a new data set in the background.

Order invariance (2 models x 50 orders) and Uncertainty (100 samples, then its references: the
exact posterior or Gibbs, k-means and a DP-GMM) take ~2.5 s and ~1 s of CPU at N = 500, on a
machine where the whole app shares two cores. Once a page has rendered with a data set the heavy
pages have not seen, one background thread per session runs their work with the session's
current settings (the pages' defaults until a user changes them), Order invariance first (its
four model calls on two worker threads, then its agreement statistics), through the same cached
functions the pages call (gfncp/ui/studies.py). A user who looks at the data for a few seconds
then finds both pages ready; one who clicks at once waits only for what is left, because a page
asking for a result still being computed waits for it instead of computing it again
(Streamlit's per-key cache lock).

It gives way to the pages (gfncp/ui/busy.py): while a page script runs, it starts no new call,
except while that page itself waits on model results. Measured with tests/browser/test_render_times.py
(N = 500, pages opened at once after the set, Step through first): one worker, not giving way:
Step through 1.0-1.3 s, Order invariance 2.3-2.8 s, Uncertainty 1.9-2.5 s; two workers giving way
(eleven runs): 1.3-1.8 s, 1.5-2.0 s, 1.2-2.0 s (two workers not giving way: Step through 1.7-1.9 s).
A thread whose data set is no longer the session's current one stops before its next call. Sets
larger than MAX_POINTS are left to the pages (their work is minutes, and a user who asks for them
expects to wait). Set GFNCP_PREFETCH=0 to switch it off (the AppTest suite does, to keep its
tests independent; the browser tests run the app as users get it).
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from .busy import give_way
from .. import invariance as inv
from .studies import (DEFAULT_BURN_IN, DEFAULT_ORDERS, DEFAULT_SAMPLES, DEFAULT_SEED, DEFAULT_SWEEPS, EXACT_ORDERS,
                      REFERENCES, REWARD_SAMPLES, OrderStudy, automatic_reference, baseline, clamp_burn_in,
                      exact_orders, exact_posterior, gibbs_run, kmeans_k, model_exact, posterior_summary,
                      reward_posterior)

MAX_POINTS = 1000
THREADS = 2                  # workers for the order study's model calls

_lock = threading.Lock()
_current: dict[str, str] = {}                 # session id -> key of the set its thread works for
_threads: dict[str, threading.Thread] = {}    # session id -> its latest prefetch thread


def enabled() -> bool:
    return os.environ.get("GFNCP_PREFETCH", "1").strip().lower() not in ("0", "false", "no", "off")


def _settings(truth_known: bool) -> dict:
    """The heavy pages' settings as the session has them (widget values), else the defaults."""
    ss = st.session_state
    scored = ss.get("inv_scored", "truth" if truth_known else "GFNCP")
    if scored == "truth" and not truth_known:
        scored = "GFNCP"
    return dict(
        n_orders=int(ss.get("inv_n_orders", DEFAULT_ORDERS)), order_seed=int(ss.get("inv_seed", DEFAULT_SEED)),
        scored=scored, n_samples=int(ss.get("unc_S", DEFAULT_SAMPLES)), sample_seed=int(ss.get("unc_seed", 0)),
        reference=REFERENCES.get(ss.get("unc_ref"), next(iter(REFERENCES.values()))), with_ncp=bool(ss.get("unc_ncp", False)),
        sweeps=int(ss.get("unc_sweeps", DEFAULT_SWEEPS)), burn_in=int(ss.get("unc_burn", DEFAULT_BURN_IN)),
    )


def prefetch_heavy_pages(ds, pair: str, gfn, ncp, model_input: Callable[[], np.ndarray]) -> threading.Thread | None:
    """Start the background thread for data set `ds` (model pair `pair` = gfn, ncp; model_input()
    gives the set in their input space) unless it is off, the set is too small or too large, or
    this session already has one for the same set and settings. Call from a script run, after
    the page has rendered: it runs at the end of every run, so it maps the set only when it starts."""
    ctx = get_script_run_ctx()
    if not enabled() or ctx is None or not 2 <= ds.n <= MAX_POINTS:
        return None
    truth = ds.truth
    settings = _settings(truth is not None)
    key = f"{ds.key}|{pair}|{gfn.name}|{ncp.name}|{sorted(settings.items())}"
    session = ctx.session_id
    with _lock:
        if _current.get(session) == key:
            return None
        _current[session] = key
        previous = _threads.get(session)
    try:
        X = model_input()
    except ValueError:           # a set the models cannot take: the pages say so
        return None

    def stale() -> bool:
        return _current.get(session) != key

    def stop() -> bool:          # asked before every call
        return give_way(stale)

    def work():
        if previous is not None:
            previous.join()        # it stops before its next call: one thread's work at a time
        s = settings
        study = OrderStudy(ds.key, {"GFNCP": gfn, "NCP": ncp}, X, truth, s["n_orders"], s["order_seed"], s["scored"])
        done = study.run(threads=THREADS, should_stop=stop)
        if len(done) < sum(map(len, study.jobs())):      # stopped half-way
            return
        for name in study.models:
            if stop():
                return
            study.agreement(done, name)
        # Tiny sets: the page's exact per-order distributions and GFNCP's reward posterior
        # (pages/order_invariance.py computes them without being asked there).
        if ds.n <= inv.MAX_ORDER_TV_N + 1:
            if stop():
                return
            reward_posterior(ds.key, gfn.name, REWARD_SAMPLES, s["order_seed"], gfn, X)
        if ds.n <= inv.MAX_ORDER_TV_N:
            r_exact = min(EXACT_ORDERS, s["n_orders"])
            for model in (gfn, ncp):
                if stop():
                    return
                exact_orders(ds.key, model.name, r_exact, s["order_seed"], model, X, study.orders[:r_exact])
        summaries = {}
        for model in (gfn, ncp) if s["with_ncp"] else (gfn,):
            if stop():
                return
            summaries[model.name] = posterior_summary(ds.key, model.name, s["n_samples"], s["sample_seed"],
                                                      s["reference"], model, X)[0]
        # The Uncertainty page's references, as it computes them by default (pages/uncertainty.py).
        X_ref = np.asarray(ds.X, dtype=float)
        reference = automatic_reference(ds.n, pair, ds.source)
        calls = []
        if reference == "exact":
            calls.append(lambda: exact_posterior(ds.key, X_ref))
            calls += [lambda m=model: model_exact(ds.key, m.name, m, X) for model in (gfn, ncp)]
        elif reference == "gibbs":
            calls.append(lambda: gibbs_run(ds.key, s["sweeps"], clamp_burn_in(s["sweeps"], s["burn_in"]),
                                           s["sample_seed"], X_ref))
        k = kmeans_k(truth, summaries[gfn.name].reference)
        calls.append(lambda: baseline(ds.key, "kmeans", k, s["sample_seed"], X_ref))
        calls.append(lambda: baseline(ds.key, "dpgmm", None, s["sample_seed"], X_ref))
        for call in calls:
            if stop():
                return
            call()

    thread = threading.Thread(target=_quietly(work), name=f"gfncp-prefetch-{session[:8]}", daemon=True)
    add_script_run_ctx(thread, ctx)
    with _lock:
        _threads[session] = thread
    thread.start()
    return thread


def _quietly(fn):
    """A failure here is the page's to report when it runs (it recomputes what is missing); the
    server log keeps the traceback."""
    def run():
        try:
            fn()
        except Exception:    # noqa: BLE001
            logging.getLogger(__name__).warning("background prefetch failed", exc_info=True)
    return run


def prefetch_current_set() -> threading.Thread | None:
    """prefetch_heavy_pages for the session's current data set and model pair (nothing when the
    models are missing: the pages say so)."""
    from .state import current_models, current_pair, get_dataset, model_input

    ds = get_dataset()
    try:
        gfn, ncp = current_models(ds)
    except FileNotFoundError:
        return None
    return prefetch_heavy_pages(ds, current_pair(ds), gfn, ncp, lambda: model_input(ds))
