"""Step-through page in a real browser: it renders, the Step button moves caption and figure
together, no error box (the animation: test_step_animation.py)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
PAIR = ("gfncp-mog2d", "ncp-mog2d")

_TRAIN_TINY = """
import sys
from pathlib import Path
from gfncp import train
out = Path(sys.argv[1])
for kind in ("gfncp", "ncp"):
    cfg = train.preset("tiny", kind)
    cfg.preset = "mog2d"          # exported under the 2-D pair's names
    net = train.train(cfg, out / "runs" / cfg.name, progress=False)
    train.export(cfg, net, out / "runs" / cfg.name, "tiny test model", models_dir=out / "models")
"""


def _models_for_server() -> None:
    """The app server inherits os.environ: when the 2-D pair is not installed (and
    GFNCP_MODELS_DIR does not provide it), train tiny stand-ins and point the server at them."""
    models_dir = Path(os.environ.get("GFNCP_MODELS_DIR", REPO_ROOT / "assets" / "models"))
    if all((models_dir / f"{n}.pt").exists() and (models_dir / f"{n}.json").exists() for n in PAIR):
        return
    out = Path(tempfile.mkdtemp(prefix="gfncp_step_models_"))
    subprocess.run([sys.executable, "-c", _TRAIN_TINY, str(out)], cwd=REPO_ROOT, check=True,
                   env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True)
    os.environ["GFNCP_MODELS_DIR"] = str(out / "models")


_models_for_server()

COUNTER = re.compile(r"Step (\d+) of (\d+)")


def figure_step(page) -> int:
    """The step the figure shows, read from its title."""
    text = page.locator(".gtitle").first.text_content(timeout=10_000) or ""
    m = COUNTER.search(text)
    assert m, f"no step counter in {text!r}"
    return int(m.group(1))


def test_step_through_steps(st_app):
    page = st_app.page
    st_app.open("/step_through", name="step_through")
    st_app.assert_no_exception()
    assert page.get_by_role("heading", name="Step-through").first.is_visible()
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()
    assert figure_step(page) == 1
    assert page.get_by_text(re.compile(r"^Step 1 of \d+:")).first.is_visible()

    # the Step button moves the one step: caption, slider and figure together
    step = page.get_by_role("button", name="Step", exact=True)
    step.scroll_into_view_if_needed()
    st_app.measure("step_through: Step button", lambda: step.click())
    st_app.assert_no_exception()
    assert page.get_by_text(re.compile(r"^Step 2 of \d+:")).first.is_visible()
    assert figure_step(page) == 2

    page.mouse.move(5, 5)                      # no tooltip over the screenshot
    page.evaluate("window.scrollTo(0, 0)")
    path = st_app.screenshot("step_through")
    assert path.stat().st_size > 0
