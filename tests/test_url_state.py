"""Links that rebuild a view (gfncp/ui/url_state.py, gfncp/ui/sources.py), without a browser."""
from __future__ import annotations

import numpy as np
import pytest

from gfncp.ui import sources
from gfncp.ui import url_state as us
from gfncp.ui.state import Dataset


def _round_trip(ds):
    query = us.encode_dataset(ds)
    assert all(isinstance(v, str) for v in query.values())
    back, notices = us.decode_dataset(query)
    assert notices == []
    return query, back


def test_generated_set_round_trip():
    ds = sources.generated_dataset(dict(n_points=60, dim=3, alpha=1.5, sigma=0.5, lam=7.0, seed=1234))
    query, back = _round_trip(ds)
    assert query == {"data": "generated", "n": "60", "dim": "3", "alpha": "1.5", "sigma": "0.5", "lam": "7",
                     "seed": "1234"}
    assert back.key == ds.key and back.name == ds.name and back.source == "generated"


def test_digits_task_round_trip():
    ds = sources.digits_dataset(dict(n_points=40, n_classes=3, split="train", seed=5))
    query, back = _round_trip(ds)
    assert query["data"] == "digits" and query["k"] == "3" and query["split"] == "train"
    assert back.key == ds.key and back.images is not None and back.params["digit_classes"] == ds.params["digit_classes"]
    crp = sources.digits_dataset(dict(n_points=30, n_classes=None, split="test", seed=2))
    q2, back2 = _round_trip(crp)
    assert q2["k"] == "crp" and back2.key == crp.key


def test_upload_is_kept_on_the_server_under_its_hash():
    X = np.random.default_rng(0).normal(size=(7, 2))
    ds = Dataset("mine.csv (N=7, 2-D)", X, None, "upload", dict(file="mine.csv", columns=[0, 1], scale=None))
    query, back = _round_trip(ds)
    assert query == {"data": "upload", "set": ds.key}
    assert back is ds
    gone, notices = us.decode_dataset({"data": "upload", "set": "0123456789abcdef"})
    assert gone is None and "no longer on this server" in notices[0] and "restarts" in notices[0]


def test_bundled_real_set_round_trip():
    ds = sources.real_table_dataset("iris")
    query, back = _round_trip(ds)
    assert query == {"data": "real", "name": "iris"}
    assert back.key == ds.key and back.source == "real" and back.n == 150


def test_real_set_slot(monkeypatch):
    monkeypatch.setattr(sources, "REAL_LOADERS", {})
    ds = Dataset("Iris (150 flowers, 4-D)", np.ones((5, 4)), None, "real", {"name": "iris"})
    sources.register_real("iris", lambda: ds)
    query, back = _round_trip(ds)
    assert query == {"data": "real", "name": "iris"} and back is ds
    missing, notices = us.decode_dataset({"data": "real", "name": "wine"})
    assert missing is None and "'wine' is not in this version" in notices[0]


@pytest.mark.parametrize("query, expect", [
    ({"data": "generated", "n": "abc"}, "n=abc (allowed: a whole number from 2 to 1000); using 100"),
    ({"data": "generated", "n": "60", "sigma": "0"}, "sigma=0 (allowed: a number from 0.05 to 10); using 1"),
    ({"data": "generated", "alpha": "50"}, "alpha=50 (allowed: a number from 0.05 to 10); using 0.7"),
    ({"data": "generated", "seed": "1.5"}, "seed=1.5 (allowed: a whole number from 0 to 2147483647)"),
])
def test_bad_values_fall_back_with_a_notice(query, expect):
    ds, notices = us.decode_dataset(query)
    assert ds is not None and ds.source == "generated"
    assert any(expect in n for n in notices), notices
    line = us.notice_line(notices)
    assert "\n" not in line and line.startswith("Part of this link could not be used")
    if "n" in query and query["n"] == "60":
        assert ds.n == 60                                   # the good values are kept


def test_unknown_source_and_page_values():
    ds, notices = us.decode_dataset({"data": "mars"})
    assert ds is None and "data=mars is not a data source" in notices[0]
    assert us.decode_dataset({}) == (None, [])
    values, notices = us.decode_page("step_through", {"step": "10", "mode": "sampled", "order": "pca", "speed": "8"})
    assert values == {"st_step": 10, "st_mode": "Sampled", "st_order_kind": "pca", "st_speed": 8} and notices == []
    values, notices = us.decode_page("step_through", {"step": "-3", "order": "sideways"})
    assert values == {} and len(notices) == 2 and "order=sideways (allowed: one of data, random" in notices[1]
    assert us.decode_page("nowhere", {"step": "3"}) == ({}, [])


def test_page_settings_round_trip_only_non_defaults():
    state = {"st_step": 10, "st_mode": "Greedy", "st_order_kind": "typed", "st_order_text": "2 0 1", "st_compare": True,
             "unrelated": 5}
    q = us.encode_page("step_through", state)
    assert q == {"step": "10", "order": "typed", "typed": "2 0 1", "compare": "1"}
    values, notices = us.decode_page("step_through", q)
    assert notices == [] and values == {"st_step": 10, "st_order_kind": "typed", "st_order_text": "2 0 1",
                                        "st_compare": True}
    q = us.encode_page("order_invariance", {"inv_n_orders": 20, "inv_hand_orders": "data,random:3,typed:2.0.1"})
    assert q == {"R": "20", "orders": "data,random:3,typed:2.0.1"}


def test_names_do_not_collide_and_garbage_never_raises():
    us._check_names()
    rng = np.random.default_rng(0)
    junk = ["", "-", "1e400", "nan", "inf", "0x10", "%00", "ä", "9" * 40, "1,2", " 3 "]
    names = ["data", "n", "dim", "alpha", "sigma", "lam", "seed", "k", "split", "name", "set", "step", "order",
             "typed", "R", "orders", "S"]
    for _ in range(200):
        q = {n: str(rng.choice(junk)) for n in rng.choice(names, size=5)}
        q["data"] = str(rng.choice(["generated", "digits", "real", "upload", "x"]))
        us.decode_dataset(q)
        for page in us.PAGE_PARAMS:
            us.decode_page(page, q)
