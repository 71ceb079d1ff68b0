"""Order invariance: the statistics (known inputs -> known outputs), the figures, and the page."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gfncp import invariance as inv
from gfncp.figures import invariance as figs
from gfncp.projection import project_2d

PAIR = ("gfncp-mog2d", "ncp-mog2d")
PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "order_invariance.py")


# --------------------------------------------------------------------------- orders

def test_random_orders_are_seeded_permutations():
    a = inv.random_orders(12, 7, seed=3)
    assert a.shape == (7, 12) and a.dtype == np.int64
    assert all(np.array_equal(np.sort(o), np.arange(12)) for o in a)
    assert np.array_equal(a, inv.random_orders(12, 7, seed=3))
    assert not np.array_equal(a, inv.random_orders(12, 7, seed=4))
    assert len({o.tobytes() for o in a}) > 1
    b = inv.one_order(12, seed=3, index=1)
    assert np.array_equal(np.sort(b), np.arange(12))
    assert np.array_equal(b, inv.one_order(12, 3, 1)) and not np.array_equal(b, inv.one_order(12, 3, 2))
    with pytest.raises(ValueError):
        inv.random_orders(0, 5, 0)


# --------------------------------------------------------------------------- spread

def test_spread_of_a_constant_is_zero():
    s = inv.spread_summary(np.full(50, -123.4))
    assert s["n"] == 50 and s["std"] == 0 and s["range"] == 0
    assert s["ratio"] == 1.0 and s["cv"] == 0 and s["pct"] == 0
    text = inv.describe_spread("GFNCP", s)
    assert text == "GFNCP's probability for the same clustering is identical under all 50 orders."


def test_spread_hand_computed():
    s = inv.spread_summary([0.0, math.log(2.0)])
    assert s["range"] == pytest.approx(math.log(2))
    assert s["std"] == pytest.approx(math.log(2) / 2)
    assert s["ratio"] == pytest.approx(2.0) and s["pct"] == pytest.approx(100.0)
    # probabilities proportional to 1 and 2: mean 1.5, std 0.5 -> cv 1/3
    assert s["cv"] == pytest.approx(1 / 3)
    assert s["median"] == pytest.approx(math.log(2) / 2)
    assert inv.format_ratio(s) == "2-fold"


def test_describe_spread_words():
    forty = inv.spread_summary(np.r_[np.zeros(49), math.log(40.0)] - 50.0)
    text = inv.describe_spread("NCP", forty)
    assert text.startswith("NCP's probability for the same clustering varies 40-fold with the order")
    assert "max/min over 50 orders" in text and "nats" in text
    small = inv.spread_summary([-10.0, -10.0 + math.log(1.03)])
    assert inv.format_ratio(small) == "by 3%"
    assert "varies by 3% with the order" in inv.describe_spread("GFNCP", small)
    huge = inv.spread_summary([0.0, 100.0])
    assert inv.format_ratio(huge) == "by a factor of about 10^43"
    overflow = inv.spread_summary([0.0, 1000.0])
    assert overflow["ratio"] == math.inf and "10^434" in inv.describe_spread("NCP", overflow)
    with pytest.raises(ValueError):
        inv.spread_summary([])
    with pytest.raises(ValueError):
        inv.spread_summary([0.0, np.nan])


def test_float_rounding_is_not_order_dependence():
    # what the page met on a two-point set: GFNCP's log q moved by 1e-7 nats, NCP's not at all
    noise = inv.spread_summary(-0.0703 + np.r_[np.zeros(49), 1.1e-7])
    exact = inv.spread_summary(np.full(50, -0.0100))
    assert noise["rounding"] and noise["range"] > 0 and not exact["range"]
    assert inv.format_ratio(noise) == "not beyond float rounding"
    text = inv.describe_spread("GFNCP", noise)
    assert "the same under all 50 orders, up to float rounding (range 1.1e-07 nats)" in text
    assert inv.compare_spreads("GFNCP", noise, "NCP", exact) == \
        "Neither GFNCP nor NCP changes with the order here (beyond float rounding)."
    # the tolerance scales with log q: 1e-4 nats is rounding at log q = -300, not at -3
    assert inv.spread_summary([-300.0, -300.0 + 1e-4])["rounding"]
    small = inv.spread_summary([-3.0, -3.0 + 1e-4])
    assert not small["rounding"] and "NOT" in inv.compare_spreads("GFNCP", small, "NCP", exact)


def test_compare_spreads_tells_the_truth_either_way():
    small = inv.spread_summary([0.0, 0.1])
    big = inv.spread_summary([0.0, 1.0])
    assert "10 times less" in inv.compare_spreads("GFNCP", small, "NCP", big)
    assert "NOT more order-invariant" in inv.compare_spreads("GFNCP", big, "NCP", small)
    assert "about equally" in inv.compare_spreads("GFNCP", small, "NCP", inv.spread_summary([0.0, 0.12]))
    zero = inv.spread_summary([1.0, 1.0])
    assert "infinitely" in inv.compare_spreads("GFNCP", zero, "NCP", big)
    assert "Neither" in inv.compare_spreads("GFNCP", zero, "NCP", zero)


# --------------------------------------------------------------------------- agreement

def test_agreement_of_identical_label_sets():
    a = np.array([0, 0, 1, 1, 2])
    stats = inv.agreement_stats(np.stack([a, a, a + 5, a]))        # same partition, other ids
    assert stats["mean_pairwise_ari"] == 1.0 and stats["n_distinct"] == 1 and stats["modal_share"] == 1.0
    assert (stats["k_min"], stats["k_max"], stats["k_mean"]) == (3, 3, 3.0)
    assert "nmi_truth_mean" not in stats


def test_agreement_hand_computed():
    A = np.array([0, 0, 1, 1])
    B = np.array([0, 1, 0, 1])
    # ARI(A, B): no pair together in both; sum C(a_i,2) = sum C(b_j,2) = 2, C(4,2) = 6
    # expected 2*2/6 = 2/3, max 2 -> (0 - 2/3) / (2 - 2/3) = -1/2
    assert inv.ari(A, B) == pytest.approx(-0.5)
    stats = inv.agreement_stats(np.stack([A, A, B]), truth=A)
    # pairs: (A,A) = 1, (A,B) = (A,B) = -1/2 -> mean 0
    assert stats["mean_pairwise_ari"] == pytest.approx(0.0)
    assert stats["n_distinct"] == 2 and stats["modal_share"] == pytest.approx(2 / 3)
    assert stats["nmi_truth_mean"] == pytest.approx(2 / 3)           # NMI(A, B) = 0
    assert stats["ari_truth_mean"] == pytest.approx((1 + 1 - 0.5) / 3)
    assert math.isnan(inv.agreement_stats(A[None, :])["mean_pairwise_ari"])


# --------------------------------------------------------------------------- matching

def test_hungarian_matching_hand_made():
    ref = np.array([0, 0, 0, 1, 1, 2, 2])
    lab = np.array([7, 7, 3, 3, 3, 5, 5])                              # cluster "3" took point 2
    matched = inv.match_labels(ref, lab)
    assert matched.tolist() == [0, 0, 1, 1, 1, 2, 2]
    assert inv.differences(ref, lab).tolist() == [False, False, True, False, False, False, False]
    # renaming clusters changes nothing
    assert not inv.differences(ref, np.array([2, 2, 2, 0, 0, 1, 1])).any()


def test_matching_with_extra_and_missing_clusters():
    ref = np.array([0, 0, 1, 1])
    matched = inv.match_labels(ref, np.array([0, 1, 2, 2]))           # one cluster split
    assert matched[2:].tolist() == [1, 1] and sorted(matched[:2].tolist()) == [0, 2]
    assert inv.differences(ref, np.array([0, 1, 2, 2])).sum() == 1
    ref3 = np.array([0, 1, 2, 2])
    merged = np.zeros(4, int)                                         # everything merged
    assert inv.match_labels(ref3, merged).tolist() == [2, 2, 2, 2]
    assert inv.differences(ref3, merged).tolist() == [True, True, False, False]
    # a reference with gaps in its ids (as the page's colour-matched clusterings have)
    gappy = np.array([0, 0, 3, 3])
    assert inv.match_labels(gappy, np.array([0, 0, 1, 2])).tolist() == [0, 0, 3, 4]
    with pytest.raises(ValueError):
        inv.match_labels(ref, np.zeros(3, int))


# --------------------------------------------------------------------------- flow gap

def test_flow_gap_hand_computed():
    g = inv.flow_gap([-10.0, -11.0], [-4.0, -4.0], [6.0, 6.5])
    # log R - log F(root) = -10 and -10.5 -> gaps 0 and 0.5
    assert g["gap"].tolist() == pytest.approx([0.0, 0.5])
    assert g["mean"] == pytest.approx(0.25) and g["max"] == pytest.approx(0.5)
    assert "only approximately" in inv.describe_flow_gap(g, 2)
    assert "mean gap 0.25 nats, max 0.5 nats" in inv.describe_flow_gap(g, 2)
    ok = inv.flow_gap([-10.0], [-4.0], [6.01])
    assert "the flows match here" in inv.describe_flow_gap(ok, 1)
    broken = inv.flow_gap([-10.0], [-4.0], [-40.0])               # gap 46 nats
    assert "do NOT match" in inv.describe_flow_gap(broken, 1) and "10^20-fold" in inv.describe_flow_gap(broken, 1)


def test_project_2d():
    X = np.random.default_rng(0).normal(size=(20, 5))
    P, titles = project_2d(X, variance_in_titles=False)
    assert P.shape == (20, 2) and titles == ("PC 1", "PC 2")
    # order of the rows does not change the picture
    perm = np.random.default_rng(1).permutation(20)
    assert np.allclose(project_2d(X[perm], variance_in_titles=False)[0], P[perm])
    X2 = X[:, :2]
    assert np.allclose(project_2d(X2, variance_in_titles=False)[0], X2)


# --------------------------------------------------------------------------- figures

def test_spread_figure():
    fig = figs.spread_figure({"GFNCP": np.array([-5.0, -5.1, -4.9]), "NCP": np.array([-3.0, -9.0, -4.0])})
    assert len(fig.data) == 2
    assert [t.name for t in fig.data] == ["GFNCP", "NCP"]
    assert np.allclose(fig.data[0].y, [0.0, -0.1, 0.1]) and np.allclose(fig.data[1].y, [1.0, -5.0, 0.0])
    assert "nats" in fig.layout.yaxis.title.text


def test_clusterings_figure():
    P = np.random.default_rng(0).normal(size=(6, 2))
    panels = [{"labels": np.array([0, 0, 1, 1, 2, 2]), "title": "GFNCP · original"},
              {"labels": np.array([0, 0, 1, 1, 1, 2]), "title": "GFNCP · order 1",
               "differs": np.array([0, 0, 0, 0, 1, 0], bool)},
              {"labels": np.zeros(6, int), "title": "NCP · original"},
              {"labels": np.zeros(6, int), "title": "NCP · order 1", "differs": np.zeros(6, bool)}]
    fig = figs.clusterings_figure(P, panels, n_cols=2, axis_titles=("PC 1", "PC 2"))
    assert len(fig.data) == 8                                        # points + rings per panel
    assert [a.text for a in fig.layout.annotations] == [p["title"] for p in panels]
    rings = fig.data[3]
    assert len(rings.x) == 1 and rings.x[0] == P[4, 0]
    assert sum(bool(t.showlegend) for t in fig.data) == 1
    assert fig.data[0].marker.color[2] != fig.data[0].marker.color[0]


# --------------------------------------------------------------------------- models and page

@pytest.fixture
def page_models(dev_models_dir):
    """The pair the page serves (the installed models, or tiny stand-ins: tests/conftest.py)."""
    from gfncp.ui import state

    state.load_model.clear()
    yield dev_models_dir


def test_run_task_batches_orders(dev_models_dir):
    import gfncp

    g, n = (gfncp.load_pretrained(name) for name in PAIR)
    X, y = gfncp.data.make_mog(25, dim=2, seed=1)
    orders = np.vstack([np.arange(25), inv.random_orders(25, 3, 0)])
    for model in (g, n):
        res = inv.run_task(model, "greedy", X, orders)
        assert res["labels"].shape == (4, 25) and res["log_q"].shape == (4,)
        assert np.array_equal(res["labels"][0], model.greedy(X))
        fixed = inv.run_task(model, "fixed", X, orders, y)
        assert np.allclose(fixed["log_q"], model.log_prob_orders(X, y, orders), atol=1e-4)
        assert np.all(fixed["log_q"] <= 1e-6)
    assert {"log_reward", "log_root"} <= set(inv.run_task(g, "fixed", X, orders, y))
    with pytest.raises(ValueError):
        inv.run_task(g, "fixed", X, orders)


def _texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def _assert_clean(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _open_page(dataset=None):
    """The page in AppTest with R = 5 orders, on `dataset` (a Dataset) or the default set."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    if dataset is not None:
        at.session_state["dataset"] = dataset
    at.session_state["inv_n_orders"] = 5
    at.run()
    _assert_clean(at)
    return at


def test_page_runs_and_shuffles(page_models):
    at = _open_page()
    text = _texts(at)
    assert "GFNCP's probability for the same clustering" in text
    assert "NCP's probability for the same clustering" in text
    assert "max/min over 5 orders" in text or "identical under all 5 orders" in text
    assert "flow-consistency gap" in text
    assert at.button[0].label == "Shuffle once"
    n_tables = len(at.table)
    at.button[0].click().run()
    _assert_clean(at)
    assert "Shuffle #1" in _texts(at)
    assert len(at.table) == n_tables
    at.button[0].click().run()
    assert "Shuffle #2" in _texts(at)


def test_page_without_labels_uses_gfncp_clustering(page_models):
    import gfncp
    from gfncp.ui.state import Dataset

    X, _ = gfncp.data.make_mog(30, dim=2, seed=5)
    at = _open_page(Dataset("unlabelled test set", X, None, "upload"))
    text = _texts(at)
    assert "GFNCP's greedy clustering in the original order" in text
    assert "NMI to truth" not in str([t.value for t in at.table])


def test_page_scores_the_clustering_the_user_picks(page_models):
    """Truth by default; a model's own greedy clustering on request, with its own K and log q."""
    import gfncp
    from gfncp.ui.state import Dataset

    X, y = gfncp.data.make_mog(30, dim=2, seed=3)
    at = _open_page(Dataset("labelled test set", X, y, "generated"))
    radio = at.radio(key="inv_scored")
    assert radio.value == "truth" and radio.options == ["the true labels", "GFNCP's greedy clustering",
                                                        "NCP's greedy clustering"]
    assert "the true clustering of the data" in _texts(at)
    ncp = gfncp.load_pretrained(PAIR[1])
    orders = inv.random_orders(30, 5, 0)
    expected = ncp.log_prob_orders(X, ncp.greedy(X), orders)
    radio.set_value("NCP").run()
    _assert_clean(at)
    text = _texts(at)
    assert f"NCP's greedy clustering in the original order ({ncp.greedy(X).max() + 1} clusters)" in text
    median = at.table[0].value.loc["median log q (nats)", "NCP"]
    assert float(median) == pytest.approx(np.median(expected), abs=0.006)


def test_page_on_a_high_dimensional_set(page_models):
    """d > 2: the mog16d pair serves it and the panels show principal components."""
    import gfncp
    from gfncp.ui.state import Dataset

    X, y = gfncp.data.make_mog(30, dim=5, seed=2)
    at = _open_page(Dataset("5-D test set", X, y, "generated"))
    text = _texts(at)
    assert "gfncp-mog16d" in text and "first two principal components" in text
    at.button[0].click().run()
    assert not at.exception and "Shuffle #1" in _texts(at)


def test_pairwise_ari_matches_scikit_learn_on_every_pair():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    z = np.stack([rng.integers(0, 4, 30) for _ in range(12)] + [np.zeros(30, int), np.arange(30)])
    expected = np.array([[adjusted_rand_score(a, b) for b in z] for a in z])
    np.testing.assert_allclose(inv.pairwise_ari(z), expected, atol=1e-6)
