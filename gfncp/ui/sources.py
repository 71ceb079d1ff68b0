"""Where a data set comes from, as plain parameters that rebuild it: what a link holds.

Every source is one entry of SOURCES: its name (the `data=` value in a link and Dataset.source),
its parameters (gfncp.ui.url_state.Param: URL name, key in Dataset.params, type, default, range)
and a builder params -> Dataset. Adding a source (a new bundled real set's loader, say) is one
entry here, or one `register_real(name, loader)` call for a bundled real set.

Uploaded sets cannot be rebuilt from parameters: they are kept in this server process under
their content hash (Dataset.key) for the server's lifetime (at most UPLOADS_KEPT, the oldest
dropped first), so a link to one works for reloads and for other people on the same server
until it restarts.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import data
from .state import DEFAULT_MOG, Dataset
from .url_state import Param

SEED_MAX = 2**31 - 1
DIGITS_MAX_N = 500
UPLOADS_KEPT = 256
DIGIT_SPLITS = {"test": "held-out split (539 images)", "train": "training split (1258 images)"}  # the Data page's labels
DIGIT_CLASS_CHOICES = ["random (CRP)"] + [str(k) for k in range(1, 11)]                      # ditto
GEN_N_MIN = 5                     # the Data page's N slider starts here (a link may hold N >= 2)


class LinkError(ValueError):
    """A link's data set cannot be rebuilt (its message says why, in one sentence)."""


@dataclass(frozen=True)
class Source:
    name: str                                  # data=<name> in a link; Dataset.source
    title: str                                 # for messages
    params: tuple                              # Param(...) with key = the key in Dataset.params
    build: Callable[[dict], Dataset]


# -- builders -----------------------------------------------------------------------------------

def mog_name(p: dict) -> str:
    return f"Mixture of Gaussians ({p['dim']}-D, N={p['n_points']}, seed {p['seed']})"


def generated_dataset(p: dict) -> Dataset:
    params = dict(n_points=int(p["n_points"]), dim=int(p["dim"]), alpha=float(p["alpha"]),
                  sigma=float(p["sigma"]), lam=float(p["lam"]), seed=int(p["seed"]))
    X, labels = data.make_mog(**params)
    return Dataset(mog_name(params), X, labels, "generated", params)


@functools.lru_cache(maxsize=1)
def _digit_targets() -> np.ndarray:
    from sklearn.datasets import load_digits
    return load_digits().target


def digit_classes_of(index) -> list[int]:
    return [int(c) for c in _digit_targets()[np.asarray(list(index), dtype=np.int64)]]


def digits_dataset(p: dict) -> Dataset:
    params = dict(n_points=int(p["n_points"]), n_classes=None if p.get("n_classes") is None else int(p["n_classes"]),
                  split=str(p.get("split", "test")), seed=int(p["seed"]))
    X, labels, index = data.make_digits_task(**params, return_index=True)
    classes = digit_classes_of(index)
    present = sorted(set(classes))
    params.update(index=[int(i) for i in index], digit_classes=classes)
    name = (f"Digits {', '.join(map(str, present))} (N={params['n_points']}, "
            f"{'held-out' if params['split'] == 'test' else 'training'} images, seed {params['seed']})")
    return Dataset(name, X, labels, "digits", params, images=X.copy())


def real_table_dataset(name: str) -> Dataset:
    """A bundled real table (gfncp.real_data) as the app's Dataset, in the table's own units."""
    from .table_sets import real_set
    return real_set(name)


# Bundled real data sets: name -> loader() -> Dataset (source "real", params {"name": name}).
REAL_LOADERS: dict[str, Callable[[], Dataset]] = {}


def register_real(name: str, loader: Callable[[], Dataset]) -> None:
    REAL_LOADERS[name] = loader


def _register_bundled() -> None:
    try:
        from .. import real_data
    except ImportError:              # a version without bundled tables
        return
    for name in real_data.REAL_SETS:
        register_real(name, functools.partial(real_table_dataset, name))


_register_bundled()


def real_dataset(p: dict) -> Dataset:
    name = str(p["name"])
    if name not in REAL_LOADERS:
        known = ", ".join(sorted(REAL_LOADERS)) or "none yet"
        raise LinkError(f"the bundled data set '{name}' is not in this version of the app (bundled: {known})")
    return REAL_LOADERS[name]()


_uploads: OrderedDict = OrderedDict()
_uploads_lock = threading.Lock()


def keep_upload(ds: Dataset) -> str:
    """Keep an uploaded set on this server under its content hash; returns the hash."""
    with _uploads_lock:
        _uploads[ds.key] = ds
        _uploads.move_to_end(ds.key)
        while len(_uploads) > UPLOADS_KEPT:
            _uploads.popitem(last=False)
    return ds.key


def upload_dataset(p: dict) -> Dataset:
    with _uploads_lock:
        ds = _uploads.get(str(p["key"]))
    if ds is None:
        raise LinkError("the uploaded set of this link is no longer on this server (uploads are kept only "
                        "until the server restarts): upload the file again on the Data page")
    return ds


# -- the sources ----------------------------------------------------------------------------------

D = DEFAULT_MOG
SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("generated", "generated mixture", (
        Param("n", "n_points", "int", D["n_points"], lo=2, hi=1000),
        Param("dim", "dim", "int", D["dim"], lo=2, hi=64),
        Param("alpha", "alpha", "float", D["alpha"], lo=0.05, hi=10.0),
        Param("sigma", "sigma", "float", D["sigma"], lo=0.05, hi=10.0),
        Param("lam", "lam", "float", D["lam"], lo=0.0, hi=100.0),
        Param("seed", "seed", "int", D["seed"], lo=0, hi=SEED_MAX),
    ), generated_dataset),
    Source("digits", "digits task", (
        Param("k", "n_classes", "choice", None, choices={"crp": None, **{str(k): k for k in range(1, 11)}}),
        Param("n", "n_points", "int", 100, lo=5, hi=DIGITS_MAX_N),
        Param("split", "split", "choice", "test", choices={"test": "test", "train": "train"}),
        Param("seed", "seed", "int", 0, lo=0, hi=SEED_MAX),
    ), digits_dataset),
    Source("real", "bundled real data set", (
        Param("name", "name", "text", "", pattern=r"[a-z0-9_\-]{1,40}", what="a bundled data set's name"),
    ), real_dataset),
    Source("upload", "uploaded set", (
        Param("set", "key", "text", "", pattern=r"[0-9a-f]{16}", what="an uploaded set's 16-character hash"),
    ), upload_dataset),
)}


def form_state(ds: Dataset) -> dict:
    """{session-state key of a Data-page input: value} that would draw ds again, so that a link
    opened in a fresh browser shows its own generator settings, digits task or real set in the
    forms (not the defaults). Empty for uploads and for values the inputs cannot show."""
    p = ds.params
    if ds.source == "generated":
        spec = {q.key: q for q in SOURCES["generated"].params}
        out = {"gen_n": p["n_points"], "gen_dim": p["dim"], "gen_alpha": p["alpha"], "gen_sigma": p["sigma"],
               "gen_lam": p["lam"], "gen_seed": p["seed"]}
        if not (GEN_N_MIN <= p["n_points"] <= spec["n_points"].hi):
            out.pop("gen_n")
        return out
    if ds.source == "digits":
        return {"dig_k": DIGIT_CLASS_CHOICES[0] if p.get("n_classes") is None else str(p["n_classes"]),
                "dig_n": p["n_points"], "dig_split": DIGIT_SPLITS[p.get("split", "test")], "dig_seed": p["seed"]}
    if ds.source == "real":
        return {"real_name": p["name"]}
    return {}
