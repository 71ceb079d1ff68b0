"""Order-invariance page in a real browser: it renders, "Shuffle once" works, no error box."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
PAIR = ("gfncp-mog2d", "ncp-mog2d")

_TINY = """
import sys
from pathlib import Path
from gfncp import train
root = Path(sys.argv[1])
for kind in ("gfncp", "ncp"):
    cfg = train.preset("tiny", kind)
    cfg.preset = "mog2d"
    net = train.train(cfg, root / "runs" / cfg.name, progress=False)
    train.export(cfg, net, root / "runs" / cfg.name, "tiny test model", models_dir=root / "models")
"""


def _ensure_models_for_server() -> None:
    """The app server (started once per session, inheriting os.environ) needs the 2-D pair.
    When neither the installed models nor GFNCP_MODELS_DIR provide it, train tiny stand-ins
    (seconds) and point GFNCP_MODELS_DIR at them. Runs at collection, before any server starts."""
    models_dir = Path(os.environ.get("GFNCP_MODELS_DIR", REPO_ROOT / "assets" / "models"))
    if all((models_dir / f"{n}.pt").exists() and (models_dir / f"{n}.json").exists() for n in PAIR):
        return
    root = Path(tempfile.mkdtemp(prefix="gfncp_tiny_models_"))
    subprocess.run([sys.executable, "-c", _TINY, str(root)], cwd=REPO_ROOT, check=True,
                   env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True)
    os.environ["GFNCP_MODELS_DIR"] = str(root / "models")


_ensure_models_for_server()


def test_order_invariance_page_and_shuffle(st_app):
    page = st_app.page
    # Start on the home page and follow the sidebar link, as a user does. (A cold server's very
    # first request to a deep link /order_invariance runs pages/order_invariance.py without
    # app.py: Streamlit's pages/-folder fallback. That is app.py's concern, not this page's.)
    st_app.open("", name="home (before order invariance)")
    link = page.locator('[data-testid="stSidebarNav"] a', has_text="Order invariance").first
    st_app.measure("order_invariance", lambda: link.click(), timeout=180)
    assert page.url.rstrip("/").endswith("/order_invariance")
    st_app.assert_no_exception()
    assert page.get_by_role("heading", name="Order invariance").first.is_visible()
    assert page.get_by_text("probability for the same clustering").first.is_visible()
    assert page.get_by_text("flow-consistency gap").first.is_visible()

    button = page.get_by_role("button", name="Shuffle once")
    button.scroll_into_view_if_needed()
    st_app.measure("order_invariance: shuffle once", lambda: button.click())
    st_app.assert_no_exception()
    assert page.get_by_text("Shuffle #1").first.is_visible()
    page.mouse.move(5, 5)                    # no tooltip over the screenshot
    # show the shuffle result: its section heading at the top of the viewport
    page.get_by_role("heading", name="3 · Shuffle once").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    path = st_app.screenshot("order_invariance")
    assert path.stat().st_size > 0
