"""Input orders: the order in which a set's points are fed to the sequential policy.

    order = make_order("pca", n, X=X)                 # sorted along the first principal axis
    order = make_order("random", n, seed=3)
    order = make_order("typed", n, text="2 0 1")      # by hand, sets of up to TYPED_MAX_N points
    describe_order("clusters", order)                 # a short phrase for captions

Kinds (ORDER_KINDS): the data's row order, random (seeded), reversed, sorted along the first
principal axis, cluster by cluster (true labels: cluster 0's points, then cluster 1's, each in
row order), and typed by hand. Points are numbered by their row in the data, from 0, as
everywhere in the app. Bad input raises OrderError (a ValueError) with a message a person can
act on.
"""
from __future__ import annotations

import re

import numpy as np

TYPED_MAX_N = 12

ORDER_KINDS = {
    "data": "the data's row order",
    "random": "random (seeded)",
    "reversed": "reversed row order",
    "pca": "sorted along the first principal axis",
    "clusters": "cluster by cluster (true labels)",
    "typed": "typed by hand",
}


class OrderError(ValueError):
    """An order that cannot be used, with a message that says how to fix it."""


def available_kinds(n: int, has_labels: bool) -> list[str]:
    """The kinds that apply to a set of n points (with or without true labels)."""
    kinds = ["data", "random", "reversed", "pca"]
    if has_labels:
        kinds.append("clusters")
    if n <= TYPED_MAX_N:
        kinds.append("typed")
    return kinds


def first_axis_order(X) -> np.ndarray:
    """Rows sorted by their coordinate on the first principal axis (sign fixed: the axis's largest
    loading is positive), ties by row."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise OrderError(f"Need a set of points (N, d) to sort along its principal axis, got shape {X.shape}.")
    centred = X - X.mean(axis=0)
    if len(X) < 2 or not np.any(centred):
        return np.arange(len(X))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axis = vt[0] * np.sign(vt[0][np.argmax(np.abs(vt[0]))])
    return np.argsort(centred @ axis, kind="stable")


def cluster_order(labels) -> np.ndarray:
    """Cluster by cluster, in order of each cluster's first row; rows in order within a cluster."""
    if labels is None:
        raise OrderError("This set has no true labels, so there is no cluster-by-cluster order: "
                         "choose another kind of order.")
    labels = np.asarray(labels).reshape(-1)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return np.argsort(rank[inverse], kind="stable")


def parse_typed_order(text: str, n: int) -> np.ndarray:
    """A permutation of 0..n-1 typed as numbers separated by spaces or commas ("2 0 1")."""
    if n > TYPED_MAX_N:
        raise OrderError(f"Orders are typed by hand for sets of up to {TYPED_MAX_N} points; this set has {n}. "
                         "Choose another kind of order, or a smaller set.")
    tokens = [t for t in re.split(r"[\s,;]+", (text or "").strip()) if t]
    if not tokens:
        raise OrderError(f"Type the {n} point numbers (0 to {n - 1}) in the order to feed them, "
                         f"e.g. {' '.join(str(i) for i in reversed(range(n)))}.")
    bad = [t for t in tokens if not re.fullmatch(r"\d+", t)]
    if bad:
        raise OrderError(f"'{bad[0]}' is not a point number: use whole numbers from 0 to {n - 1}, "
                         "separated by spaces or commas.")
    values = [int(t) for t in tokens]
    outside = [v for v in values if v >= n]
    if outside:
        raise OrderError(f"There is no point {outside[0]}: this set's points are numbered 0 to {n - 1}.")
    seen: set = set()
    twice = [v for v in values if v in seen or seen.add(v)]
    if twice:
        raise OrderError(f"Point {twice[0]} appears twice: an order lists every point exactly once.")
    missing = [i for i in range(n) if i not in seen]
    if missing:
        listed = ", ".join(str(i) for i in missing[:6]) + (" …" if len(missing) > 6 else "")
        raise OrderError(f"{len(missing)} point{'s are' if len(missing) > 1 else ' is'} missing ({listed}): "
                         f"an order lists all {n} points exactly once.")
    return np.asarray(values, dtype=np.int64)


def format_order(order) -> str:
    return " ".join(str(int(i)) for i in order)


def make_order(kind: str, n: int, X=None, labels=None, seed: int = 0, text: str | None = None) -> np.ndarray:
    """The order of kind `kind` for a set of n points (see ORDER_KINDS)."""
    if kind == "data":
        return np.arange(n)
    if kind == "random":
        return np.random.default_rng(int(seed)).permutation(n)
    if kind == "reversed":
        return np.arange(n)[::-1].copy()
    if kind == "pca":
        if X is None or len(X) != n:
            raise OrderError("Sorting along the principal axis needs the points.")
        return first_axis_order(X)
    if kind == "clusters":
        if labels is not None and len(labels) != n:
            raise OrderError(f"The true labels cover {len(labels)} of the {n} points.")
        return cluster_order(labels)
    if kind == "typed":
        return parse_typed_order(text or "", n)
    raise OrderError(f"Unknown kind of order {kind!r}: one of {', '.join(ORDER_KINDS)}.")


def describe_order(kind: str, order, seed: int = 0) -> str:
    """A short phrase: 'random order (seed 3): 4 0 2 …'."""
    head = {"data": "the data's row order", "random": f"random order (seed {seed})", "reversed": "reversed row order",
            "pca": "sorted along the first principal axis", "clusters": "cluster by cluster (true labels)",
            "typed": "typed by hand"}.get(kind, kind)
    order = list(order)
    shown = format_order(order[:12]) + (" …" if len(order) > 12 else "")
    return f"{head}: {shown}"


# -- a handful of orders, written as one line (Order invariance; links) -----------------------------

def parse_order_specs(text: str, n: int, X=None, labels=None) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """Orders written as comma-separated specs: data, reversed, pca, clusters, random:SEED and
    typed:I.J.K (points separated by dots). -> ([(spec, order)], [problems, one per bad spec])."""
    out, problems = [], []
    for spec in [t.strip() for t in (text or "").split(",") if t.strip()]:
        kind, _, arg = spec.partition(":")
        try:
            if kind == "random":
                if not arg.isdigit():
                    raise OrderError("random needs a seed, e.g. random:3")
                order = make_order("random", n, seed=int(arg))
            elif kind == "typed":
                order = make_order("typed", n, text=arg.replace(".", " "))
            elif kind in ORDER_KINDS and not arg:
                order = make_order(kind, n, X=X, labels=labels)
            else:
                raise OrderError(f"'{spec}' is not an order: use {', '.join(k for k in ORDER_KINDS if k not in ('random', 'typed'))}, "
                                 "random:SEED or typed:I.J.K")
        except OrderError as err:
            problems.append(f"{spec}: {err}")
            continue
        out.append((spec, order))
    return out, problems


def order_spec(kind: str, seed: int = 0, order=None) -> str:
    """The spec parse_order_specs reads back."""
    if kind == "random":
        return f"random:{int(seed)}"
    if kind == "typed":
        return "typed:" + ".".join(str(int(i)) for i in order)
    return kind
