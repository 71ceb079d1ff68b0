"""Screenshots of every page of the running app, for the README and for looking at changes.

    .venv/bin/python scripts/screenshots.py [--out tests/artifacts/pages] [--readme]

Starts `streamlit run app.py` on a free localhost port, opens each page in headless Debian
Chromium (playwright), waits until Streamlit is idle and saves a PNG per page. `--readme` also
writes assets/screenshot.png (the Step-through page). Reuses the browser-test harness.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import conftest as harness  # noqa: E402  (the browser-test helpers)

PAGES = {"data": "", "step_through": "step_through", "order_invariance": "order_invariance",
         "uncertainty": "uncertainty", "about": "about"}   # name -> URL path (Data is the default page, at /)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(ROOT / "tests" / "artifacts" / "pages"))
    p.add_argument("--readme", action="store_true")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    proc, base = harness.start_server()
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=harness.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            harness.open_app(page, base, "", name="home")
            for name, url in PAGES.items():
                seconds = harness.open_app(page, base, url, name=name, timeout=180)
                errors = harness.visible_errors(page)
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"{name}: {seconds:.2f} s{'  ERRORS: ' + '; '.join(errors) if errors else ''} -> {path}")
                if a.readme and name == "step_through":
                    # a mid-sequence frame: several clusters open, the policy's bars beside them
                    step = page.get_by_role("button", name="Step").first
                    for _ in range(24):
                        step.click()
                        harness.wait_for_app(page, expect_rerun=True)
                    figure = page.locator('[data-testid="stPlotlyChart"]').first
                    figure.scroll_into_view_if_needed()
                    figure.screenshot(path=str(ROOT / "assets" / "screenshot.png"))
            browser.close()
    finally:
        harness.stop_server(proc)


if __name__ == "__main__":
    main()
