"""The CPU-sharing rule between page scripts and the background prefetchers (gfncp/ui/busy.py)."""
from __future__ import annotations

import threading
import time

from gfncp.ui import busy


def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("value", fn()))
    t.start()
    return t, out


def test_a_prefetcher_waits_while_a_page_runs_and_goes_on_after():
    assert busy.pages_running() == 0
    with busy.page_run():
        assert busy.pages_running() == 1
        t, out = _in_thread(lambda: (busy.give_way(lambda: False), time.monotonic())[1])
        time.sleep(0.2)
        assert t.is_alive(), "give_way returned while a page was running"
        released = time.monotonic()
    t.join(5)
    assert not t.is_alive() and out["value"] >= released
    assert busy.pages_running() == 0
    assert busy.give_way(lambda: False) is False          # nothing runs: no wait


def test_a_stale_prefetcher_stops_waiting_at_once():
    with busy.page_run():
        t0 = time.monotonic()
        assert busy.give_way(lambda: True) is True
        assert time.monotonic() - t0 < 0.1


def test_model_work_lifts_the_claim_of_its_own_script_only():
    with busy.page_run():
        with busy.model_work():
            assert busy.pages_running() == 0
            t, out = _in_thread(lambda: busy.give_way(lambda: False))
            t.join(5)
            assert out["value"] is False                  # the prefetcher went on
            # another thread's model_work (a prefetcher's, a pool worker's) holds no claim: no-op
            t, _ = _in_thread(lambda: busy.model_work().__enter__())
            t.join(5)
            assert busy.pages_running() == 0
        assert busy.pages_running() == 1
    assert busy.pages_running() == 0


def test_the_claim_is_released_when_the_page_raises():
    try:
        with busy.page_run():
            raise RuntimeError("st.stop() and friends leave the script by an exception")
    except RuntimeError:
        pass
    assert busy.pages_running() == 0


def test_the_app_claims_every_run_and_the_heavy_pages_lift_it_for_their_model_calls(app_frame_test, monkeypatch):
    """The wiring: app.py runs each page inside page_run(); the Order-invariance and Uncertainty
    pages call the models inside model_work() (counted while it is open)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    seen = {"page_run": 0, "model_work": 0, "running_in_model_work": []}
    page_run, model_work = busy.page_run, busy.model_work

    def counting_page_run():
        seen["page_run"] += 1
        return page_run()

    def counting_model_work():
        seen["model_work"] += 1
        seen["running_in_model_work"].append(busy.pages_running())
        return model_work()

    monkeypatch.setattr(busy, "page_run", counting_page_run)
    monkeypatch.setattr(busy, "model_work", counting_model_work)
    at = app_frame_test
    at.session_state["inv_n_orders"] = 5
    at.session_state["unc_S"] = 10
    at.run()
    assert not at.exception and seen["page_run"] == 1 and seen["model_work"] == 0     # the Data page
    for page in ("order_invariance.py", "uncertainty.py"):
        at.switch_page(str(repo / "pages" / page)).run()
        assert not at.exception, at.exception
    # the study; the samples; Gibbs (the default set has 100 points); k-means and the DP-GMM
    assert seen["page_run"] == 3 and seen["model_work"] == 4
    assert seen["running_in_model_work"] == [1, 1, 1, 1]            # each opened inside its page's claim
    assert busy.pages_running() == 0
