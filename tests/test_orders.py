"""Input orders (gfncp/orders.py): every kind is a permutation; typed orders say what is wrong."""
from __future__ import annotations

import numpy as np
import pytest

from gfncp import orders as od


def _is_perm(o, n):
    return np.array_equal(np.sort(o), np.arange(n))


def test_every_kind_is_a_permutation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 3))
    labels = np.array([2, 0, 2, 1, 0, 1, 1, 2, 0])
    for kind in od.ORDER_KINDS:
        o = od.make_order(kind, 9, X=X, labels=labels, seed=4, text="8 7 6 5 4 3 2 1 0")
        assert _is_perm(o, 9), kind
    assert np.array_equal(od.make_order("data", 5), np.arange(5))
    assert np.array_equal(od.make_order("reversed", 5), [4, 3, 2, 1, 0])
    assert np.array_equal(od.make_order("random", 30, seed=3), od.make_order("random", 30, seed=3))
    assert not np.array_equal(od.make_order("random", 30, seed=3), od.make_order("random", 30, seed=4))


def test_sorted_along_first_principal_axis():
    t = np.array([3.0, -1.0, 0.5, 10.0, -7.0])
    X = np.stack([t, 2 * t + 1e-3 * np.arange(5)], axis=1)     # points on a line
    o = od.make_order("pca", 5, X=X)
    assert np.array_equal(o, np.argsort(t))                       # ascending along the axis
    # independent of the row order: the same points sorted the same way
    perm = np.array([4, 2, 0, 1, 3])
    o2 = od.first_axis_order(X[perm])
    assert np.array_equal(perm[o2], o)


def test_cluster_by_cluster():
    labels = np.array([2, 0, 2, 1, 0, 1])
    o = od.make_order("clusters", 6, labels=labels)
    assert o.tolist() == [0, 2, 1, 4, 3, 5]          # cluster of row 0 first, rows in order within it
    with pytest.raises(od.OrderError, match="no true labels"):
        od.make_order("clusters", 6, labels=None)


@pytest.mark.parametrize("text, message", [
    ("", "Type the 4 point numbers"),
    ("0 1 x 3", "'x' is not a point number"),
    ("0 1 2 7", "There is no point 7: this set's points are numbered 0 to 3"),
    ("0 1 1 2", "Point 1 appears twice"),
    ("3 0", "2 points are missing \\(1, 2\\)"),
    ("-1 0 1 2", "'-1' is not a point number"),
])
def test_typed_order_messages(text, message):
    with pytest.raises(od.OrderError, match=message):
        od.parse_typed_order(text, 4)


def test_typed_order_accepts_commas_and_spaces_and_limits_size():
    assert od.parse_typed_order(" 2, 0 ,1 ", 3).tolist() == [2, 0, 1]
    assert od.parse_typed_order("1;0", 2).tolist() == [1, 0]
    with pytest.raises(od.OrderError, match="up to 12 points"):
        od.parse_typed_order(" ".join(map(str, range(13))), 13)
    assert "typed" in od.available_kinds(12, False) and "typed" not in od.available_kinds(13, True)
    assert "clusters" not in od.available_kinds(5, False)


def test_describe():
    assert od.describe_order("random", [2, 0, 1], seed=3) == "random order (seed 3): 2 0 1"
    assert od.describe_order("data", range(20)).endswith("11 …")


def test_order_specs_round_trip_and_report_problems():
    X = np.random.default_rng(1).normal(size=(4, 2))
    labels = np.array([0, 1, 0, 1])
    text = ",".join([od.order_spec("data"), od.order_spec("random", seed=7), od.order_spec("typed", order=[3, 1, 0, 2]),
                     "pca", "clusters", "reversed"])
    got, problems = od.parse_order_specs(text, 4, X=X, labels=labels)
    assert problems == []
    assert [s for s, _ in got] == ["data", "random:7", "typed:3.1.0.2", "pca", "clusters", "reversed"]
    assert got[1][1].tolist() == od.make_order("random", 4, seed=7).tolist()
    assert got[2][1].tolist() == [3, 1, 0, 2]
    assert got[4][1].tolist() == [0, 2, 1, 3]
    got, problems = od.parse_order_specs("data,typed:0.0.1.2,random,bogus", 4)
    assert [s for s, _ in got] == ["data"]
    assert len(problems) == 3 and "appears twice" in problems[0] and "needs a seed" in problems[1]
