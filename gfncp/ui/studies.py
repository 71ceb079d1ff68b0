"""The two heavy pages' work, cached per data set: shared by the pages and the prefetcher.

Order invariance runs both models under R random orders; Uncertainty draws S clusterings from
GFNCP (and NCP on request) and sets references beside them (the exact posterior or Gibbs, k-means
and a DP-GMM). At N = 500 each takes seconds, so besides the pages themselves the
prefetcher (gfncp/ui/prefetch.py) runs their current settings in the background as soon as a
data set is chosen. Both go through the same st.cache_data functions below: a page that asks
for a result the prefetcher is still computing waits for it (Streamlit holds one lock per
cache key) instead of computing it twice.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx

from .. import invariance as inv
from .. import model_distribution
from .. import posterior as post
from .. import references as refs
from ..partitions import MAX_EXACT_N
from ..prior import TEXTBOOK

# -- order invariance --------------------------------------------------------------------------

CHUNK = 50                 # orders per model call (each call batches its orders)
DEFAULT_ORDERS = 50
DEFAULT_SEED = 0
SCORED = {"truth": "the true labels", "GFNCP": "GFNCP's greedy clustering", "NCP": "NCP's greedy clustering"}


@st.cache_data(show_spinner=False, max_entries=256)
def _order_task(data_key: str, model_name: str, task: str, n_orders: int, seed: int, chunk: int, fixed_key: str,
                _model, _X, _orders, _labels):
    """One cached batch of model calls; the key is (data, model, task, R, seed, chunk, clustering)."""
    return inv.run_task(_model, task, _X, _orders, _labels)


# Jobs some thread is computing right now (the page's pool or the prefetcher), by cache key: a
# run starts the others first, so that it does not sit waiting on a lock while work is left.
_in_flight: set = set()
_in_flight_lock = threading.Lock()


@dataclass
class OrderStudy:
    """Both models under R random orders of one data set (the Order-invariance page's work).

    Jobs are (model name, task, first order of the chunk): task "greedy" decodes a chunk of
    orders (chunk 0 also the original order, as its row 0), "fixed" scores the fixed
    clustering under them, "original" decodes the original order alone (needed first when the
    scored clustering is a model's greedy answer).
    """

    data_key: str
    models: dict                  # {"GFNCP": Clusterer, "NCP": Clusterer}
    X: np.ndarray                 # (N, model dim)
    truth: np.ndarray | None      # canonical labels, or None
    n_orders: int = DEFAULT_ORDERS
    seed: int = DEFAULT_SEED
    scored: str = "truth"         # a key of SCORED
    orders: np.ndarray = field(init=False)
    fixed: np.ndarray | None = field(init=False)

    def __post_init__(self):
        if self.scored == "truth" and self.truth is None:
            raise ValueError("The true labels can only be scored when the data set has them.")
        self.orders = inv.random_orders(len(self.X), self.n_orders, self.seed)
        self.fixed = np.asarray(self.truth) if self.scored == "truth" else None

    @property
    def fixed_key(self) -> str:
        return "truth" if self.scored == "truth" else f"greedy:{self.models[self.scored].name}"

    @property
    def chunks(self) -> range:
        return range(0, self.n_orders, CHUNK)

    # Two models' calls overlap well on two threads only when one of them is a teacher-forced
    # pass ("fixed": a few large kernels, which release the GIL) and the other a greedy loop
    # (thousands of small ops, bound by Python and the GIL); two greedy loops side by side run
    # no faster than one after the other. So the queue pairs them: fixed, greedy, fixed, greedy.
    def jobs(self) -> tuple[list, list]:
        """(jobs that can start at once, jobs that need the fixed clustering first)."""
        queue = [(name, task, c) for c in self.chunks for name in self.models for task in ("fixed", "greedy")]
        if self.scored == "truth":
            return queue, []
        first = [(self.scored, "original", 0), (self.scored, "greedy", 0)]
        return first, [job for job in queue if job not in first]

    def job_key(self, job) -> tuple:
        name, task, c = job
        return (self.data_key, self.models[name].name, task, self.n_orders, self.seed, c, self.fixed_key)

    def run_job(self, job):
        key = self.job_key(job)
        with _in_flight_lock:
            _in_flight.add(key)
        try:
            return self._run_job(job)
        finally:
            with _in_flight_lock:
                _in_flight.discard(key)

    def _run_job(self, job):
        name, task, c = job
        model = self.models[name]
        if task == "original":
            return self.greedy_one(name, np.arange(len(self.X)), "original")
        chunk_orders = self.orders[c:c + CHUNK]
        if task == "greedy" and c == 0:
            chunk_orders = np.vstack([np.arange(len(self.X)), chunk_orders])
        return _order_task(self.data_key, model.name, task, self.n_orders, self.seed, c, self.fixed_key,
                           model, self.X, chunk_orders, self.fixed if task == "fixed" else None)

    def greedy_one(self, name: str, order, tag: str) -> np.ndarray:
        """Greedy clustering under one order; `tag` names it ("original", "shuffle:<seed>:<i>")."""
        model = self.models[name]
        return _order_task(self.data_key, model.name, "greedy", 1, 0, 0, f"one:{tag}",
                           model, self.X, np.asarray(order)[None, :], None)["labels"][0]

    def run(self, threads: int = 2, ctx=None, on_done: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> dict:
        """Every job, on `threads` threads -> {job: result}. on_done(done, total) after each job;
        should_stop() is asked before each job starts (the prefetcher stops when its set is stale)."""
        first, later = self.jobs()
        total, done = len(first) + len(later), {}
        init = None if ctx is None else (lambda: add_script_run_ctx(threading.current_thread(), ctx))

        def call(job):
            if should_stop is not None and should_stop():
                return None
            return self.run_job(job)

        pending = list(first)
        with ThreadPoolExecutor(max_workers=threads, initializer=init) as pool:
            running: dict = {}

            def fill():
                # A job is picked when a worker is free, not queued up front: the one picked is the
                # first in queue order that no other thread (the page's, the prefetcher's) is
                # computing at that moment; waiting on that one's cache lock would idle a worker.
                while len(running) < threads and pending:
                    with _in_flight_lock:
                        i = next((i for i, j in enumerate(pending) if self.job_key(j) not in _in_flight), 0)
                    job = pending.pop(i)
                    running[pool.submit(call, job)] = job

            fill()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = running.pop(fut)
                    result = fut.result()
                    if result is None:
                        continue
                    done[job] = result
                    if job[1] == "original":
                        self.fixed = result
                        pending.extend(later)
                    if on_done is not None:
                        on_done(len(done), total)
                fill()
        return done

    def results(self, done: dict, name: str, task: str) -> list[dict]:
        """One model's chunks for one task, in order; the greedy ones without the original row."""
        parts = [done[(name, task, c)] for c in self.chunks]
        if task == "greedy":
            parts[0] = {key: value[1:] for key, value in parts[0].items()}
        return parts

    def stacked(self, done: dict, name: str, task: str, field: str) -> np.ndarray:
        """One field of one model's task over all R orders: (R,) or (R, N)."""
        return np.concatenate([r[field] for r in self.results(done, name, task)])

    def agreement(self, done: dict, name: str) -> dict:
        """How much one model's greedy clusterings agree across the R orders (cached)."""
        return _agreement(self.data_key, self.models[name].name, self.n_orders, self.seed,
                          self.stacked(done, name, "greedy", "labels"), self.truth)


@st.cache_data(show_spinner=False, max_entries=64)
def _agreement(data_key: str, model_name: str, n_orders: int, seed: int, _label_sets, _truth) -> dict:
    """The clusterings follow from the key (greedy decoding is deterministic): not hashed."""
    return inv.agreement_stats(_label_sets, _truth)


# -- uncertainty -------------------------------------------------------------------------------

DEFAULT_SAMPLES = 100
# The first is the default: the library's own answer (GFNCPClustering), steady where a single
# greedy pass or the most probable sample is not (docs/general-pair.md).
REFERENCES = {"consensus of orders": "consensus", "most probable sample": "mode", "greedy": "greedy"}


@st.cache_data(show_spinner=False, max_entries=32)
def posterior_summary(data_key: str, model_name: str, n_samples: int, seed: int, reference: str, _model, _X):
    """gfncp.posterior.sample_and_summarize (S samples in a seeded random order, their summary
    against the reference: "consensus", "mode" or "greedy") and the seconds it took."""
    t0 = time.perf_counter()
    summary = post.sample_and_summarize(_model, _X, n_samples, seed, reference)
    seconds = time.perf_counter() - t0
    summary.coassignment = summary.coassignment.astype(np.float32)   # half the memory in the cache
    return summary, seconds


# -- order consistency: neutral measures, the reward's order-free posterior ------------------------

EXACT_ORDERS = 6           # orders whose exact distributions over all partitions are shown (N <= 8)
REWARD_SAMPLES = 200       # importance samples for p_R beyond the exact range


@st.cache_data(show_spinner=False, max_entries=64)
def scored_orders(data_key: str, model_name: str, n_orders: int, seed: int, labels_key: str, _model, _X, _orders,
                  _labels) -> np.ndarray:
    """log q of one clustering under every order (R,): the same clusterings scored by both models."""
    return _model.log_prob_orders(_X, _labels, _orders)


@st.cache_data(show_spinner=False, max_entries=32)
def exact_orders(data_key: str, model_name: str, n_orders: int, seed: int, _model, _X, _orders):
    """(labels (Bell(N), N), P (R, Bell(N))): a model's exact q over all partitions under each order."""
    return inv.exact_order_distributions(_model, _X, _orders)


@st.cache_data(show_spinner=False, max_entries=32)
def reward_posterior(data_key: str, model_name: str, n_samples: int, seed: int, _model, _X):
    """GFNCP's reward posterior p_R (exact for N <= 9, else importance-sampled) and the seconds it took."""
    from ..reward_posterior import reward_posterior as compute
    t0 = time.perf_counter()
    res = compute(_model, _X, n_samples=n_samples, seed=seed)
    return res, time.perf_counter() - t0


# -- uncertainty: the references beside the model (exact posterior, Gibbs, classical baselines) ----

GIBBS_AUTO_N = 200         # larger sets: Gibbs runs on request
DEFAULT_SWEEPS, DEFAULT_BURN_IN = 100, 20


def mixture_references_apply(pair: str, source: str) -> bool:
    """The exact posterior and Gibbs assume the CRP mixture of round Gaussians: not for digits."""
    return pair != "digits" and source != "digits"


def automatic_reference(n: int, pair: str, source: str) -> str | None:
    """The mixture reference the Uncertainty page computes without being asked: "exact" (N <=
    MAX_EXACT_N), "gibbs" (N <= GIBBS_AUTO_N), else None (digits; or Gibbs on request)."""
    if not mixture_references_apply(pair, source):
        return None
    if n <= MAX_EXACT_N:
        return "exact"
    return "gibbs" if n <= GIBBS_AUTO_N else None


def clamp_burn_in(sweeps: int, burn_in: int) -> int:
    return min(burn_in, sweeps - 1)


def kmeans_k(truth, reference) -> int:
    """k-means gets the true K when the labels are known, else K of GFNCP's reference clustering."""
    return int((truth if truth is not None else reference).max()) + 1


@st.cache_data(show_spinner=False, max_entries=16)
def exact_posterior(data_key: str, _X):
    """The exact posterior over all partitions (N <= 9) and the seconds it took."""
    t0 = time.perf_counter()
    dist = refs.exact_posterior(_X, **TEXTBOOK.as_dict())
    return dist, time.perf_counter() - t0


@st.cache_data(show_spinner=False, max_entries=16)
def model_exact(data_key: str, model_name: str, _model, _X):
    """A model's q over all partitions (N <= 9) and the seconds it took."""
    t0 = time.perf_counter()
    dist = model_distribution.model_partition_distribution(_model, _X)
    return dist, time.perf_counter() - t0


@st.cache_data(show_spinner=False, max_entries=16)
def gibbs_run(data_key: str, n_sweeps: int, burn_in: int, seed: int, _X):
    """Collapsed Gibbs on the mixture model: (result, co-assignment matrix, P(K))."""
    res = refs.gibbs(_X, **TEXTBOOK.as_dict(), n_sweeps=n_sweeps, burn_in=burn_in, seed=seed)
    return res, post.coassignment(res.samples), post.k_posterior(res.samples)


@st.cache_data(show_spinner=False, max_entries=32)
def baseline(data_key: str, method: str, n_clusters, seed: int, _X):
    """k-means with n_clusters, or the Dirichlet-process GMM ("dpgmm")."""
    if method == "kmeans":
        return refs.kmeans(_X, n_clusters, seed=seed)
    return refs.dpgmm(_X, alpha=TEXTBOOK.alpha, seed=seed)
