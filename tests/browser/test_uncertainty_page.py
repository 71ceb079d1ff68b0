"""Uncertainty page in a real browser: it renders the co-assignment heatmap, no error box."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
NEEDED = ("gfncp-mog2d", "ncp-mog2d")      # the default data set is 2-D

_BUILD_TINY = """
import sys
from pathlib import Path
from gfncp import train
out = Path(sys.argv[1])
for kind in ("gfncp", "ncp"):
    cfg = train.preset("tiny", kind)
    cfg.preset = "mog2d"
    run_dir = out / "runs" / kind
    net = train.train(cfg, run_dir, progress=False)
    train.export(cfg, net, run_dir, "tests/browser/test_uncertainty_page.py: tiny stand-in", models_dir=out / "models")
"""


def _models_for_the_server() -> None:
    """The app server inherits os.environ when it starts (once per session). If neither the
    shipped models nor GFNCP_MODELS_DIR have the 2-D pair, build tiny stand-ins first."""
    folder = Path(os.environ.get("GFNCP_MODELS_DIR", REPO_ROOT / "assets" / "models"))
    if all((folder / f"{name}{ext}").exists() for name in NEEDED for ext in (".pt", ".json")):
        return
    out = Path(tempfile.mkdtemp(prefix="gfncp_unc_models_"))
    subprocess.run([sys.executable, "-c", _BUILD_TINY, str(out)], cwd=REPO_ROOT, check=True, capture_output=True,
                   env=dict(os.environ, OMP_NUM_THREADS="1"))
    os.environ["GFNCP_MODELS_DIR"] = str(out / "models")


_models_for_the_server()

HEATMAP = '[data-testid="stPlotlyChart"] .heatmaplayer image'


def _wait_for(page, js: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(js):
            return True
        time.sleep(0.2)
    return False


def test_uncertainty_page_renders_heatmap(st_app):
    page = st_app.page
    # The app's front page first: on a fresh server, a deep link opened as the very first
    # request can be served before app.py has registered its navigation.
    st_app.open("", name="front page (before uncertainty)")
    st_app.open("/uncertainty", name="uncertainty")
    st_app.assert_no_exception()
    assert page.get_by_role("heading", name="Uncertainty").first.is_visible()
    assert page.get_by_text("How sure is the model about each point?").first.is_visible()

    # Plotly draws lazily: wait until every chart has its SVG, then for the heatmap's image.
    all_drawn = """() => {
        const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
        const drawn = document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg');
        return charts.length > 0 && drawn.length >= charts.length;
    }"""
    heatmap = page.locator(HEATMAP).first
    heatmap.scroll_into_view_if_needed()
    assert _wait_for(page, all_drawn), "plotly charts did not render"
    assert page.locator(HEATMAP).count() >= 1, "no co-assignment heatmap on the page"
    assert page.get_by_role("button", name="Per-point uncertainty (CSV)").is_visible() or \
        page.get_by_text("Per-point uncertainty (CSV)").count() >= 1
    st_app.assert_no_exception()

    # Streamlit scrolls inside its own container: a tall viewport puts the whole page in the picture.
    page.set_viewport_size({"width": 1400, "height": 4200})
    page.get_by_role("heading", name="Uncertainty").first.scroll_into_view_if_needed()
    _wait_for(page, all_drawn)
    page.mouse.move(5, 5)
    time.sleep(1.0)
    path = st_app.screenshot("uncertainty")
    assert path.stat().st_size > 0
    st_app.assert_drawn_once()
    st_app.assert_metrics_fit()

    # a laptop-sized window, sidebar open: the metrics wrap rather than being cut off
    page.set_viewport_size({"width": 1024, "height": 3000})
    time.sleep(1.0)
    st_app.assert_metrics_fit()
    page.set_viewport_size({"width": 1400, "height": 4200})

    # coloured by reference cluster: a legend instead of the colour bar, in margins that hold it
    page.get_by_text("Reference cluster", exact=True).first.click()
    st_app.wait(expect_rerun=True, timeout=240)
    st_app.assert_no_exception()
    scatter = page.locator('[data-testid="stPlotlyChart"]').first
    assert scatter.locator(".legend").count() == 1 and scatter.locator(".colorbar").count() == 0
    st_app.assert_drawn_once()


def test_exact_posterior_on_a_small_upload(st_app, tmp_path):
    """A six-point upload takes the page's exact-posterior branch (every partition enumerated):
    no error, every chart drawn once, every metric readable."""
    page = st_app.page
    points = tmp_path / "six_points.csv"
    points.write_text("x,y\n0,0\n0.5,0.2\n0.1,0.6\n9,9\n9.4,8.8\n8.7,9.3\n")
    st_app.open("", name="front page (before a small upload)")
    page.get_by_role("tab", name="Upload").click()
    st_app.wait(expect_rerun=True)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(points))
    st_app.wait(expect_rerun=True)
    page.get_by_role("button", name="Use this data").click()
    st_app.wait(expect_rerun=True)
    link = page.locator('[data-testid="stSidebarNav"] a', has_text="Uncertainty").first
    st_app.measure("six points: sidebar -> Uncertainty (exact posterior)", lambda: link.click(), timeout=240)
    st_app.assert_no_exception()
    assert page.get_by_text("exact Bayesian posterior").first.is_visible()
    assert page.get_by_text("most probable partitions under the exact posterior").count() >= 1
    st_app.assert_drawn_once()
    st_app.assert_metrics_fit()
