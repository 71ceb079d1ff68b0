"""Step-through: trace -> figure functions (pure), trace export, and the page (AppTest)."""
from __future__ import annotations

import base64
import csv
import functools
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from gfncp import trace_export as tx
from gfncp import orders as od
from gfncp.figures import step_text as stt
from gfncp.figures import step_through as stf
from gfncp.projection import project_2d
from gfncp.trace import Trace
from gfncp.figures.palette import UNASSIGNED_COLOR, cluster_color

PAIR = ("gfncp-mog2d", "ncp-mog2d")
PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "step_through.py")


# --------------------------------------------------------------------------- synthetic traces

def make_trace(choice, kind="gfncp", seed=0, consistent=True) -> Trace:
    """A hand-made trace with the given choices (creation numbering) and random policies.
    consistent: flow in == sum of the children's flows at every step (a perfect GFNCP)."""
    rng = np.random.default_rng(seed)
    choice = np.asarray(choice, dtype=np.int64)
    n = len(choice)
    log_root = 3.0
    probs, log_flows, log_in = [np.ones(1)], [np.array([log_root])], [log_root]
    state = log_root
    for i in range(1, n):
        k_n = int(choice[:i].max()) + 1
        p = rng.dirichlet(np.ones(k_n + 1))
        flows = state + np.log(p) + (0.0 if consistent else 0.3)
        probs.append(p)
        log_flows.append(flows)
        log_in.append(state)
        state = float(flows[choice[i]])
    step_logp = np.log([p[c] for p, c in zip(probs, choice)])
    return Trace(kind, rng.permutation(n), choice, probs, log_flows, np.array(log_in), np.cumsum(step_logp), log_root)


CHOICES = [0, 0, 1, 0, 2, 1, 3, 3, 0, 2, 4, 1]


@pytest.fixture
def trace():
    return make_trace(CHOICES)


@pytest.fixture
def xy():
    return np.random.default_rng(5).normal(size=(len(CHOICES), 2))


def dynamic(fig):
    """(points, current point, main bars) traces of a step figure."""
    names = [t.name for t in fig.data]
    return fig.data[names.index("points")], fig.data[names.index("current point")], fig.data[names.index("GFNCP")]


def as_array(v) -> np.ndarray:
    """A figure dict's array: plain list, or plotly's base64 typed array {"dtype", "bdata"}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def colour_of(value: float, scale) -> str:
    """The colour a stepped colorscale gives to an integer colour value."""
    cs, cmin, cmax = scale
    t = (value - cmin) / (cmax - cmin)
    for (a, c), (b, _) in zip(cs[::2], cs[1::2]):
        if a <= t <= b:
            return c
    raise AssertionError(value)


# --------------------------------------------------------------------------- figures

def test_frame_n_shows_exactly_n_plus_1_assigned_points(trace, xy):
    for n in range(trace.n_steps):
        points, current, _ = dynamic(stf.step_figure(xy, trace, n))
        colours = np.asarray(points.marker.color)
        assert int((colours >= 0).sum()) == n + 1
        assigned = np.flatnonzero(colours >= 0)
        assert set(assigned) == set(trace.order[: n + 1].tolist())
        p = int(trace.order[n])
        assert current.x[0] == pytest.approx(xy[p, 0]) and current.y[0] == pytest.approx(xy[p, 1])
        sizes = np.asarray(points.marker.size)
        assert (sizes[colours >= 0] == stf.POINT_SIZE).all() and (sizes[colours < 0] == stf.UNASSIGNED_SIZE).all()
        assert current.marker.size > sizes.max() and current.marker.line.color == stf.CHOSEN_LINE


def test_bar_probabilities_sum_to_one_and_match_the_trace(trace, xy):
    for n in range(trace.n_steps):
        _, _, bars = dynamic(stf.step_figure(xy, trace, n))
        x = np.asarray(bars.x)
        assert x.sum() == pytest.approx(1.0)
        assert np.allclose(x, trace.probs[n])
        assert list(bars.y)[-1].startswith("new cluster")
        assert len(bars.y) == stt.n_clusters_before(trace, n) + 1


def test_chosen_option_is_marked(trace, xy):
    for n in range(trace.n_steps):
        _, _, bars = dynamic(stf.step_figure(xy, trace, n))
        widths = np.asarray(bars.marker.line.width)
        k = int(trace.choice[n])
        assert widths[k] > 0 and (np.delete(widths, k) == 0).all()
        assert "chosen" in bars.text[k] and sum("chosen" in t for t in bars.text) == 1


def test_colours_are_stable_from_first_to_last_step(trace, xy):
    final = trace.labels_at(trace.n_steps - 1)              # creation numbering
    scale = stf._colorscale(int(trace.choice.max()) + 1)
    for n in range(trace.n_steps):
        points, current, bars = dynamic(stf.step_figure(xy, trace, n))
        colours = as_array(points.marker.color)
        for i, v in enumerate(colours):
            expected = cluster_color(final[i]) if v >= 0 else UNASSIGNED_COLOR
            assert colour_of(v, scale) == expected
            if v >= 0:
                assert v == final[i]                         # a point never changes cluster
        assert int((as_array(points.marker.size) == stf.POINT_SIZE).sum()) == n + 1
        assert list(bars.marker.color) == [cluster_color(k) for k in range(len(trace.probs[n]))]
        assert points.marker.cmin == scale[1] and points.marker.cmax == scale[2]
        assert current.marker.color == cluster_color(int(trace.choice[n]))


def test_flow_values_equal_the_trace(trace, xy):
    log_in, log_out = tx.flow_check(trace)
    assert np.allclose(log_in, trace.log_flow_in)
    for n in range(trace.n_steps):
        fv = stt.flow_values(trace, n)
        assert fv["log_in"] == pytest.approx(trace.log_flow_in[n])
        assert fv["log_out"] == pytest.approx(np.log(np.exp(trace.log_flows[n]).sum()))
        assert fv["log_ratio"] == pytest.approx(0.0, abs=1e-9)   # the synthetic trace is consistent
        line = stt.flow_line(trace, n)                  # log units, relative to the root; no raw magnitudes
        assert f"log flow in {fv['log_in'] - trace.log_root:+.2f}" in line and "e+" not in line
    fig = stf.step_figure(xy, trace, 4)
    strip = next(t for t in fig.data if t.name == "log(out/in)")
    assert np.allclose(strip.y, log_out - log_in)
    assert "flow in" in fig.layout.title.text and "log q" in fig.layout.title.text
    bad = make_trace(CHOICES, consistent=False)
    assert stt.flow_values(bad, 3)["log_ratio"] == pytest.approx(0.3)
    assert "≠" in stt.flow_line(bad, 3) and "out − in = +0.30" in stt.flow_line(bad, 3)
    assert stt.flow_values(make_trace(CHOICES, kind="ncp"), 3) is None


def test_fmt_ratio_near_one_and_far_outside_float_range():
    assert stt.fmt_ratio(np.log(1.234)) == "1.23"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # no overflow on the way
        assert stt.fmt_ratio(2000.0) == stt.fmt_flow(2000.0) == "3.9e+868"
        assert stt.fmt_ratio(-2000.0) == "2.6e-869"


def test_fmt_flow():
    assert stt.fmt_flow(np.log(3.2e-4)) == "3.2e-04" or stt.fmt_flow(np.log(3.2e-4)) == "3.2e-4"
    assert stt.fmt_flow(1000 * np.log(10)) == "1.0e+1000"
    assert stt.fmt_flow(np.log(12.5)) == "12.5"
    assert stt.fmt_flow(-np.inf) == "0"


def test_caption_names_point_option_and_probability(trace):
    n = 5
    text = stt.step_caption(trace, n)
    p = trace.probs[n][trace.choice[n]]
    assert text.startswith(f"Step {n + 1} of {trace.n_steps}: point #{trace.order[n]} → ")
    assert f"(p = {stt.fmt_prob(p)})" in text


def test_many_clusters_are_pooled_but_still_sum_to_one(xy):
    choice = list(range(30)) + [3, 29]
    tr = make_trace(choice, seed=2)
    bars = stf.bar_data(tr, 31, max_bars=10)
    assert len(bars.labels) <= 10
    assert bars.probs.sum() == pytest.approx(1.0)
    assert bars.option[bars.chosen] == 29 and bars.option[-1] == 30 and -1 in bars.option


def test_compare_mode(trace, xy):
    other = make_trace(CHOICES, kind="ncp", seed=9)
    other.order = trace.order.copy()
    fig = stf.step_figure(xy, trace, 6, other)
    ncp_bars = next(t for t in fig.data if t.name.startswith("NCP"))
    assert np.allclose(ncp_bars.x, other.probs[6])
    gap = next(t for t in fig.data if t.name == "|Δp|")
    assert np.allclose(gap.y, tx.policy_gap(trace, other))
    assert "NCP" in stt.step_caption(trace, 6, other)
    with pytest.raises(ValueError):
        stf.step_figure(xy, trace, 0, make_trace([0, 1, 1, 0, 2, 1, 3, 3, 0, 2, 4, 1], kind="ncp"))


def test_tiny_traces():
    for choice in ([0], [0, 1], [0, 0, 1]):
        tr = make_trace(choice)
        xy = np.zeros((len(choice), 2))
        for n in range(len(choice)):
            points, _, bars = dynamic(stf.step_figure(xy, tr, n))
            assert int((np.asarray(points.marker.color) >= 0).sum()) == n + 1
            assert np.asarray(bars.x).sum() == pytest.approx(1.0)
    assert stt.step_caption(make_trace([0]), 0).startswith("Step 1 of 1: point #0 → new cluster 0 (p = 1.00)")


def test_project_2d():
    X = np.random.default_rng(0).normal(size=(40, 2))
    xy, names = project_2d(X)
    assert np.array_equal(xy, X) and names == ("x₁", "x₂")
    Z = np.random.default_rng(1).normal(size=(40, 6)) * np.array([5, 3, 1, 1, 1, 1])
    xy, names = project_2d(Z, "pca")
    assert xy.shape == (40, 2) and names[0].startswith("PC 1")
    xy2, _ = project_2d(Z[::-1], "pca")
    assert np.allclose(xy2, xy[::-1])                       # order-independent, sign-fixed
    assert xy[:, 0].var() > xy[:, 1].var()


# --------------------------------------------------------------------------- orders and export

def test_make_order():
    assert np.array_equal(tx.make_order(7, 0), np.arange(7))
    a = tx.make_order(7, 3)
    assert np.array_equal(np.sort(a), np.arange(7)) and np.array_equal(a, tx.make_order(7, 3))
    assert not np.array_equal(a, tx.make_order(7, 4))


def test_export_round_trips(trace):
    data = json.loads(tx.trace_json_bytes(trace, {"model": "x"}).decode())
    assert data["meta"] == {"model": "x"} and len(data["steps"]) == trace.n_steps
    back = tx.trace_from_dict(data)
    assert np.array_equal(back.order, trace.order) and np.array_equal(back.choice, trace.choice)
    assert all(np.allclose(a, b) for a, b in zip(back.probs, trace.probs))
    assert np.allclose(back.log_flow_in, trace.log_flow_in) and np.allclose(back.log_q, trace.log_q)
    assert np.array_equal(back.labels, trace.labels)

    rows = list(csv.DictReader(io.StringIO(tx.trace_csv_bytes(trace).decode())))
    assert len(rows) == trace.n_steps
    for n, row in enumerate(rows):
        assert int(row["step"]) == n and int(row["point"]) == trace.order[n]
        assert int(row["choice"]) == trace.choice[n]
        probs = [float(v) for v in row["probabilities"].split(";")]
        assert np.allclose(probs, trace.probs[n], atol=1e-6) and len(row["options"].split(";")) == len(probs)


def test_export_writes_infinities_as_strings():
    tr = make_trace([0, 1, 0])
    tr.log_q = np.array([0.0, -np.inf, -np.inf])
    data = json.loads(tx.trace_json_bytes(tr))
    assert data["steps"][1]["log_q"] == "-inf"
    assert np.isneginf(tx.trace_from_dict(data).log_q[2])


# --------------------------------------------------------------------------- with models

@pytest.fixture(scope="module")
def pair_models(tmp_path_factory):
    """models_dir or None: the installed models when present, else tiny ones trained here."""
    import gfncp

    if all(n in gfncp.list_pretrained() for n in PAIR):
        return None
    from gfncp import train

    root = tmp_path_factory.mktemp("step_models")
    for kind in ("gfncp", "ncp"):
        cfg = train.preset("tiny", kind)
        cfg.preset = "mog2d"
        net = train.train(cfg, root / "runs" / cfg.name, progress=False)
        train.export(cfg, net, root / "runs" / cfg.name, "tiny test model", models_dir=root / "models")
    return root / "models"


@pytest.fixture(scope="module")
def models(pair_models):
    import gfncp
    from gfncp import registry

    load = functools.partial(registry.load_pretrained, models_dir=pair_models) if pair_models else gfncp.load_pretrained
    return tuple(load(name) for name in PAIR)


def test_real_trace_forced_trace_and_figures(models):
    import gfncp

    g, n = models
    X, _ = gfncp.data.make_mog(40, dim=2, seed=3)
    order = tx.make_order(40, 5)
    tr = g.trace(X, order=order)
    again = tx.forced_trace(g, X, tr)                     # the same model on its own path
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(again.probs, tr.probs))
    assert np.allclose(again.log_flow_in, tr.log_flow_in, atol=1e-4)
    assert np.allclose(tx.policy_gap(tr, again), 0, atol=1e-5)
    other = tx.forced_trace(n, X, tr)
    assert other.kind == "ncp" and np.array_equal(other.choice, tr.choice)
    assert all(p.sum() == pytest.approx(1.0, abs=1e-5) for p in other.probs)
    xy, _ = project_2d(X)
    for step in (0, 17, 39):
        fig = stf.step_figure(xy, tr, step, other)
        points, _, bars = dynamic(fig)
        assert int((np.asarray(points.marker.color) >= 0).sum()) == step + 1
        assert np.asarray(bars.x).sum() == pytest.approx(1.0, abs=1e-5)
        fv = stt.flow_values(tr, step)
        assert fv["log_in"] == pytest.approx(tr.log_flow_in[step])


# --------------------------------------------------------------------------- the page

@pytest.fixture
def page_models(pair_models, monkeypatch):
    from gfncp import registry
    from gfncp.ui import state

    if pair_models is not None:
        monkeypatch.setattr(state, "list_pretrained", functools.partial(registry.list_pretrained, pair_models))
        monkeypatch.setattr(state, "load_pretrained",
                            functools.partial(registry.load_pretrained, models_dir=pair_models))
    state.load_model.clear()
    yield
    state.load_model.clear()


def counter(at) -> str:
    texts = [c.value for c in at.caption if c.value.startswith("**Step ")]
    assert len(texts) == 1, [c.value for c in at.caption]
    return texts[0]


def small_dataset(n=30, seed=2):
    import gfncp
    from gfncp.ui.state import Dataset

    X, y = gfncp.data.make_mog(n, dim=2, seed=seed)
    return Dataset(f"test set N={n}", X, y, "generated", {"seed": seed})


def test_page_step_back_reset_slider(page_models):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["dataset"] = small_dataset()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert counter(at).startswith("**Step 1 of 30:")
    assert at.slider(key="st_step").value == 1
    assert len(at.get("plotly_chart")) == 1

    at.button(key="st_forward").click().run()
    assert counter(at).startswith("**Step 2 of 30:")
    at.button(key="st_forward").click().run()
    at.button(key="st_back").click().run()
    assert counter(at).startswith("**Step 2 of 30:")
    at.slider(key="st_step").set_value(17).run()
    assert counter(at).startswith("**Step 17 of 30:")
    assert at.slider(key="st_step").value == 17
    at.button(key="st_reset").click().run()
    assert counter(at).startswith("**Step 1 of 30:")
    assert not at.exception, at.exception


def test_page_order_decoding_compare_and_exports(page_models):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["dataset"] = small_dataset()
    at.run()
    order_text = [m.value for m in at.markdown if m.value.startswith("**Input order:**")]
    assert order_text and "the data's row order: 0 1 2 3" in order_text[0]
    at.slider(key="st_step").set_value(9).run()

    at.button(key="st_new_order").click().run()            # a new order restarts at step 1
    assert at.selectbox(key="st_order_kind").value == "random"
    assert at.number_input(key="st_order_seed").value == 1
    shown = [m.value for m in at.markdown if m.value.startswith("**Input order:**")][0]
    assert "random order (seed 1): " + od.format_order(od.make_order("random", 30, seed=1)[:12]) in shown
    assert counter(at).startswith("**Step 1 of 30:")
    at.button(key="st_new_order").click().run()
    assert at.number_input(key="st_order_seed").value == 2

    at.radio(key="st_mode").set_value("Sampled").run()
    at.number_input(key="st_seed").set_value(7).run()
    at.toggle(key="st_compare").set_value(True).run()
    at.slider(key="st_step").set_value(12).run()
    assert not at.exception, at.exception
    assert "NCP gives it" in counter(at)
    assert any("Where the policies differ" in m.value for m in at.markdown)
    assert any("What flow in = flow out means" in i.value for i in at.info)
    at.radio(key="st_path").set_value("NCP's choices").run()
    assert not at.exception, at.exception
    assert "GFNCP gives it" in counter(at)
    assert at.session_state["st_timings"]["step view"] < 30   # recorded (not a timing test)


def test_page_hand_set_orders(page_models):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["dataset"] = small_dataset(8, seed=3)
    at.run()
    kinds = at.selectbox(key="st_order_kind").options
    assert len(kinds) == 6                                  # every kind, typed included (8 <= 12 points)
    for kind in ("reversed", "pca", "clusters"):
        at.selectbox(key="st_order_kind").set_value(kind).run()
        assert not at.exception and not at.error, (kind, [e.value for e in at.error])
        shown = [m.value for m in at.markdown if m.value.startswith("**Input order:**")][0]
        expect = od.make_order(kind, 8, X=at.session_state["dataset"].X, labels=at.session_state["dataset"].labels)
        assert od.format_order(expect) in shown, (kind, shown)
        assert f"point #{expect[0]} →" in counter(at)
    at.selectbox(key="st_order_kind").set_value("typed").run()
    assert at.text_input(key="st_order_text").value == "7 6 5 4 3 2 1 0"
    at.text_input(key="st_order_text").set_value("3 1 1").run()
    assert at.error and "Point 1 appears twice" in at.error[0].value      # said, and the page still works
    assert counter(at).startswith("**Step 1 of 8: point #0")
    at.text_input(key="st_order_text").set_value("2, 0, 1, 3, 4, 5, 6, 7").run()
    assert not at.error and counter(at).startswith("**Step 1 of 8: point #2")
    at.button(key="st_forward").click().run()
    assert counter(at).startswith("**Step 2 of 8: point #0")


def test_page_play_pause_and_the_end(page_models):
    from streamlit.testing.v1 import AppTest

    n = 40
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["dataset"] = small_dataset(n, seed=4)
    at.run()
    assert not at.exception, at.exception
    assert not at.button(key="st_play").disabled
    at.slider(key="st_step").set_value(n - 1).run()
    at.button(key="st_forward").click().run()
    assert counter(at).startswith(f"**Step {n} of {n}:")
    at.button(key="st_play").click().run()                 # at the end: play restarts from step 1
    assert at.session_state["st_playing"] is True
    assert counter(at).startswith(f"**Step 1 of {n}:")
    at.button(key="st_play").click().run()
    assert at.session_state["st_playing"] is False
    assert not at.exception, at.exception


def test_page_without_models_shows_an_error(monkeypatch):
    from streamlit.testing.v1 import AppTest
    from gfncp.ui import state

    monkeypatch.setattr(state, "list_pretrained", lambda: [])
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.error and "not installed" in at.error[0].value
