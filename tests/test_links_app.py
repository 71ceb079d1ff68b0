"""Links and the first visit in the app frame (AppTest: app.py as the server runs it)."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _clean(at):
    assert not at.exception, [e.value for e in at.exception]


def test_first_visit_introduction_and_tour(app_frame_test):
    at = app_frame_test
    at.run()
    _clean(at)
    assert any(m.value.startswith("#### New here?") for m in at.markdown)
    assert any("GFNCP Explorer" in m.value and "Generative Flow Network" in m.value for m in at.markdown)
    links = at.get("page_link")
    assert len(links) >= 4                                   # presets, one click each
    at.button(key="intro_dismiss").click().run()
    _clean(at)
    assert not any(m.value.startswith("#### New here?") for m in at.markdown)
    # the address bar holds the view: the data set's parameters
    assert dict(at.query_params) == {"data": "generated", "n": "100", "dim": "2", "alpha": "0.7", "sigma": "1",
                                     "lam": "10", "seed": "0"}


def test_link_rebuilds_data_page_and_step(app_frame_test):
    at = app_frame_test
    at.query_params.update({"data": "generated", "n": "60", "seed": "1234", "step": "10"})
    at.switch_page(str(REPO / "pages/step_through.py")).run()
    _clean(at)
    assert at.session_state["dataset"].name == "Mixture of Gaussians (2-D, N=60, seed 1234)"
    assert any(c.value.startswith("**Step 10 of 60:") for c in at.caption)
    assert not any(m.value.startswith("#### New here?") for m in at.markdown)   # a link goes straight to its view
    assert dict(at.query_params)["step"] == "10" and dict(at.query_params)["seed"] == "1234"
    share = [h.proto.body for h in at.get("html") if "gfncp-link" in h.proto.body]
    assert share and "/step_through?" in share[0] and "step=10" in share[0] and "seed=1234" in share[0]
    at.button(key="st_forward").click().run()
    assert dict(at.query_params)["step"] == "11"


def test_link_shows_its_own_settings_in_the_data_forms(app_frame_test):
    """A link's generator values (and digits task) appear in the Data page's inputs, so that
    Generate with a changed seed starts from the link's set, not from the defaults."""
    at = app_frame_test
    at.query_params.update({"data": "generated", "n": "60", "dim": "3", "alpha": "1.5", "seed": "1234"})
    at.run()
    _clean(at)
    assert at.slider(key="gen_n").value == 60 and at.slider(key="gen_dim").value == 3
    assert at.number_input(key="gen_alpha").value == 1.5 and at.number_input(key="gen_seed").value == 1234
    at.number_input(key="gen_seed").set_value(7)
    at.button(key="FormSubmitter:generate_form-Generate").click().run()
    _clean(at)
    assert at.session_state["dataset"].name == "Mixture of Gaussians (3-D, N=60, seed 7)"
    assert at.session_state["dataset"].params["alpha"] == 1.5


def test_digits_link_shows_its_task_in_the_form(app_frame_test):
    at = app_frame_test
    at.query_params.update({"data": "digits", "k": "4", "n": "80", "split": "train", "seed": "9"})
    at.run()
    _clean(at)
    assert at.session_state["dig_k"] == "4" and at.session_state["dig_n"] == 80
    assert at.session_state["dig_split"].startswith("training") and at.session_state["dig_seed"] == 9


def test_bad_link_falls_back_with_one_line(app_frame_test):
    at = app_frame_test
    at.query_params.update({"data": "generated", "n": "abc", "sigma": "0", "step": "x"})
    at.switch_page(str(REPO / "pages/step_through.py")).run()
    _clean(at)
    warnings = [w.value for w in at.warning if w.value.startswith("Part of this link")]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "n=abc" in warnings[0] and "sigma=0" in warnings[0] and "step=x" in warnings[0]
    assert at.session_state["dataset"].n == 100
    assert any(c.value.startswith("**Step 1 of 100:") for c in at.caption)


def test_upload_link_after_restart_says_so(app_frame_test):
    at = app_frame_test
    at.query_params.update({"data": "upload", "set": "0123456789abcdef"})
    at.run()
    _clean(at)
    warnings = [w.value for w in at.warning if w.value.startswith("Part of this link")]
    assert warnings and "no longer on this server" in warnings[0]


def test_state_graph_page_small_examples(app_frame_test):
    at = app_frame_test
    at.switch_page(str(REPO / "pages/state_graph.py")).run()
    _clean(at)
    assert any("up to 5 points" in i.value for i in at.info)
    at.button(key="sg_example_4").click().run()
    _clean(at)
    assert at.session_state["dataset"].n == 4
    assert len([c for c in at.get("plotly_chart")]) == 1
    text = " ".join(m.value for m in at.markdown)
    assert "Along the orange path" in text and "log F(terminal) − log F(root)" in text
    at.selectbox(key="sg_order_kind").set_value("typed").run()
    at.text_input(key="sg_order_text").set_value("3 1 1 0").run()
    assert at.error and "Point 1 appears twice" in at.error[0].value
    _clean(at)


def test_order_invariance_hand_orders_side_by_side(app_frame_test):
    at = app_frame_test
    at.query_params.update({"data": "generated", "n": "8", "seed": "3", "R": "5",
                            "orders": "data,reversed,typed:7.6.5.4.3.2.1.0,random:2,typed:0.0"})
    at.switch_page(str(REPO / "pages/order_invariance.py")).run()
    _clean(at)
    assert at.text_input(key="inv_hand_orders").value.startswith("data,reversed")
    table = [t for t in at.table if "GFNCP log q (fixed clustering)" in t.value.columns][0].value
    assert len(table) == 4                                   # the bad spec is named, the others compared
    assert [w.value for w in at.warning if "appears twice" in w.value]
    # reversed and typed 7..0 are the same order: the same log q
    assert table.iloc[1]["GFNCP log q (fixed clustering)"] == table.iloc[2]["GFNCP log q (fixed clustering)"]


def test_real_table_uncertainty_defaults_to_the_consensus_answer(app_frame_test):
    """Iris comes sorted by species; the Uncertainty page's default reference is the consensus
    of greedy decodes in random orders (GFNCPClustering's answer), which finds more than one
    cluster, and its samples are drawn in a random order."""
    at = app_frame_test
    at.query_params.update({"data": "real", "name": "iris"})
    at.switch_page(str(REPO / "pages/uncertainty.py")).run()
    _clean(at)
    assert at.radio(key="unc_ref").value == "consensus of orders"
    clusters = next(m for m in at.metric if m.label == "Clusters in the reference")
    assert int(clusters.value) >= 2
