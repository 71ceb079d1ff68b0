"""Session state and cached resources shared by every page.

The current data set lives in st.session_state["dataset"] as a `Dataset`; models are loaded
once per process with st.cache_resource; a page asks `current_models()` for the pair that
serves the current set and `model_input()` for the set in the model's input space.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from .. import data, routing
from ..prior import TEXTBOOK
from ..projection import project
from ..registry import list_pretrained, load_pretrained


@dataclass
class Dataset:
    """A point set as the app holds it. X in the units the user sees (after any scaling the
    user accepted on upload); labels canonical or None; images (N, 64) for digits tasks."""

    name: str
    X: np.ndarray
    labels: np.ndarray | None = None
    source: str = "generated"            # "generated", "digits" or "upload"
    params: dict = field(default_factory=dict)
    images: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.X)

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    @property
    def truth(self) -> np.ndarray | None:
        """The true labels when the set has them for every point, else None."""
        if self.labels is None or len(self.labels) != self.n:
            return None
        return np.asarray(self.labels)

    @property
    def true_k(self) -> int | None:
        return None if self.labels is None else int(self.labels.max()) + 1

    @property
    def key(self) -> str:
        """A short content hash, for caching results per data set."""
        import hashlib
        h = hashlib.sha1(np.ascontiguousarray(self.X).tobytes())
        if self.labels is not None:
            h.update(np.ascontiguousarray(self.labels).tobytes())
        return h.hexdigest()[:16]


DEFAULT_MOG = dict(n_points=100, dim=2, **TEXTBOOK.as_dict(), seed=0)


def default_dataset() -> Dataset:
    X, labels = data.make_mog(**DEFAULT_MOG)
    return Dataset("Mixture of Gaussians (2-D, N=100, seed 0)", X, labels, "generated", dict(DEFAULT_MOG))


def get_dataset() -> Dataset:
    """The current data set; a default 2-D set on a first visit."""
    if "dataset" not in st.session_state:
        st.session_state["dataset"] = default_dataset()
    return st.session_state["dataset"]


def set_dataset(ds: Dataset) -> None:
    st.session_state["dataset"] = ds
    st.session_state.pop("pair_override", None)


@st.cache_resource(show_spinner="Loading model…")
def load_model(name: str):
    return load_pretrained(name)


def current_pair(ds: Dataset | None = None) -> str:
    ds = ds or get_dataset()
    options = routing.fitting_pairs(ds.dim, ds.source)
    override = st.session_state.get("pair_override")
    return override if override in options else options[0]


def current_models(ds: Dataset | None = None):
    """(gfncp Clusterer, ncp Clusterer) serving the current set."""
    g_name, n_name = routing.pair_names(current_pair(ds))
    available = list_pretrained()
    missing = [n for n in (g_name, n_name) if n not in available]
    if missing:
        raise FileNotFoundError(f"Model(s) {missing} are not installed in assets/models/.")
    return load_model(g_name), load_model(n_name)


def models_or_stop(ds: Dataset | None = None):
    """(gfncp, ncp, X in the models' input space) for a page; if the models are missing or
    the set cannot be fed to them, say so with st.error and stop the page."""
    try:
        gfn, ncp = current_models(ds)
        return gfn, ncp, model_input(ds)
    except FileNotFoundError as err:
        st.error(f"{err} Train them with `python -m gfncp.train --preset ... --export`, or point "
                 "GFNCP_MODELS_DIR at a folder that holds them.")
    except ValueError as err:
        st.error(f"This data set cannot be fed to the models: {err}")
    st.stop()


def model_input(ds: Dataset | None = None) -> np.ndarray:
    """The current set mapped into the serving pair's input space (N, model dim)."""
    ds = ds or get_dataset()
    return routing.map_to_pair(ds.X, current_pair(ds))


@st.cache_data(show_spinner=False, max_entries=32)
def projection(key: str, _X: np.ndarray, method: str = "pca", seed: int = 0,
               n_neighbors: int = 15, min_dist: float = 0.1) -> np.ndarray:
    """2-D view (N, 2) of a set, cached per data key and parameters (UMAP takes seconds).
    `key` must identify _X (e.g. Dataset.key); _X itself is not hashed."""
    return project(_X, method=method, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist)


def leave_pages_folder_mode() -> None:
    """Undo Streamlit's `pages/`-folder fallback on a cold server.

    Until app.py's st.navigation has run once in the server process, Streamlit treats the
    `pages/` folder as an old-style multipage app: the very first request of a fresh server
    to a deep link (e.g. /about) runs pages/about.py alone, without app.py (no page config,
    no sidebar, file-name navigation), and it stays so until someone opens the root URL.
    Every page imports this module, so on that first run this switches the fallback off and
    reruns: app.py then runs and shows the requested page in the app's frame. No-op outside
    a script run and once the flag is off (always, after app.py has run once).
    """
    # Why a private flag: Streamlit 1.67 has no supported way to keep a `pages/` folder beside
    # an st.navigation entry point. PagesManager sets `uses_pages_directory` from the mere
    # existence of <entry point's folder>/pages when the first session starts, before any script
    # runs; only st.navigation clears it, and there is no config option. The one supported cure,
    # renaming the folder, is ruled out: the design card fixes `pages/`.
    # tests/test_app_frame.py::test_streamlit_still_needs_the_pages_folder_flip fails when
    # Streamlit changes this, so that the flip can then go.
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:          # a Streamlit without these internals: nothing to undo
        return
    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()


leave_pages_folder_mode()
