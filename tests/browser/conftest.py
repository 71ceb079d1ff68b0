"""End-to-end harness: the real Streamlit server, driven by headless Chromium (playwright).

Fixtures
    app_server  (session)  base URL of `streamlit run app.py` on a free 127.0.0.1 port, serving
                           the models of the `dev_models_dir` fixture (tests/conftest.py)
    browser     (session)  playwright Chromium: the Debian build at /usr/bin/chromium
    page        (function) a fresh 1400x900 page in its own browser context

    st_app      (function) StApp(page, base_url): the helpers below as methods; use this in tests
                           (importing from a conftest module is fragile when several exist)
    st_helpers  (session)  this module, for the plain functions below

Helpers
    start_server(script="app.py", cwd=REPO_ROOT, env=None, log=None, plain=False) -> (process, base URL)
                           app.py through gfncp/ui/launch.py as `make run` does (plain: `streamlit run`)
    stop_server(process)                                      a server started by start_server
    open_app(page, base_url, path="", name=None) -> seconds: navigate, wait until idle, record the render time
    wait_for_app(page, timeout=90, expect_rerun=False)       wait until Streamlit has finished running
    assert_no_exception(page)                                 fail on any visible exception / error box
    grown_margins(page) -> [str]                              charts plotly drew twice to grow their margins
    screenshot(page, name) -> Path                            tests/artifacts/<name>.png
    record_timing(name, seconds)                              shown in the pytest summary

How "idle" is detected (Streamlit 1.67 DOM): the root `[data-testid="stApp"]` carries
`data-test-script-state` ("initial" before the first run, then "running" / "notRunning" /
"rerunRequested" / "stopRequested" / "compilationError") and `data-test-connection-state`
("CONNECTED" once the websocket is up). The toolbar shows `[data-testid="stStatusWidget"]`
with `[data-testid="stStatusWidgetRunningIcon"]` while a script runs. Idle = connected,
script state notRunning/compilationError, no running icon, main block
`[data-testid="stMainBlockContainer"]` present, no lazily loaded element still waiting for its
code (`[data-testid="stSkeleton"]`, the Suspense fallback; a plotly chart not yet drawn), and all
of that stable for a short settle time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("GFNCP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT_S = 90.0

# Selectors, kept in one place so page tests use the same ones.
SEL_APP = '[data-testid="stApp"]'
SEL_MAIN = '[data-testid="stMainBlockContainer"]'
SEL_RUNNING = '[data-testid="stStatusWidgetRunningIcon"]'
SEL_ERRORS = ", ".join(
    [
        '[data-testid="stException"]',
        ".stException",
        '[data-testid="stAlertContentError"]',
        # The app opens no dialogs of its own: a modal is Streamlit reporting a problem
        # ("Page not found", a lost connection).
        '[role="dialog"]',
    ]
)

# (name, seconds) for every page load measured with open_app / record_timing.
TIMINGS: list[tuple[str, float]] = []
LAST_WAIT = {"rerun_seen": True}     # set by wait_for_app(expect_rerun=True)


def pytest_collection_modifyitems(config, items):
    """Everything under tests/browser is a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TIMINGS:
        return
    terminalreporter.section("browser render times (navigation start -> app idle)")
    for name, seconds in TIMINGS:
        terminalreporter.write_line(f"{seconds:7.2f} s  {name}")
    if os.environ.get("GFNCP_RENDER_TIMES_DOC") == "1":      # the run's times into docs/performance.md
        from gfncp.doc_blocks import markdown_table, provenance, replace_block

        rows = [[name, f"{seconds:.2f} s"] for name, seconds in TIMINGS]
        replace_block("render-times", markdown_table(["measurement", "seconds"], rows) + "\n\n" + provenance(
            "GFNCP_RENDER_TIMES_DOC=1 make test", "headless Chromium"))
        terminalreporter.write_line("wrote the render-times table of docs/performance.md")


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(base_url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as r:
            return r.read().decode("utf-8", "replace").strip()
    except Exception:
        return None


def start_server(script: str = "app.py", cwd: Path = REPO_ROOT, env: dict | None = None, log=None,
                 timeout: float = SERVER_START_TIMEOUT_S, plain: bool = False) -> tuple[subprocess.Popen, str]:
    """`streamlit run <script>` in `cwd`, headless, on a free 127.0.0.1 port, with one OpenMP
    thread and `env` added to the environment; `log`: a binary file for its output (else dropped).
    Returns (process, base URL) once /_stcore/health answers ok; stop it with stop_server. If it
    exits or is not healthy within `timeout`, it is stopped and RuntimeError is raised."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    full_env.pop("STREAMLIT_SERVER_PORT", None)
    # app.py starts the way `make run` starts it (gfncp/ui/launch.py); other scripts, and app.py
    # with plain=True, the way `streamlit run` does
    launch = script == "app.py" and not plain
    start = [sys.executable, "-m", "gfncp.ui.launch"] if launch else [sys.executable, "-m", "streamlit", "run", script]
    cmd = [
        *start,
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=full_env, stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while _health(base_url) != "ok":
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before it was healthy")
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"streamlit not healthy at {base_url} after {timeout:.0f} s")
        time.sleep(0.25)
    return proc, base_url


@pytest.fixture(scope="session")
def app_server(dev_models_dir):
    log = tempfile.TemporaryFile(mode="w+b")  # stdout+stderr: a pipe could fill up and block
    try:
        # the app as users get it: background prefetch on
        proc, base_url = start_server(env={"PYTHONUNBUFFERED": "1", "GFNCP_PREFETCH": "1"}, log=log)
    except RuntimeError as err:
        log.seek(0)
        pytest.fail(f"{err}:\n{log.read().decode('utf-8', 'replace')[-8000:]}")
    try:
        yield base_url
    finally:
        stop_server(proc)
        log.close()


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs the Debian chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def watch_page(page) -> None:
    """Record on `page` every uncaught script error (page.page_errors) and every request to a
    host other than the app's own (page.foreign_requests): the app must work offline."""
    from urllib.parse import urlsplit

    page.page_errors = []
    page.foreign_requests = []
    page.on("pageerror", lambda err: page.page_errors.append(str(err)))

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            page.foreign_requests.append(request.url)

    page.on("request", on_request)


def page_problems(page) -> list[str]:
    return ([f"page error: {e}" for e in getattr(page, "page_errors", [])]
            + [f"request to another host: {u}" for u in getattr(page, "foreign_requests", [])])


def assert_clean_page(page) -> None:
    """No uncaught script error and no request to another host so far on this page."""
    problems = page_problems(page)
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(browser):
    """A fresh page in its own context. Every test using it fails on a page error or on a request
    to a host other than the app's (checked when the test ends)."""
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    watch_page(pg)
    try:
        yield pg
        problems = page_problems(pg)
        if problems:
            pytest.fail("\n".join(problems[:20]))
    finally:
        context.close()


# --------------------------------------------------------------------------- helpers

_STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    script: app ? app.getAttribute('data-test-script-state') : null,
    connection: app ? app.getAttribute('data-test-connection-state') : null,
    running: !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'),
    main: !!document.querySelector('[data-testid="stMainBlockContainer"]'),
    // lazily loaded elements (plotly charts...) show a skeleton until their code has arrived
    loading: !!document.querySelector('[data-testid="stSkeleton"]')
             || Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
                    .some(c => !c.querySelector('.main-svg')),
    now: performance.now(),
  };
}"""

_IDLE_SCRIPT_STATES = {"notRunning", "compilationError"}

# Records every change of the script state with the browser's clock, so a rerun that starts
# and ends between two polls (a poll waits while the browser's main thread is busy) is still
# seen. Installed once per document; returns performance.now() in ms.
_WATCH_JS = """() => {
  if (!window.__stScriptLog) {
    window.__stScriptLog = [];
    new MutationObserver(ms => {
      for (const m of ms) window.__stScriptLog.push([m.target.getAttribute('data-test-script-state'), performance.now()]);
    }).observe(document.documentElement, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
  }
  return performance.now();
}"""
_RAN_SINCE_JS = "(t) => (window.__stScriptLog || []).some(([s, at]) => s === 'running' && at >= t)"


def _is_idle(state: dict) -> bool:
    return (
        state["connection"] == "CONNECTED"
        and state["script"] in _IDLE_SCRIPT_STATES
        and not state["running"]
        and state["main"]
        and not state["loading"]
    )


def wait_for_app(page, timeout: float = 90.0, expect_rerun: bool = False, settle: float = 0.4,
                 since_ms: float | None = None) -> float:
    """Wait until Streamlit has finished running the script; return the browser clock
    (`performance.now()`, seconds since navigation start) at the moment it became idle.

    expect_rerun: call right after an interaction (click, input): first give the rerun up to
    3 s to start, so a not-yet-started rerun is not mistaken for idle.
    since_ms: the browser time (ms) of the interaction, from _WATCH_JS run before it: a rerun
    that started after it counts as started even if no poll saw it running.
    settle: idle must hold this long (a widget's rerun can start a moment after the event).
    """
    deadline = time.monotonic() + timeout
    LAST_WAIT["rerun_seen"] = True
    if expect_rerun:
        start_deadline = time.monotonic() + min(3.0, timeout)
        while True:
            if time.monotonic() >= start_deadline:
                LAST_WAIT["rerun_seen"] = False
                break
            if not _is_idle(page.evaluate(_STATE_JS)):
                break
            if since_ms is not None and page.evaluate(_RAN_SINCE_JS, since_ms):
                break
            time.sleep(0.05)
    idle_since_wall: float | None = None
    idle_since_browser = 0.0
    state: dict = {}
    while time.monotonic() < deadline:
        state = page.evaluate(_STATE_JS)
        if _is_idle(state):
            if idle_since_wall is None:
                idle_since_wall, idle_since_browser = time.monotonic(), state["now"] / 1000.0
            elif time.monotonic() - idle_since_wall >= settle:
                return idle_since_browser
        else:
            idle_since_wall = None
        time.sleep(0.1)
    pytest.fail(f"Streamlit app not idle after {timeout:.0f} s (last state: {state}) at {page.url}")


_GROWN_MARGINS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap((gd, i) => {
  const fl = gd._fullLayout; if (!fl || !fl._size) return [];
  const m = fl.margin, s = fl._size, grown = ['l', 'r', 't', 'b'].filter(k => Math.round(s[k]) > m[k]);
  return grown.length ? [`chart ${i}: ${grown.map(k => k + ' ' + m[k] + ' -> ' + Math.round(s[k])).join(', ')}`] : [];
})"""


def grown_margins(page) -> list[str]:
    """Charts whose margins plotly grew after drawing them (to fit tick labels, titles, a legend or a
    colour bar), which makes it draw the whole figure a second time: one line per chart."""
    return page.evaluate(_GROWN_MARGINS_JS)


_CUT_TEXTS_JS = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter(e => e.offsetParent && getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.innerText)"""


def cut_texts(page, selector: str = '[data-testid="stMain"] *') -> list[str]:
    """Texts on the page (by default everything in the main area) cut off with an ellipsis because
    their box is too narrow."""
    return page.evaluate(_CUT_TEXTS_JS, selector)


def cut_metrics(page) -> list[str]:
    """Metric values too wide for their column."""
    return cut_texts(page, '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *')


def record_timing(name: str, seconds: float) -> None:
    TIMINGS.append((name, float(seconds)))
    print(f"[render] {name}: {seconds:.2f} s")


def open_app(page, base_url: str, path: str = "", name: str | None = None, timeout: float = 90.0) -> float:
    """Navigate to base_url/path, wait until the app is idle, record and return the render
    time in seconds (navigation start -> app idle, measured by the browser's clock)."""
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    page.goto(url, wait_until="domcontentloaded")
    seconds = wait_for_app(page, timeout=timeout)
    record_timing(name or (path or "/"), seconds)
    return seconds


_ERRORS_JS = """(selector) => {
  const all = Array.from(document.querySelectorAll(selector));
  const shown = all.filter(e => e.getClientRects().length > 0
                                && getComputedStyle(e).visibility !== 'hidden');
  // An exception box contains an error alert: report the outermost match once.
  return shown.filter(e => !shown.some(o => o !== e && o.contains(e)))
              .map(e => (e.innerText || '').trim());
}"""


def visible_errors(page) -> list[str]:
    """Text of every visible exception or error box on the page (outermost boxes only)."""
    return page.evaluate(_ERRORS_JS, SEL_ERRORS)


def assert_no_exception(page) -> None:
    errors = visible_errors(page)
    if errors:
        shown = "\n---\n".join(t[:2000] for t in errors)
        pytest.fail(f"{len(errors)} error box(es) visible at {page.url}:\n{shown}")


def screenshot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


class StApp:
    """The helpers bound to one page and server: what page tests use through `st_app`."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url

    def open(self, path: str = "", name: str | None = None, timeout: float = 90.0) -> float:
        return open_app(self.page, self.base_url, path, name=name, timeout=timeout)

    def wait(self, timeout: float = 90.0, expect_rerun: bool = False) -> float:
        return wait_for_app(self.page, timeout=timeout, expect_rerun=expect_rerun)

    def measure(self, name: str, action, timeout: float = 90.0) -> float:
        """Run `action()` (a click, a sidebar link...), wait for the rerun to finish, record
        and return the seconds from the action to the moment the app became idle, on the
        browser's clock (the settle time that confirms idleness is not counted). Sidebar
        navigation keeps the document, so the clock runs on; after a full reload it restarts
        and the time is counted from the reload. If no rerun was seen starting within the 3-s
        start window, the name says so: that number is the window, not a render time (seen
        twice in ~20 runs, as About ~3.2 s)."""
        t0_ms = self.page.evaluate(_WATCH_JS)
        t0 = t0_ms / 1000.0
        action()
        idle = wait_for_app(self.page, timeout=timeout, expect_rerun=True, since_ms=t0_ms)
        seconds = idle - t0 if idle >= t0 else idle
        if not LAST_WAIT["rerun_seen"]:          # the time includes the whole 3-s start window
            name += " (no rerun seen within 3 s: not a render time)"
        record_timing(name, seconds)
        return seconds

    def assert_no_exception(self) -> None:
        assert_no_exception(self.page)

    def assert_drawn_once(self) -> None:
        """No chart had its margins grown after drawing (each figure's margins hold its labels)."""
        grown = grown_margins(self.page)
        assert not grown, f"plotly grew these margins and drew the figures twice: {grown}"

    def assert_metrics_fit(self) -> None:
        cut = cut_metrics(self.page)
        assert not cut, f"metric values cut off by their column: {cut}"

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        return screenshot(self.page, name, full_page=full_page)


@pytest.fixture
def st_app(page, app_server) -> StApp:
    """A fresh page on the running app, with the helpers above as methods."""
    return StApp(page, app_server)


@pytest.fixture(scope="session")
def st_helpers():
    """This module, for tests that want the plain helper functions (wait_for_app,
    assert_no_exception, visible_errors, screenshot, record_timing, selectors)."""
    return sys.modules[__name__]
