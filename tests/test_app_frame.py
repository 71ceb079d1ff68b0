"""The app frame (app.py: navigation + sidebar) and its Data and About pages, with AppTest
(app.py run as the real server runs it: the `app_frame_test` fixture of tests/conftest.py)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gfncp import data
from gfncp.real_data import REAL_SETS, load_real

REPO = Path(__file__).resolve().parents[1]
PAGE_FILES = ["pages/data.py", "pages/step_through.py", "pages/order_invariance.py",
              "pages/uncertainty.py", "pages/about.py"]
GENERATE = "FormSubmitter:generate_form-Generate"
NEW_SEED = "FormSubmitter:generate_form-New seed"
DRAW_DIGITS = "FormSubmitter:digits_form-Draw task"


@pytest.fixture
def app(app_frame_test) -> AppTest:
    at = app_frame_test
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def sidebar_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption]
                     + [w.value for w in at.sidebar.warning])


def pair_box(at: AppTest):
    """The sidebar's choice of model pair (a new widget for every new data set)."""
    [box] = [b for b in at.sidebar.selectbox if b.label == "Model pair"]
    return box


def current(at: AppTest):
    return at.session_state["dataset"]


def open_tab(at: AppTest, label: str) -> AppTest:
    at.session_state["data_tab"] = label
    return at.run()


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.file_uploader(key="upload_file").set_value((name, raw, "application/octet-stream"))
    at.run()
    assert_clean(at)
    return at


def use_upload_button(at: AppTest):
    return [b for b in at.button if b.key == "upload_use"]


# -- first visit --------------------------------------------------------------------------------


def test_first_visit_shows_data_and_models(app):
    ds = current(app)
    assert app.title[0].value == "Data"
    assert ds.n == 100 and ds.dim == 2 and ds.source == "generated"
    side = sidebar_text(app)
    assert "N = **100**" in side and "dimension **2**" in side
    assert "**gfncp-mog2d**" in side and "**ncp-mog2d**" in side
    assert len(app.get("plotly_chart")) >= 1                      # the scatter of the current set
    assert any("Current data set" in m.value for m in app.main.markdown)
    assert [t.label for t in app.tabs] == ["Generate", "Real data", "Upload", "Export"]


# -- generate -------------------------------------------------------------------------------------


def test_generate_changes_the_current_set_and_sidebar(app):
    app.slider(key="gen_n").set_value(240)
    app.slider(key="gen_dim").set_value(5)
    app.button(key=GENERATE).click().run()
    assert_clean(app)
    ds = current(app)
    assert (ds.n, ds.dim, ds.params["seed"]) == (240, 5, 0)
    X, labels = data.make_mog(240, 5, seed=0)
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.labels, labels)
    assert any("is now the current data set" in s.value for s in app.success)
    side = sidebar_text(app)
    assert "N = **240**" in side and "**gfncp-mog16d**" in side


def test_new_seed_draws_another_set(app):
    before = current(app).key
    app.button(key=NEW_SEED).click().run()
    assert_clean(app)
    assert not app.warning                                            # no widget-state warnings
    seed = app.number_input(key="gen_seed").value
    assert current(app).params["seed"] == seed
    assert current(app).key != before or seed == 0


def test_umap_projection_of_a_high_dimensional_set(app):
    app.slider(key="gen_n").set_value(80)
    app.slider(key="gen_dim").set_value(8)
    app.button(key=GENERATE).click().run()
    app.segmented_control(key="proj_gen").set_value("UMAP").run()
    assert_clean(app)
    assert len(app.get("plotly_chart")) >= 1


# -- real data ------------------------------------------------------------------------------------


def test_digits_task_shows_thumbnails_and_offers_pairs(app):
    open_tab(app, "Real data")
    app.selectbox(key="dig_k").set_value("3")
    app.slider(key="dig_n").set_value(40)
    app.button(key=DRAW_DIGITS).click().run()
    assert_clean(app)
    ds = current(app)
    assert ds.source == "digits" and ds.n == 40 and ds.dim == 64 and ds.true_k == 3
    assert ds.images is not None and ds.images.shape == (40, 64)
    assert len(app.get("plotly_chart")) >= 2                      # thumbnails + projection
    # a 64-D digits task fits three pairs: the sidebar offers the choice
    box = pair_box(app)
    assert [o.split(" ")[0] for o in box.options] == ["digits", "mog16d", "general"]
    assert "**gfncp-digits**" in sidebar_text(app)
    box.set_value("mog16d").run()
    assert_clean(app)
    assert "**gfncp-mog16d**" in sidebar_text(app) and pair_box(app).value == "mog16d"
    # a new set goes back to its default pair, and the choice shows it
    app.button(key=DRAW_DIGITS).click().run()
    assert "**gfncp-digits**" in sidebar_text(app) and pair_box(app).value == "digits"


def test_impossible_digits_task_shows_an_error(app):
    open_tab(app, "Real data")
    before = current(app).key
    app.selectbox(key="dig_k").set_value("10")
    app.slider(key="dig_n").set_value(5)
    app.button(key=DRAW_DIGITS).click().run()
    assert_clean(app)
    assert app.error and current(app).key == before


@pytest.mark.parametrize("name", REAL_SETS)
def test_bundled_real_set_loads_and_goes_to_the_general_pair(app, name):
    table = load_real(name)
    open_tab(app, "Real data")
    app.selectbox(key="real_name").set_value(name).run()
    assert_clean(app)
    assert any(table.description in c.value for c in app.caption)  # rows x features, classes, source
    app.button(key="real_load").click().run()
    assert_clean(app)
    ds = current(app)
    assert (ds.source, ds.params) == ("real", {"name": name}) and ds.name.startswith(table.title)
    np.testing.assert_array_equal(ds.X, table.X)
    np.testing.assert_array_equal(ds.labels, table.labels)
    assert ds.class_names == table.class_names and ds.true_k == len(table.class_names)
    side = sidebar_text(app)
    assert f"N = **{len(table.X)}**" in side and "bundled real data set" in side
    assert "**gfncp-general**" in side and "**ncp-general**" in side and "general pair" in side
    assert pair_box(app).options[0].startswith("general") and pair_box(app).value == "general"
    assert len(app.get("plotly_chart")) == 1                      # the set, coloured by its classes
    legend = app.get("plotly_chart")[0].proto.spec
    assert all(f'"{c} (' in legend for c in table.class_names)
    # a textbook pair can be chosen; the sidebar says it takes the table in its own units
    pair_box(app).set_value("mog16d").run()
    assert_clean(app)
    assert "**gfncp-mog16d**" in sidebar_text(app) and "in the units it has" in sidebar_text(app)


# -- upload -----------------------------------------------------------------------------------------


def upload_widget(at: AppTest, kind: str, prefix: str):
    found = [w for w in getattr(at, kind) if w.key and w.key.startswith(prefix)]
    assert len(found) == 1, (kind, prefix, [w.key for w in getattr(at, kind)])
    return found[0]


def test_upload_good_csv_is_used_in_its_units_and_can_be_scaled(app):
    X, labels = data.make_mog(60, 2, sigma=3.0, lam=30.0, seed=1)
    open_tab(app, "Upload")
    upload(app, "mine.csv", data.write_points_csv(X, labels))
    assert not app.error
    assert len(app.get("plotly_chart")) == 1                      # preview of the points as uploaded
    assert any("Read **mine.csv**: 60 rows, 3 columns (3 numeric)" in m.value for m in app.markdown)
    assert upload_widget(app, "selectbox", "upload_label_").value == 2        # the `label` column
    assert upload_widget(app, "multiselect", "upload_cols_").value == ["x0", "x1"]
    # the general pair serves uploads: no scaling by default, and the page says why
    box = upload_widget(app, "checkbox", "upload_scale_on_")
    assert box.value is False
    assert any("general pair" in c.value and "units never matter" in c.value for c in app.caption)
    assert not [n for n in app.number_input if n.key.startswith("upload_scale_")]
    app.button(key="upload_use").click().run()
    assert_clean(app)
    ds = current(app)
    assert ds.source == "upload" and ds.n == 60 and ds.dim == 2
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.params["columns"] == ["x0", "x1"] and ds.params["label"] == "label" and ds.params["scale"] is None
    side = sidebar_text(app)
    assert "N = **60**" in side and "**gfncp-general**" in side
    assert any("mine.csv" in s.value for s in app.success)
    # for a textbook pair: scale into its units
    open_tab(app, "Upload")
    upload_widget(app, "checkbox", "upload_scale_on_").check().run()
    assert_clean(app)
    scale = upload_widget(app, "number_input", "upload_scale_").value
    assert 2.0 < scale < 4.0                                      # automatic default ~ sigma
    assert len(app.get("plotly_chart")) == 1                      # before/after preview
    app.button(key="upload_use").click().run()
    np.testing.assert_allclose(current(app).X, X / scale)
    assert current(app).params["scale"] == scale


def test_upload_with_column_choice(app):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 5))
    open_tab(app, "Upload")
    upload(app, "wide.csv", data.write_points_csv(X))
    cols = upload_widget(app, "multiselect", "upload_cols_")
    assert cols.options == ["x0", "x1", "x2", "x3", "x4"]         # by their header names
    cols.set_value(["x0", "x3"]).run()
    assert_clean(app)
    app.button(key="upload_use").click().run()
    assert_clean(app)
    ds = current(app)
    assert ds.dim == 2 and ds.labels is None
    np.testing.assert_allclose(ds.X, X[:, [0, 3]])


def test_upload_sklearn_export_takes_target_as_labels(app):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    open_tab(app, "Upload")
    upload(app, "iris.csv", frame.to_csv(index=False).encode())
    label = upload_widget(app, "selectbox", "upload_label_")
    assert label.value == 4 and label.format_func(label.value) == "target"
    app.button(key="upload_use").click().run()
    assert_clean(app)
    ds = current(app)
    assert ds.dim == 4 and ds.true_k == 3 and ds.class_names == ("target 0", "target 1", "target 2")
    np.testing.assert_allclose(ds.X, frame.iloc[:, :4].to_numpy())
    # "none": target becomes a coordinate like any other
    open_tab(app, "Upload")
    upload_widget(app, "selectbox", "upload_label_").set_value(-1).run()
    assert_clean(app)
    assert len(upload_widget(app, "multiselect", "upload_cols_").value) == 5
    app.button(key="upload_use").click().run()
    assert current(app).dim == 5 and current(app).labels is None


def test_upload_headerless_file_marks_its_last_column_as_labels(app):
    X, labels = data.make_mog(40, 2, seed=3)
    raw = "\n".join(f"{a!r},{b!r},{k + 1}" for (a, b), k in zip(X.tolist(), labels)).encode()
    open_tab(app, "Upload")
    upload(app, "nohead.csv", raw)
    label = upload_widget(app, "selectbox", "upload_label_")
    assert label.value == -1                                      # no header: no labels guessed
    assert upload_widget(app, "multiselect", "upload_cols_").value == ["column 1", "column 2", "column 3"]
    label.set_value(2).run()                                      # "column 3"
    assert_clean(app)
    assert upload_widget(app, "multiselect", "upload_cols_").value == ["column 1", "column 2"]
    app.button(key="upload_use").click().run()
    ds = current(app)
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.labels, labels)


def test_upload_notes_text_columns_and_dropped_rows(app):
    raw = (b"species,island,bill_length_mm,bill_depth_mm,sex\n"
           b"Adelie,Torgersen,39.1,18.7,male\n"
           b"Adelie,Torgersen,NA,NA,NA\n"
           b"Gentoo,Biscoe,46.1,13.2,female\n"
           b"Gentoo,Biscoe,50.0,,male\n"
           b"Chinstrap,Dream,46.5,17.9,NA\n"
           b"Adelie,Dream,37.8,17.1,female\n")
    open_tab(app, "Upload")
    upload(app, "penguins.csv", raw)
    assert not app.error
    notes = "\n".join(c.value for c in app.caption)
    assert "`species`, `island`, `sex`" in notes                  # left out, named
    assert upload_widget(app, "selectbox", "upload_label_").value == 0        # species
    used = [m.value for m in app.markdown if m.value.startswith("Using")]
    assert used == ["Using **4 points** x **2** columns, 3 known classes. "
                    "2 rows with a missing value in these columns left out."]
    app.button(key="upload_use").click().run()
    ds = current(app)
    assert ds.n == 4 and ds.class_names == ("Adelie", "Gentoo", "Chinstrap")
    np.testing.assert_array_equal(ds.labels, [0, 1, 2, 0])


def test_oversize_upload_says_the_limit_and_clears_the_preview(app):
    X, labels = data.make_mog(50, 2, seed=4)
    open_tab(app, "Upload")
    upload(app, "small.csv", data.write_points_csv(X, labels))
    assert len(app.get("plotly_chart")) == 1 and use_upload_button(app)
    before = current(app)
    upload(app, "huge.csv", b"1.0,2.0\n" * (11_000_000 // 8))
    assert len(app.error) == 1
    message = app.error[0].value
    assert "huge.csv" in message and "is 11 MB" in message and "up to 10 MB" in message
    assert not app.get("plotly_chart") and not use_upload_button(app)
    assert current(app) is before
    assert any("10 MB" in c.value for c in app.caption)           # the caption names the limit


def _pickled_npy() -> bytes:
    """A .npy holding pickled Python objects: written here so that the app can be shown to
    refuse it (read_points never unpickles)."""
    buf = io.BytesIO()
    np.save(buf, np.array([[1, "a"], [2, object()]], dtype=object), allow_pickle=True)
    return buf.getvalue()


BAD_UPLOADS = {
    "empty": ("empty.csv", b""),
    "ragged": ("ragged.csv", b"1,2,3\n4,5\n6,7,8\n"),
    "infinite": ("inf.csv", b"x,y\n1,2\ninf,3\n4,5\n"),
    "all rows incomplete": ("holes.csv", b"x,y\n1,\nNA,3\n4,NaN\n"),
    "no numbers": ("words.csv", b"name,colour\nann,red\nbob,blue\n"),
    "pickled npy": ("objects.npy", _pickled_npy()),
    "wrong extension": ("points.xlsx", b"1,2\n3,4\n"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_shows_error_and_keeps_the_set(app, case):
    name, raw = BAD_UPLOADS[case]
    before = current(app)
    open_tab(app, "Upload")
    upload(app, name, raw)
    assert app.error, f"no error shown for {case}"
    assert name in app.error[0].value
    assert current(app) is before
    assert not use_upload_button(app)
    assert "N = **100**" in sidebar_text(app)


# -- export -------------------------------------------------------------------------------------------


def test_export_tab_offers_the_csv(app):
    open_tab(app, "Export")
    assert_clean(app)
    assert len(app.get("download_button")) == 1
    assert len(app.dataframe) == 1


# -- page switches ------------------------------------------------------------------------------------


def test_every_page_renders_and_keeps_the_set(app):
    app.slider(key="gen_n").set_value(37)
    app.button(key=GENERATE).click().run()
    key = current(app).key
    pages = [p for p in PAGE_FILES if (REPO / p).exists()]
    assert "pages/data.py" in pages and "pages/about.py" in pages
    for page in pages[1:] + ["pages/data.py"]:
        app.switch_page(str(REPO / page)).run()
        assert_clean(app)
        assert current(app).key == key, page
        assert "N = **37**" in sidebar_text(app), page
    assert any("N = 37" in m.value for m in app.main.markdown)


def test_about_page_lists_models_and_papers(app):
    app.button(key="intro_dismiss").click().run()                # the introduction box has the tour too
    app.switch_page(str(REPO / "pages/about.py")).run()
    assert_clean(app)
    text = "\n".join(m.value for m in app.markdown)
    assert "AISTATS 2025" in text and "ICML 2020" in text
    table = app.table[0].value
    assert {"gfncp-mog2d", "ncp-mog2d"} <= set(table.index)
    for column in {"NMI", "ARI"} & set(table.columns):          # formatted; missing numbers shown as —
        assert all(v == "—" or 0 <= float(v) <= 1 for v in table[column])
    assert len(app.get("plotly_chart")) == 1                      # the state-tree diagram
    links = app.get("page_link")                                  # the first visit's tour, again
    assert len(links) >= 4 and any("Well separated" in link.proto.label for link in links)


def test_missing_models_are_reported_not_crashed(app, tmp_path, monkeypatch):
    import gfncp.registry as registry

    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path)
    for fn in (registry.read_card, registry.list_pretrained, registry.load_network, registry.load_pretrained):
        monkeypatch.setattr(fn, "__defaults__", (tmp_path,))
    app.run()
    assert_clean(app)
    assert "not installed" in sidebar_text(app)
    app.switch_page(str(REPO / "pages/about.py")).run()
    assert_clean(app)
    assert app.warning


def test_leaving_pages_folder_mode_reruns_once():
    """gfncp.ui.state.leave_pages_folder_mode: with Streamlit's pages/-folder fallback on (a cold
    server), it turns the fallback off and reruns, so that app.py runs; afterwards a no-op."""
    script = (
        "import streamlit as st\n"
        "from streamlit.runtime.pages_manager import PagesManager\n"
        "from gfncp.ui.state import leave_pages_folder_mode\n"
        "st.session_state['runs'] = st.session_state.get('runs', 0) + 1\n"
        "if st.session_state['runs'] == 1:\n"
        "    PagesManager.uses_pages_directory = True\n"
        "leave_pages_folder_mode()\n"
        "st.write('flag', PagesManager.uses_pages_directory)\n"
    )
    at = AppTest.from_string(script, default_timeout=60).run()
    assert_clean(at)
    assert at.session_state["runs"] == 2
    at.run()
    assert at.session_state["runs"] == 3



def test_streamlit_still_needs_the_pages_folder_flip():
    """Why gfncp.ui.state flips a private Streamlit flag (see the comment there): Streamlit still
    (1) turns the `pages/` fallback on because a `pages/` folder sits beside app.py, and (2) runs
    the old folder-based navigation instead of app.py while it is on. When this fails, Streamlit
    has changed: check whether the flip (and this test) can go, or how it must change."""
    import inspect

    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    saved = PagesManager.uses_pages_directory
    try:
        PagesManager.uses_pages_directory = None
        PagesManager(str(REPO / "app.py"))
        assert PagesManager.uses_pages_directory is True
    finally:
        PagesManager.uses_pages_directory = saved
    source = inspect.getsource(script_runner.ScriptRunner)
    assert "if PagesManager.uses_pages_directory:" in source and "_mpa_v1(" in source

FRESH_PROCESS_PAGES = """
import sys, threading
from streamlit.testing.v1 import AppTest
assert "pandas" not in sys.modules
first = AppTest.from_file("app.py", default_timeout=120)
first.run()                     # the first page of a fresh process starts the warm-up thread
failures = [str(first.exception)] if first.exception else []
pandas = sys.modules.get("pandas")             # the warm-up must not be the one importing it
if pandas is None or not hasattr(pandas, "Series"):
    failures.append("pandas is not fully imported when the warm-up thread starts")
warm_up = [t for t in threading.enumerate() if t.name == "gfncp-warm-up"]
assert warm_up, "no warm-up thread"
runs = 0
while warm_up[0].is_alive() or runs < 2:      # draw figures for as long as the warm-up imports
    at = AppTest.from_file("pages/about.py", default_timeout=120)
    at.run()
    runs += 1
    if at.exception:
        failures.append(at.exception[0].message)
print("RUNS:", runs, "FAILURES:", failures)
sys.exit(1 if failures else 0)
"""


def test_pages_right_after_a_fresh_start_do_not_race_the_warm_up(dev_models_dir):
    """In a fresh process the warm-up thread imports scikit-learn, which imports pandas; a page
    drawing a plotly figure meanwhile once met a half-imported pandas (gfncp/ui/warm_up.py)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, GFNCP_PREFETCH="0", GFNCP_MODELS_DIR=str(dev_models_dir))
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS_PAGES], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
