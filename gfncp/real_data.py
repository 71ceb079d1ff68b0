"""Bundled real data sets with known classes, in their own units.

    gfncp.real_data.REAL_SETS                 -> names, in the order the app lists them
    table = gfncp.real_data.load_real("wine") -> RealTable(X (N, d), labels (N,), ...)

All four ship with installed packages (no download): scikit-learn's iris, wine and breast
cancer tables, and the Palmer penguins (package `palmerpenguins`; rows with a missing
measurement are dropped, the count is in the description). Labels are canonical (numbered
in order of first appearance), class_names follow that numbering.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .partitions import canonical_labels


@dataclass(frozen=True)
class RealTable:
    name: str
    title: str
    X: np.ndarray = field(repr=False)          # (N, d) float64, the table's own units
    labels: np.ndarray = field(repr=False)     # (N,) canonical class labels
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    description: str

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape


def _from_sklearn(loader_name: str, name: str, title: str) -> RealTable:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)()
    target = np.asarray(bunch.target)
    labels = canonical_labels(target)
    first = [int(target[np.argmax(labels == k)]) for k in range(labels.max() + 1)]
    names = tuple(str(bunch.target_names[c]) for c in first)
    X = np.asarray(bunch.data, dtype=np.float64)
    return RealTable(name, title, X, labels, tuple(map(str, bunch.feature_names)), names,
                     f"{title}: {X.shape[0]} rows x {X.shape[1]} features, {len(names)} classes "
                     f"(scikit-learn `{loader_name}`).")


def _penguins() -> RealTable:
    from palmerpenguins import load_penguins

    frame = load_penguins()
    features = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    complete = frame.dropna(subset=features + ["species"])
    dropped = len(frame) - len(complete)
    species = complete["species"].astype(str).to_numpy()
    order = list(dict.fromkeys(species))                    # order of first appearance
    labels = np.array([order.index(s) for s in species], dtype=np.int64)
    X = complete[features].to_numpy(dtype=np.float64)
    return RealTable("penguins", "Palmer penguins", X, labels, tuple(features), tuple(order),
                     f"Palmer penguins: {len(X)} rows x {len(features)} measurements, {len(order)} species "
                     f"(package `palmerpenguins`; {dropped} rows with a missing measurement dropped).")


_LOADERS = {
    "iris": lambda: _from_sklearn("load_iris", "iris", "Iris"),
    "wine": lambda: _from_sklearn("load_wine", "wine", "Wine"),
    "breast_cancer": lambda: _from_sklearn("load_breast_cancer", "breast_cancer", "Breast cancer"),
    "penguins": _penguins,
}
REAL_SETS: tuple[str, ...] = tuple(_LOADERS)


@lru_cache(maxsize=None)
def load_real(name: str) -> RealTable:
    """A bundled real table by name (one of REAL_SETS). Cached: tables are immutable."""
    if name not in _LOADERS:
        raise KeyError(f"No bundled data set named {name!r}; choose from {', '.join(REAL_SETS)}.")
    table = _LOADERS[name]()
    table.X.setflags(write=False)
    table.labels.setflags(write=False)
    return table
