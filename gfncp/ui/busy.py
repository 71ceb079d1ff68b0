"""Who has the CPU: page scripts first, background prefetchers in the gaps.

The app shares two cores among the page a user waits for, the browser drawing it, and the
prefetcher computing the next pages' results (gfncp/ui/prefetch.py). Their Python-bound loops
also share one interpreter lock, so a prefetcher call running while a page builds its figures
can make that page take half as long again. Hence a simple rule:

- app.py wraps every script run in `page_run()`; while any is in progress, a prefetcher starts
  no new call (`give_way`); the call it is in finishes.
- A page lifts its claim around its model calls (`model_work()`): there it computes what no
  other thread is computing and waits for the rest, so the prefetcher may as well go on with
  the next page's work meanwhile.
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable

POLL_S = 0.02

_running = 0                        # script runs holding a claim, all sessions
_lock = threading.Lock()
_local = threading.local()          # .claimed: this (script) thread holds a claim


def _add(delta: int) -> None:
    global _running
    with _lock:
        _running += delta


def pages_running() -> int:
    """Script runs holding a claim now."""
    return _running


@contextlib.contextmanager
def page_run():
    """Around a page's script run: the prefetchers start no new call until it ends."""
    _add(1)
    _local.claimed = True
    try:
        yield
    finally:
        _local.claimed = False
        _add(-1)


@contextlib.contextmanager
def model_work():
    """Around a page's model calls: its claim is lifted meanwhile (a no-op outside page_run)."""
    if not getattr(_local, "claimed", False):
        yield
        return
    _local.claimed = False
    _add(-1)
    try:
        yield
    finally:
        _add(1)
        _local.claimed = True


def give_way(stale: Callable[[], bool]) -> bool:
    """A prefetcher's check before each call: wait while a page holds a claim; then return
    stale() (True: its data set is no longer wanted, it should stop)."""
    while _running and not stale():
        time.sleep(POLL_S)
    return stale()
