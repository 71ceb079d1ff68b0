"""How fast can any Streamlit page with a plotly chart load here? The floor under the app's
direct-load times.

    .venv/bin/python scripts/browser_floor.py [--repeats 3]

Starts two throwaway Streamlit apps (a title and a line of text; the same plus one three-point
plotly chart) and the real app, and opens each in a brand-new browser context (nothing cached)
and then in a new tab of that context, with the browser tests' Chromium, flags and notion of
"idle" (tests/browser/conftest.py). Prints seconds from navigation start to idle. What the
one-chart page takes is Streamlit's and plotly.js's own start-up on this machine, before any of
the app's work.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "text.py").write_text(TEXT_PAGE)
        (folder / "chart.py").write_text(CHART_PAGE)
        apps = [("Streamlit, text only", folder, "text.py", ""),
                ("Streamlit, one plotly chart", folder, "chart.py", ""),
                ("GFNCP Explorer: About", REPO, "app.py", "about"),
                ("GFNCP Explorer: Data", REPO, "app.py", "data")]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
            print(f"{'page':32s} {'new browser (s)':>22s} {'new tab (s)':>22s}")
            for label, where, script, path in apps:
                proc, base = harness.start_server(script, cwd=where)
                try:
                    fresh, tab = load_times(browser, f"{base}/{path}", args.repeats)
                finally:
                    harness.stop_server(proc)

                def cell(xs):
                    return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"
                print(f"{label:32s} {cell(fresh):>22s} {cell(tab):>22s}", flush=True)
            browser.close()


if __name__ == "__main__":
    main()
