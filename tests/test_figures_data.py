"""Figures of the Data and About pages as pure functions; the palette; the sidebar's card helpers."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from gfncp.data import make_digits_task, make_mog
from gfncp.figures import data_views as dv
from gfncp.figures import palette


def test_palette_is_stable_and_distinct():
    assert palette.cluster_color(0) == "#1F77B4"
    assert [palette.cluster_color(k) for k in range(40)] == [palette.cluster_color(k) for k in range(40)]
    n = len(palette.CLUSTER_COLORS)
    assert palette.cluster_color(n) == palette.cluster_color(0)
    assert len(set(palette.CLUSTER_COLORS)) == n >= 30
    assert palette.cluster_color(-1) == palette.UNASSIGNED == "#c7c7c7"
    assert palette.NEW_CLUSTER not in palette.CLUSTER_COLORS
    assert palette.UNASSIGNED.upper() not in palette.CLUSTER_COLORS


# -- scatter ----------------------------------------------------------------------------------


def test_scatter_one_trace_per_cluster_with_palette_colours():
    X, labels = make_mog(120, 2, seed=2)
    fig = dv.scatter_clusters(X, labels, title="t")
    k = labels.max() + 1
    assert isinstance(fig, go.Figure) and len(fig.data) == k
    assert [tr.marker.color for tr in fig.data] == [palette.cluster_color(i) for i in range(k)]
    assert sum(len(tr.x) for tr in fig.data) == 120
    assert fig.data[0].name.startswith("cluster 0")
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    # the same input gives the same figure
    assert dv.scatter_clusters(X, labels, title="t").to_json() == fig.to_json()


def test_scatter_without_labels_and_with_hover():
    X = np.random.default_rng(0).normal(size=(10, 2))
    fig = dv.scatter_clusters(X, None, hover=[f"p{i}" for i in range(10)])
    assert len(fig.data) == 1 and list(fig.data[0].text) == [f"p{i}" for i in range(10)]
    fig = dv.scatter_clusters(X, np.array([0] * 5 + [-1] * 5))
    assert {tr.marker.color for tr in fig.data} == {palette.cluster_color(0), palette.UNASSIGNED}


def test_scatter_rejects_bad_shapes():
    with pytest.raises(ValueError):
        dv.scatter_clusters(np.zeros((5, 3)))
    with pytest.raises(ValueError):
        dv.scatter_clusters(np.zeros((5, 2)), np.zeros(4, dtype=int))


# -- projections ------------------------------------------------------------------------------


def test_project_two_and_one_dimensions_are_the_points():
    X = np.random.default_rng(1).normal(size=(20, 2))
    np.testing.assert_array_equal(dv.project(X), X)
    Y = dv.project(X[:, :1])
    assert Y.shape == (20, 2) and np.all(Y[:, 1] == 0)


def test_pca_projection_is_deterministic_and_order_free():
    X, _ = make_mog(80, 10, seed=5)
    P = dv.project(X, "pca")
    assert P.shape == (80, 2)
    perm = np.random.default_rng(0).permutation(80)
    np.testing.assert_allclose(dv.project(X[perm], "pca"), P[perm], atol=1e-9)
    assert np.var(P[:, 0]) >= np.var(P[:, 1])


def test_umap_projection_is_seeded():
    X, _ = make_mog(60, 8, seed=6)
    a = dv.project(X, "umap", seed=3, n_neighbors=10)
    b = dv.project(X, "umap", seed=3, n_neighbors=10)
    assert a.shape == (60, 2) and np.all(np.isfinite(a))
    np.testing.assert_allclose(a, b)
    assert dv.project(X[:4], "umap").shape == (4, 2)          # tiny sets fall back to PCA


def test_project_rejects_unknown_method():
    with pytest.raises(ValueError):
        dv.project(np.zeros((5, 3)), "tsne")


# -- digits -----------------------------------------------------------------------------------


def test_digits_thumbnails_grid():
    X, labels = make_digits_task(50, n_classes=4, seed=1)
    fig = dv.digits_thumbnails(X, labels, per_cluster=5)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (4 * 9 - 1, 5 * 9 - 1)
    assert np.nanmax(z) <= 1.0 and np.nanmin(z) >= 0.0
    ticks = list(fig.layout.yaxis.ticktext)
    assert len(ticks) == 4 and palette.cluster_color(3) in ticks[3]
    # the first image of cluster 0 sits in the top-left cell
    first = np.flatnonzero(labels == 0)[0]
    np.testing.assert_allclose(z[:8, :8], X[first].reshape(8, 8) / X.max())
    assert fig.layout.yaxis.scaleanchor == "x"


def test_digits_thumbnails_small_clusters_leave_gaps():
    X, labels = make_digits_task(12, n_classes=3, seed=2)
    fig = dv.digits_thumbnails(X, labels, per_cluster=10)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(z).sum() > 0


# -- scaling preview, state tree ---------------------------------------------------------------


def test_scaling_preview_two_equal_aspect_panels():
    X, labels = make_mog(40, 3, sigma=4.0, lam=40.0, seed=3)
    fig = dv.scaling_preview(X, X / 4.0, labels)
    k = labels.max() + 1
    assert len(fig.data) == 2 * k
    assert {tr.xaxis for tr in fig.data} == {"x", "x2"}
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis2.scaleanchor == "x2"
    circle = fig.layout.shapes[0]
    assert circle.type == "circle" and circle.x1 - circle.x0 == pytest.approx(2.0) and circle.xref == "x2"
    with pytest.raises(ValueError):
        dv.scaling_preview(X, X[:, :2])


def test_state_tree_diagram_two_orders_meet():
    fig = dv.state_tree_diagram()
    assert [tr.name for tr in fig.data] == ["other moves", "order a, b, c", "order c, b, a"]
    boxes = {a.text.replace("<b>", "").replace("</b>", ""): (a.x, a.y) for a in fig.layout.annotations
             if a.bordercolor is not None}
    assert {"∅", "{a b} {c}", "{a}", "{c}"} <= set(boxes)
    # both coloured paths start at the root and end at the shared terminal state
    for tr in fig.data[1:]:
        pts = [(x, y) for x, y in zip(tr.x, tr.y) if x is not None]
        assert pts[0] == boxes["∅"] and pts[-1] == boxes["{a b} {c}"]


# -- sidebar card helpers ----------------------------------------------------------------------


CARD = {
    "name": "gfncp-mog2d", "kind": "gfncp", "objective": "clean", "dim": 2, "n_parameters": 1234,
    "training": {"dataset": "mog", "dim": 2, "alpha": 0.7, "sigma": 1.0, "lam": 10.0, "n_min": 5, "n_max": 200},
    "training_seconds": 321.0, "final_validation_nmi": 0.9,
    "evaluation": {"accuracy": {"nmi": {"mean": 0.91, "median": 0.93}, "ari": {"mean": 0.88}},
                   "order_invariance_std_log_q": {"mean": 0.05, "median": 0.04}},
}


def test_card_summary_and_metrics():
    from gfncp.ui.sidebar import card_metrics, card_summary

    line = card_summary(CARD)
    assert "flow matching" in line and "2-D" in line and "N 5–200" in line
    assert "teacher-forced" in card_summary({**CARD, "objective": "nll"})
    assert "digits" in card_summary({"objective": "clean", "training": {"dataset": "digits", "n_min": 5, "n_max": 150}})
    m = card_metrics(CARD)
    assert m == {"NMI": 0.91, "ARI": 0.88, "std log q over orders": 0.04, "validation NMI": 0.9}
    assert card_metrics({}) == {}


def test_model_table_rows_cover_the_installed_models(dev_models_dir):
    from gfncp.ui.sidebar import model_table_rows

    rows = model_table_rows()
    names = {r["model"] for r in rows}
    assert {"gfncp-mog2d", "ncp-mog2d", "gfncp-mog16d", "ncp-mog16d", "gfncp-digits", "ncp-digits"} <= names
    assert all(r["kind"] in ("GFNCP", "NCP") for r in rows)
    assert [r["model"] for r in rows][:2] == ["gfncp-mog2d", "ncp-mog2d"]
    assert all(set(r) >= {"objective", "training data", "training (min)"} for r in rows)
    assert len({tuple(r) for r in rows}) == 1                    # the same columns in every row
