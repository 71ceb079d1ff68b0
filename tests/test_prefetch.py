"""The background prefetcher (gfncp/ui/prefetch.py) and the studies it shares with the pages."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _join_prefetch_threads(timeout: float = 300) -> int:
    from gfncp.ui import prefetch

    threads = list(prefetch._threads.values())
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "the prefetch thread did not finish"
    return len(threads)


@pytest.fixture
def prefetch_on(monkeypatch, dev_models_dir):
    from gfncp.ui import prefetch, state

    state.load_model.clear()
    monkeypatch.setenv("GFNCP_PREFETCH", "1")
    prefetch._current.clear()
    prefetch._threads.clear()
    yield
    _join_prefetch_threads()
    prefetch._current.clear()
    prefetch._threads.clear()


def _no_model_calls(monkeypatch):
    """From here on every model call, every model's exact q, every reference (exact posterior,
    Gibbs, k-means, DP-GMM) and the order study's agreement statistics fail: what a page shows
    must come from the cache."""
    from gfncp import invariance, model_distribution, references
    from gfncp.clusterer import Clusterer

    def refuse(*args, **kwargs):
        raise AssertionError("computed again although the prefetcher had computed this")

    for method in ("greedy", "greedy_orders", "sample", "log_prob_orders", "flow_terms"):
        monkeypatch.setattr(Clusterer, method, refuse)
    for function in ("exact_posterior", "gibbs", "kmeans", "dpgmm"):
        monkeypatch.setattr(references, function, refuse)
    monkeypatch.setattr(model_distribution, "model_partition_distribution", refuse)     # a model's exact q
    monkeypatch.setattr(invariance, "agreement_stats", refuse)


@pytest.mark.parametrize("n_points", [None, 8])       # the default set (Gibbs), a tiny one (exact posterior)
def test_heavy_pages_render_from_what_the_prefetcher_computed(prefetch_on, monkeypatch, n_points):
    from streamlit.testing.v1 import AppTest

    import gfncp
    from gfncp.ui.state import Dataset, default_dataset

    if n_points is None:
        ds = default_dataset()
    else:
        X, y = gfncp.data.make_mog(n_points, 2, seed=3)
        ds = Dataset(f"tiny set of {n_points}", X, y, "generated")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.session_state["dataset"] = ds
    at.run()                                              # the Data page
    assert not at.exception
    assert _join_prefetch_threads() == 1

    _no_model_calls(monkeypatch)
    for page, heading in (("order_invariance.py", "1 · The probability of one clustering, order by order"),
                          ("uncertainty.py", "1 · How sure is the model about each point?")):
        page_test = AppTest.from_file(str(REPO / "pages" / page), default_timeout=180)
        page_test.session_state["dataset"] = ds
        page_test.run()
        assert not page_test.exception, page_test.exception
        assert not page_test.error, [e.value for e in page_test.error]
        assert heading in [h.value for h in page_test.header]
    texts = " ".join(str(m.value) for m in page_test.markdown)
    assert ("all 4,140 partitions" in texts) if n_points == 8 else ("collapsed Gibbs sampler" in texts)


def test_prefetch_follows_the_session_settings_and_runs_once_per_set(prefetch_on):
    from streamlit.testing.v1 import AppTest

    from gfncp.ui import prefetch

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.session_state["inv_n_orders"] = 5                 # as if the user had set R = 5 on the page
    at.run()
    assert _join_prefetch_threads() == 1
    (key,) = prefetch._current.values()
    assert "('n_orders', 5)" in key
    first = next(iter(prefetch._threads.values()))
    at.run()                                              # same set, same settings: nothing new
    assert next(iter(prefetch._threads.values())) is first


def test_prefetch_is_off_when_disabled_or_the_set_is_too_large(monkeypatch, dev_models_dir):
    from streamlit.testing.v1 import AppTest

    from gfncp.ui import prefetch

    monkeypatch.setenv("GFNCP_PREFETCH", "0")
    assert not prefetch.enabled()
    prefetch._threads.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception and prefetch._threads == {}
    monkeypatch.setenv("GFNCP_PREFETCH", "1")
    assert prefetch.enabled()
    # Outside a script run (no session) it never starts.
    import gfncp

    X, y = gfncp.data.make_mog(50, 2, seed=0)
    assert prefetch.prefetch_heavy_pages(None, "mog2d", None, None, lambda: X) is None


def test_order_study_stops_before_any_call_when_stale(dev_models_dir, monkeypatch):
    import gfncp
    from gfncp.ui.studies import OrderStudy

    _no_model_calls(monkeypatch)
    X, y = gfncp.data.make_mog(30, 2, seed=1)
    models = {"GFNCP": gfncp.load_pretrained("gfncp-mog2d"), "NCP": gfncp.load_pretrained("ncp-mog2d")}
    study = OrderStudy("stale-test", models, X, y, n_orders=5, seed=0, scored="truth")
    assert study.run(threads=1, should_stop=lambda: True) == {}


def test_order_study_jobs_and_results(dev_models_dir):
    import gfncp
    from gfncp.ui.studies import OrderStudy

    X, y = gfncp.data.make_mog(25, 2, seed=2)
    models = {"GFNCP": gfncp.load_pretrained("gfncp-mog2d"), "NCP": gfncp.load_pretrained("ncp-mog2d")}
    with pytest.raises(ValueError, match="true labels"):
        OrderStudy("k", models, X, None, 5, 0, "truth")
    study = OrderStudy("jobs-test", models, X, None, n_orders=7, seed=3, scored="NCP")
    first, later = study.jobs()
    assert first == [("NCP", "original", 0), ("NCP", "greedy", 0)]
    assert ("NCP", "fixed", 0) in later and ("GFNCP", "greedy", 0) in later
    progress = []
    done = study.run(threads=2, on_done=lambda k, total: progress.append((k, total)))
    assert progress[-1] == (5, 5) and len(done) == 5             # 4 chunked jobs + the original order
    original = models["NCP"].greedy(X)
    np.testing.assert_array_equal(study.fixed, original)          # scored: NCP's greedy answer
    greedy = np.concatenate([r["labels"] for r in study.results(done, "NCP", "greedy")])
    assert greedy.shape == (7, 25)                               # the original order's row is dropped
    for r, order in enumerate(study.orders):
        np.testing.assert_array_equal(greedy[r], models["NCP"].greedy(X, order=order))
    fixed_lq = np.concatenate([r["log_q"] for r in study.results(done, "NCP", "fixed")])
    np.testing.assert_allclose(fixed_lq, models["NCP"].log_prob_orders(X, original, study.orders), atol=1e-4)


def test_order_study_leaves_jobs_another_thread_computes_for_last(dev_models_dir):
    import gfncp
    from gfncp.ui import studies

    X, y = gfncp.data.make_mog(20, 2, seed=4)
    models = {"GFNCP": gfncp.load_pretrained("gfncp-mog2d"), "NCP": gfncp.load_pretrained("ncp-mog2d")}
    study = studies.OrderStudy("in-flight-test", models, X, y, n_orders=5, seed=0, scored="truth")
    queue, _ = study.jobs()
    assert queue == [("GFNCP", "fixed", 0), ("GFNCP", "greedy", 0), ("NCP", "fixed", 0), ("NCP", "greedy", 0)]
    busy = study.job_key(queue[0])
    studies._in_flight.add(busy)            # as if the prefetcher were computing GFNCP's fixed call
    try:
        done = study.run(threads=1)
    finally:
        studies._in_flight.discard(busy)
    assert list(done) == queue[1:] + queue[:1]
    assert not studies._in_flight
