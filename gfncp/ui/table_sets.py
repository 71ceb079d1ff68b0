"""Data sets the Data page makes current from a bundled real table or an uploaded table.

    real_set("iris")                           -> Dataset (source "real", params {"name": "iris"})
    upload_set("mine.csv", points, scale=None) -> Dataset (source "upload")

Both carry the known classes' names (Dataset.class_names) for the legends and hovers. Real
sets and uploads go to the general pair (gfncp.routing.default_pair), which standardises
each feature itself: no scaling is needed for it. `scale` divides an upload by a number, for
a textbook pair chosen in the sidebar.
"""
from __future__ import annotations

import numpy as np

from ..real_data import REAL_SETS, load_real
from ..tables import Points
from .state import Dataset


def real_set(name: str) -> Dataset:
    """The bundled real table `name` (one of REAL_SETS) as the app's Dataset, in its own units."""
    table = load_real(name)
    n, d = table.X.shape
    return Dataset(f"{table.title} ({n} rows, {d} features)", np.array(table.X), np.array(table.labels), "real", {"name": name},
                   class_names=tuple(table.class_names))


def real_summary(name: str) -> dict:
    """What the Data page says about a bundled set before it is loaded."""
    table = load_real(name)
    return {"title": table.title, "description": table.description,
            "classes": ", ".join(table.class_names), "features": ", ".join(table.feature_names)}


def upload_set(filename: str, points: Points, scale: float | None = None) -> Dataset:
    """An upload's chosen columns as a Dataset; X divided by `scale` when one is given."""
    X = points.X / scale if scale else points.X.copy()
    suffix = f", ÷ {scale:.3g}" if scale else ""
    name = f"{filename} (N={len(X)}, {X.shape[1]}-D{suffix})"
    params = dict(file=filename, columns=list(points.features), label=points.label,
                  rows_dropped=points.rows_dropped, scale=float(scale) if scale else None)
    return Dataset(name, X, points.labels, "upload", params, class_names=points.class_names)


__all__ = ["REAL_SETS", "real_set", "real_summary", "upload_set"]
