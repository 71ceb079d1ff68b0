"""The one public default path: GFNCPClustering(model="auto"), the CLI, routing, real tables."""
import json

import numpy as np
import pytest
from sklearn.base import clone

import gfncp
from gfncp import routing
from gfncp.__main__ import main as cli_main
from gfncp.broad_prior import make_broad
from gfncp.real_data import REAL_SETS, load_real


def test_routing_sends_uploads_and_real_tables_to_the_general_pair():
    assert routing.default_pair(2, "generated") == "mog2d"
    assert routing.default_pair(5, "generated") == "mog16d"
    assert routing.default_pair(64, "digits") == "digits"
    for source in ("upload", "real"):
        for d in (2, 5, 30, 64):
            assert routing.default_pair(d, source) == "general"
    assert "general" in routing.fitting_pairs(2, "generated")
    assert routing.fitting_pairs(2, "upload")[:2] == ["general", "mog2d"]
    assert routing.pair_of_model("ncp-general") == "general"
    assert routing.pair_of_model("my-model") is None
    assert "any units" in routing.why_pair("general", "upload")


def test_general_mapping_ignores_units_and_pads_or_projects():
    X, _ = make_broad(40, seed=1)
    moved = X * np.linspace(0.01, 100, X.shape[1]) - 7.0
    a, b = routing.map_to_pair(X, "general"), routing.map_to_pair(moved, "general")
    assert a.shape == (40, 16) and np.allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("name", REAL_SETS)
def test_bundled_real_tables(name):
    t = load_real(name)
    assert t.X.ndim == 2 and len(t.X) == len(t.labels) == t.shape[0] and np.isfinite(t.X).all()
    assert len(t.feature_names) == t.X.shape[1]
    assert len(t.class_names) == t.labels.max() + 1 >= 2
    assert t.labels[0] == 0
    with pytest.raises(ValueError):
        t.X[0, 0] = 1.0                              # cached tables are read-only


def test_unknown_real_table_names_the_choices():
    with pytest.raises(KeyError, match="iris"):
        load_real("nope")


def test_estimator_follows_scikit_learn_conventions(dev_models_dir):
    est = gfncp.GFNCPClustering(n_samples=8, random_state=1)
    assert est.get_params() == {"model": "auto", "kind": "gfncp", "n_orders": 16, "n_samples": 8, "random_state": 1}
    twin = clone(est).set_params(kind="ncp")
    X = load_real("iris").X
    labels = est.fit_predict(X)
    assert labels.shape == (len(X),) and est.model_name_ == "gfncp-general" and est.pair_ == "general"
    assert twin.fit(X).model_name_ == "ncp-general"
    assert est.samples_.shape == (8, len(X)) and est.coassignment_.shape == (len(X), len(X))
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        gfncp.GFNCPClustering().fit(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        gfncp.GFNCPClustering().fit(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="kind"):
        gfncp.GFNCPClustering(kind="kmeans").fit(X)


def test_consensus_of_orders_is_the_medoid_decode(dev_models_dir):
    """labels_ is one of the greedy decodes (each in its own random order): the one with the
    highest mean ARI to the others."""
    from gfncp.metrics import ari

    X = load_real("iris").X
    est = gfncp.GFNCPClustering(n_orders=6, n_samples=4, random_state=3).fit(X)
    model = gfncp.load_pretrained(est.model_name_)
    agreed = model.consensus(gfncp.routing.map_to_pair(X, est.pair_), n_orders=6, seed=3)
    assert np.array_equal(est.labels_, agreed.labels)
    assert any(np.array_equal(d, agreed.labels) for d in agreed.decodes)
    means = [np.mean([ari(a, b) for j, b in enumerate(agreed.decodes) if j != i]) for i, a in enumerate(agreed.decodes)]
    assert est.consensus_agreement_ == pytest.approx(max(means))
    with pytest.raises(ValueError, match="n_orders"):
        gfncp.GFNCPClustering(n_orders=0).fit(X)


def test_auto_path_answer_does_not_depend_on_units(dev_models_dir):
    X = load_real("wine").X[:60]
    rescaled = X * np.logspace(-3, 3, X.shape[1]) + np.arange(X.shape[1]) * 1e3
    a = gfncp.GFNCPClustering(n_samples=5).fit(X)
    b = gfncp.GFNCPClustering(n_samples=5).fit(rescaled)
    assert np.array_equal(a.labels_, b.labels_)
    assert a.log_prob_ == pytest.approx(b.log_prob_, abs=1e-3)


def test_named_model_keeps_its_own_path(dev_models_dir):
    X, _ = gfncp.data.make_mog(30, seed=0)
    est = gfncp.GFNCPClustering(model="gfncp-mog2d", n_samples=4).fit(X)
    assert est.model_name_ == "gfncp-mog2d" and est.pair_ == "mog2d"


def test_cli_cluster_uses_the_default_path(dev_models_dir, tmp_path, capsys):
    t = load_real("penguins")
    path = tmp_path / "penguins.csv"
    np.savetxt(path, t.X, delimiter=",", header=",".join(t.feature_names), comments="")
    assert cli_main(["cluster", str(path), "--samples", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "gfncp-general" and len(out["labels"]) == len(t.X)
    assert cli_main(["cluster", str(path), "--samples", "4", "--kind", "ncp"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ncp-general"
