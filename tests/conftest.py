"""Shared fixtures.

dev_models_dir (session)
    The folder of the eight models the app serves (gfncp/ncp x mog2d/mog16d/digits/general). If
    `gfncp.list_pretrained()` has them all (the shipped models in assets/models/, or a folder
    GFNCP_MODELS_DIR points at), that folder. Otherwise a temporary folder with the models
    that exist copied in and the missing ones built as tiny placeholders (preset "tiny",
    input dimension as the name requires, 60 iterations, a few seconds each); then
    GFNCP_MODELS_DIR points at it for the rest of the session (subprocesses such as the
    browser tests' server inherit it) and gfncp.registry reads it too. Tests must not assume
    anything about model quality: they run with the real models as well.

app_frame_test (function)
    A fresh (not yet run) AppTest of app.py as the real server runs it. AppTest quirk worked
    around: with a `pages/` folder next to the main script, AppTest resets Streamlit's "uses
    pages directory" flag before every run, so from the second run on it would run the page
    file alone, without app.py (no sidebar). Running app.py through a small script (no `pages/`
    beside it) gives the behaviour of the real server, where st.navigation turns that flag off.

_clear_streamlit_caches (autouse)
    Clears st.cache_data / st.cache_resource after every test that imported Streamlit, so
    AppTests do not see each other's cached results or models.

GFNCP_PREFETCH=0 (set here for the whole session)
    AppTests run the app in this process: the background prefetcher (gfncp/ui/prefetch.py)
    would keep computing after a test ends, into the next test's caches. Its own tests switch
    it on; the browser tests' server runs the app as users get it (tests/browser/conftest.py).
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

os.environ["GFNCP_PREFETCH"] = "0"

MODEL_NAMES = ("gfncp-mog2d", "ncp-mog2d", "gfncp-mog16d", "ncp-mog16d", "gfncp-digits", "ncp-digits",
               "gfncp-general", "ncp-general")


def _tiny_config(name: str):
    """The "tiny" preset, adapted to the data and input dimension the name calls for."""
    from gfncp import train

    kind, pair = name.split("-", 1)
    cfg = train.preset("tiny", kind)
    dim = {"mog2d": 2, "mog16d": 16, "digits": 64, "general": 16}[pair]
    cfg.preset = pair                     # the exported model is named <kind>-<pair>
    cfg.dim = dim
    cfg.network = replace(cfg.network, x_dim=dim)
    if pair == "digits":
        cfg.dataset = "digits"
        cfg.k_max = 10
        cfg.network = replace(cfg.network, center="mean")
    if pair == "general":
        cfg.dataset = "broad"
        cfg.k_max = 10
        cfg.network = replace(cfg.network, center="standardize")
    return cfg


def build_tiny_models(names, models_dir: Path, work_dir: Path) -> None:
    """Train and export tiny placeholder models for `names` into models_dir."""
    from gfncp import train

    for name in names:
        cfg = _tiny_config(name)
        run_dir = work_dir / name
        net = train.train(cfg, run_dir, progress=False)
        train.export(cfg, net, run_dir, "tests/conftest.py: tiny placeholder model", models_dir=models_dir)


def _point_registry_at(mp: pytest.MonkeyPatch, folder: Path) -> None:
    """Make gfncp.registry (already imported) read `folder`."""
    import gfncp.registry as registry

    mp.setenv("GFNCP_MODELS_DIR", str(folder))
    mp.setattr(registry, "MODELS_DIR", folder)


@pytest.fixture(scope="session")
def dev_models_dir(tmp_path_factory):
    import gfncp
    import gfncp.registry as registry

    have = set(gfncp.list_pretrained())
    missing = [n for n in MODEL_NAMES if n not in have]
    if not missing:
        yield Path(registry.MODELS_DIR)
        return
    folder = tmp_path_factory.mktemp("models")
    for name in MODEL_NAMES:
        if name in have:
            for ext in (".pt", ".json"):
                shutil.copy(Path(registry.MODELS_DIR) / f"{name}{ext}", folder / f"{name}{ext}")
    import torch

    threads = torch.get_num_threads()
    try:
        build_tiny_models(missing, folder, tmp_path_factory.mktemp("runs"))
    finally:
        torch.set_num_threads(threads)
    mp = pytest.MonkeyPatch()
    _point_registry_at(mp, folder)
    try:
        yield folder
    finally:
        mp.undo()


@pytest.fixture
def app_frame_test(dev_models_dir):
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "app.py"
    script = f"__file__ = {str(app)!r}\nexec(compile(open(__file__).read(), __file__, 'exec'))\n"
    return AppTest.from_string(script, default_timeout=180)


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
