"""How fast can any Streamlit page with a plotly chart load here? The floor under the app's
direct-load times.

    .venv/bin/python scripts/browser_floor.py [--repeats 3] [--no-docs]
    .venv/bin/python scripts/browser_floor.py --anatomy uncertainty [--anatomy "" (the Data page, at the root) ...]

Starts two throwaway Streamlit apps (a title and a line of text; the same plus one three-point
plotly chart) and the real app, and opens each in a brand-new browser context (nothing cached)
and then in a new tab of that context, with the browser tests' Chromium, flags and notion of
"idle" (tests/browser/conftest.py). Prints seconds from navigation start to idle. What the
one-chart page takes is Streamlit's and plotly.js's own start-up on this machine, before any of
the app's work. Rewrites the `browser-floor` table of docs/performance.md (with --anatomy: the
`browser-anatomy` table) unless --no-docs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import conftest as harness  # noqa: E402  (the browser tests' helpers: Chromium flags, idle detection)

from gfncp.doc_blocks import markdown_table, provenance, replace_block  # noqa: E402

TEXT_PAGE = 'import streamlit as st\nst.title("Hello")\nst.write("one line of text")\n'
CHART_PAGE = TEXT_PAGE + ('import plotly.graph_objects as go\n'
                          'st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n')


def load_times(browser, url: str, repeats: int) -> tuple[list[float], list[float]]:
    fresh, tab = [], []
    context = browser.new_context(viewport=harness.VIEWPORT)    # first visit: warms the server's caches
    page = context.new_page()
    page.goto(url)
    harness.wait_for_app(page, timeout=180)
    context.close()
    for _ in range(repeats):
        time.sleep(2)
        context = browser.new_context(viewport=harness.VIEWPORT)
        page = context.new_page()
        page.goto(url)
        fresh.append(harness.wait_for_app(page, timeout=120))
        second = context.new_page()
        second.goto(url)
        tab.append(harness.wait_for_app(second, timeout=120))
        context.close()
    return fresh, tab


# Installed before a page's own scripts: the browser clock (ms since navigation start) of every
# change of Streamlit's script state, and every main-thread task of 50 ms or more (Long Tasks API).
_RECORDER_JS = """
window.__scriptStates = []; window.__longTasks = [];
new MutationObserver(ms => { for (const m of ms) window.__scriptStates.push(
    [m.target.getAttribute('data-test-script-state'), performance.now()]); })
  .observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
  .observe({type: 'longtask', buffered: true});
"""
_PLOTLY_CHUNK = "PlotlyChart"          # the name of Streamlit's lazily loaded chunk that holds plotly.js


def anatomy(browser, base_url: str, path: str, repeats: int) -> list[str]:
    """Direct loads of base_url/path in new tabs (server and browser cache warm); print the phases
    and return them as table cells (script runs, chunk, evaluation, drawing, idle), the loads of
    each phase joined by ", "."""
    context = browser.new_context(viewport=harness.VIEWPORT)
    context.add_init_script(_RECORDER_JS)
    first = context.new_page()              # first visit: the server computes and caches this set's results
    first.goto(f"{base_url}/{path}")
    harness.wait_for_app(first, timeout=300)
    time.sleep(8)                           # let the background prefetch finish
    print(f"\nDirect load of /{path}, new tab (ms since navigation start): script runs | plotly.js requested "
          "-> received | the longest task after that (plotly.js evaluation) | long tasks after it (drawing) | idle")
    cells: list[list[str]] = [[] for _ in range(5)]
    for _ in range(repeats):
        time.sleep(2)
        page = context.new_page()
        page.goto(f"{base_url}/{path}", wait_until="domcontentloaded")
        idle = harness.wait_for_app(page, timeout=120) * 1000
        states = page.evaluate("window.__scriptStates")
        tasks = page.evaluate("window.__longTasks")
        chunk = page.evaluate("performance.getEntriesByType('resource')"
                              f".filter(e => e.name.includes('{_PLOTLY_CHUNK}')).map(e => [e.startTime, e.responseEnd])")
        page.close()
        run = [t for s, t in states if s == "running"][:1] + [t for s, t in states if s == "notRunning"][:1]
        line = f"  {'-'.join(f'{t:.0f}' for t in run):>11s}"
        cells[0].append(" → ".join(f"{t:.0f}" for t in run))
        if chunk:
            line += f" | {chunk[0][0]:.0f} -> {chunk[0][1]:.0f}"
            cells[1].append(f"{chunk[0][0]:.0f} → {chunk[0][1]:.0f}")
            after = [(t, d) for t, d in tasks if t >= chunk[0][1]]
            if after:     # plotly.js's evaluation: by far the longest task once its code has arrived
                start, length = max(after, key=lambda task: task[1])
                drawing = [d for t, d in after if t >= start + length]
                line += f" | {start:.0f} + {length:.0f} | {sum(drawing):.0f} in {len(drawing)} tasks"
                cells[2].append(f"{start:.0f}, for {length:.0f}")
                cells[3].append(f"{sum(drawing):.0f}")
        cells[4].append(f"{idle:.0f}")
        print(line + f" | {idle:.0f}", flush=True)
    context.close()
    return [", ".join(c) or "—" for c in cells]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--anatomy", action="append", metavar="PAGE",
                    help="time direct loads of this page of the app instead, phase by phase "
                         "(its url path, e.g. uncertainty)")
    ap.add_argument("--no-docs", action="store_true", help="print only; leave docs/performance.md alone")
    args = ap.parse_args()
    command = "python scripts/browser_floor.py" + "".join(f" --anatomy '{p}'" for p in args.anatomy or [])
    from playwright.sync_api import sync_playwright

    if args.anatomy:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
            proc, base = harness.start_server("app.py", cwd=REPO)
            try:
                rows = [[f"/{path}"] + anatomy(browser, base, path, args.repeats) for path in args.anatomy]
            finally:
                harness.stop_server(proc)
                browser.close()
        if not args.no_docs:
            header = ["page", "script runs", "plotly.js chunk requested → received",
                      "plotly.js evaluated (main thread)", "drawing after it", "idle"]
            replace_block("browser-anatomy", markdown_table(header, rows) + "\n\n" + provenance(
                command, f"ms since navigation start, {args.repeats} loads of each page in a new tab"))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "text.py").write_text(TEXT_PAGE)
        (folder / "chart.py").write_text(CHART_PAGE)
        apps = [("Streamlit, text only", folder, "text.py", ""),
                ("Streamlit, one plotly chart", folder, "chart.py", ""),
                ("GFNCP Explorer: About", REPO, "app.py", "about"),
                ("GFNCP Explorer: Data", REPO, "app.py", "")]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
            print(f"{'page':32s} {'new browser (s)':>22s} {'new tab (s)':>22s}")
            rows = []
            for label, where, script, path in apps:
                proc, base = harness.start_server(script, cwd=where)
                try:
                    fresh, tab = load_times(browser, f"{base}/{path}", args.repeats)
                finally:
                    harness.stop_server(proc)

                def cell(xs):
                    return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"
                print(f"{label:32s} {cell(fresh):>22s} {cell(tab):>22s}", flush=True)
                rows.append([label, cell(fresh) + " s", cell(tab) + " s"])
            browser.close()
    if not args.no_docs:
        replace_block("browser-floor", markdown_table(["page", "new browser", "new tab"], rows) + "\n\n" + provenance(
            command, f"median (min-max) of {args.repeats} loads"))


if __name__ == "__main__":
    main()
