"""Figures of the uncertainty page as pure functions (no browser)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from gfncp import posterior as post
from gfncp.figures import uncertainty as figs
from gfncp.figures.palette import cluster_color
from gfncp.partitions import all_partitions, canonical_labels


@pytest.fixture
def summary():
    rng = np.random.default_rng(0)
    z = canonical_labels(rng.integers(0, 3, size=(30, 20)))
    return post.summarize(z, rng.normal(size=30))


@pytest.mark.parametrize("quantity", ["entropy", "probability", "mate_confidence"])
def test_uncertainty_scatter_colour_bar_and_hover(summary, quantity):
    pts = summary.points
    coords = np.random.default_rng(1).normal(size=(20, 2))
    value = getattr(pts, quantity)
    fig = figs.uncertainty_scatter(coords, value, pts.most_probable, pts.probability, quantity=quantity,
                                   unmatched=pts.unmatched, entropy=pts.entropy, mate=pts.mate_confidence)
    assert isinstance(fig, go.Figure)
    (trace,) = fig.data
    assert trace.marker.colorbar.title.text
    assert trace.marker.showscale is not False
    assert len(trace.x) == 20
    assert "point %{customdata[0]}" in trace.hovertemplate and "most probable cluster" in trace.hovertemplate
    # the most uncertain point is drawn last (on top)
    u = value if quantity == "entropy" else -value
    last = int(trace.customdata[-1][0])
    assert u[last] == pytest.approx(u.max())
    assert trace.marker.cmin == 0.0
    if quantity != "entropy":
        assert trace.marker.cmax == 1.0 and trace.marker.reversescale


def test_uncertainty_scatter_by_cluster_uses_palette(summary):
    pts = summary.points
    coords = np.zeros((20, 2))
    fig = figs.uncertainty_scatter(coords, None, pts.most_probable, pts.probability, quantity="cluster",
                                   unmatched=pts.unmatched, reference=pts.reference)
    assert len(fig.data) == pts.reference.max() + 1
    assert fig.data[0].marker.color == cluster_color(0)
    with pytest.raises(ValueError):
        figs.uncertainty_scatter(coords, pts.entropy, pts.most_probable, pts.probability, quantity="nope")


def test_coassignment_heatmap_order_and_boundaries(summary):
    order, bounds = post.reference_order(summary.reference, summary.points.mate_confidence)
    C = summary.coassignment
    fig = figs.coassignment_heatmap({"GFNCP": C, "Other": np.eye(20)}, order, bounds, reference=summary.reference)
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    z = np.asarray(fig.data[0].z)
    assert z.dtype == np.uint8                                                  # whole percent, 1 byte each
    np.testing.assert_allclose(z / 100.0, C[np.ix_(order, order)], atol=0.005)
    assert list(fig.data[0].x) == [f"#{i}" for i in order]
    assert len(fig.layout.shapes) == 2 * 2 * len(bounds)     # a row and a column line per boundary, per panel
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == 100
    assert all(t.startswith("C") for t in fig.layout.xaxis.ticktext)
    assert fig.layout.width > 0


def test_k_distribution_figure():
    fig = figs.k_distribution_figure({"GFNCP": [0, 0.2, 0.8, 0, 0], "Gibbs": [0, 0, 0.5, 0.5]})
    assert [t.name for t in fig.data] == ["GFNCP", "Gibbs"]
    np.testing.assert_array_equal(fig.data[0].x, [1, 2, 3])
    np.testing.assert_allclose(fig.data[1].y, [0, 0.5, 0.5])
    assert fig.data[0].marker.color != fig.data[1].marker.color


def test_clustering_gallery(summary):
    coords = np.random.default_rng(2).normal(size=(20, 2))
    labels = summary.top.labels[:5]
    fig = figs.clustering_gallery(coords, labels, [f"#{i}" for i in range(5)], n_cols=3)
    assert len(fig.data) == 5
    assert [a.text for a in fig.layout.annotations] == [f"#{i}" for i in range(5)]
    assert list(fig.data[1].marker.color) == [cluster_color(k) for k in labels[1]]
    assert fig.data[0].marker.line.width > 0                         # small sets: outlined markers


def test_gallery_drops_marker_outlines_on_large_sets():
    from gfncp.figures.small_multiples import OUTLINE_MAX_POINTS
    n = OUTLINE_MAX_POINTS + 1
    coords = np.random.default_rng(3).normal(size=(n, 2))
    labels = np.zeros((2, n), dtype=int)
    fig = figs.clustering_gallery(coords, labels, ["a", "b"])
    assert all(t.marker.line.width == 0 for t in fig.data)


def test_small_multiples_axes_do_not_ask_for_a_second_layout_pass():
    """automargin on makes plotly draw a small-multiples figure twice (0.29 s instead of 0.13 s for
    8 x 500 points in Chromium); the panels have no tick labels, so it stays off on every axis."""
    coords = np.random.default_rng(4).normal(size=(30, 2))
    fig = figs.clustering_gallery(coords, np.zeros((6, 30), dtype=int), [str(i) for i in range(6)], n_cols=3)
    axes = [name for name in fig.layout.to_plotly_json() if name.startswith(("xaxis", "yaxis"))]
    assert len(axes) == 12
    assert all(fig.layout[name].automargin is False and fig.layout[name].showticklabels is False for name in axes)


def test_partition_bars_and_string():
    parts = all_partitions(3)
    assert figs.partition_string(np.array([0, 1, 0])) == "{0,2} {1}"
    fig = figs.partition_bars(parts[:3], {"Exact posterior": [0.5, 0.3, 0.2], "GFNCP": [0.4, 0.4, 0.2]})
    assert [t.name for t in fig.data] == ["Exact posterior", "GFNCP"]
    assert list(fig.data[0].x) == ["#1", "#2", "#3"]
    assert fig.layout.barmode == "group"


# -- the page (streamlit AppTest, no browser) ----------------------------------------------------

PAGE = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "pages" / "uncertainty.py")


def _run_page(dataset, **state):
    import torch
    from streamlit.testing.v1 import AppTest

    torch.set_num_threads(1)
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["dataset"] = dataset
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    headers = [h.value for h in at.header]
    assert headers[0].startswith("1 ·") and any(h.startswith("5 · Export") for h in headers)
    assert len(at.get("download_button")) == 2
    return at


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_page_2d_with_gibbs_and_ncp(dev_models_dir):
    from gfncp import data
    from gfncp.ui.state import Dataset

    X, y = data.make_mog(40, dim=2, seed=0)
    at = _run_page(Dataset("2-D test set", X, y, "generated", {}), unc_ncp=True)
    m = _metrics(at)
    assert "Mean entropy (nats)" in m and "Posterior mean of K" in m
    assert "Mean |P_Gibbs − P_GFNCP|" in m and "Gibbs time" in m      # N <= 200: Gibbs runs at once
    assert len(at.get("plotly_chart")) >= 6                             # scatter, heatmap, K, gallery, Gibbs x2
    # another colouring and the NCP view rerun without error
    at.radio(key="unc_colour").set_value("cluster").run()
    at.radio(key="unc_shown").set_value("NCP").run()
    assert not at.exception


def test_page_high_dimensional(dev_models_dir):
    from gfncp import data
    from gfncp.ui.state import Dataset

    X, y = data.make_mog(30, dim=8, seed=1)
    at = _run_page(Dataset("8-D test set", X, y, "generated", {}))
    assert at.radio(key="unc_proj").value == "PCA"
    assert any("principal components" in c.value for c in at.caption)
    assert "Gibbs time" in _metrics(at)


def test_page_tiny_set_exact_posterior(dev_models_dir):
    from gfncp import data
    from gfncp.ui.state import Dataset

    X, y = data.make_mog(6, dim=2, seed=2)
    at = _run_page(Dataset("tiny", X, y, "generated", {}))
    m = _metrics(at)
    assert "Total variation GFNCP ↔ exact" in m and "Total variation NCP ↔ exact" in m
    assert 0.0 <= float(m["Total variation GFNCP ↔ exact"]) <= 1.0


def test_page_digits_shows_only_baselines(dev_models_dir):
    from gfncp import data
    from gfncp.ui.state import Dataset

    X, y = data.make_digits_task(40, seed=0)
    at = _run_page(Dataset("digits task", X, y, "digits", {}))
    assert any("Digit images" in i.value for i in at.info)
    m = _metrics(at)
    assert "Gibbs time" not in m and not any(k.startswith("Total variation") for k in m)
    table = at.table[-1].value
    assert any(name.startswith("k-means") for name in table.index)
    assert all(0 <= float(v) <= 1 for v in table["NMI to the true labels"])


def test_page_umap_on_request(dev_models_dir):
    """UMAP is computed only after "Compute UMAP", with the chosen parameters, then cached."""
    from gfncp import data
    from gfncp.ui.state import Dataset

    X, y = data.make_mog(40, dim=8, seed=4)
    at = _run_page(Dataset("8-D test set", X, y, "generated", {}))
    at.radio(key="unc_proj").set_value("UMAP").run()
    assert not at.exception
    assert any("Compute UMAP" in c.value for c in at.caption)          # nothing fitted yet: PCA meanwhile
    at.slider(key="unc_nn").set_value(10)
    at.button(key="unc_umap_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("UMAP projection (n_neighbors 10" in c.value for c in at.caption)
