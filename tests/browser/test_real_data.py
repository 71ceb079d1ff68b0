"""The Data page's real data in a real browser: a bundled table loaded from the Real data tab goes
to the general model pair (the sidebar says so), its legend names the classes, and no text is cut
off at 1024 or 1400 px; an upload above the size limit is refused in words and clears the old
preview."""
from __future__ import annotations

import re

import pytest

from gfncp import data
from gfncp.real_data import load_real

pytestmark = pytest.mark.browser


TABS = '[data-testid="stMain"] [data-testid="stTabs"] *'


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def main_charts(page):
    return page.locator('[data-testid="stMain"] [data-testid="stPlotlyChart"]')


@pytest.mark.parametrize("width", [1024, 1400])
def test_load_a_bundled_real_set(dev_models_dir, st_app, st_helpers, width):
    page = st_app.page
    page.set_viewport_size({"width": width, "height": 1000})
    wine = load_real("wine")
    st_app.open("", name=f"data (real data, {width} px)")
    st_app.measure("data: Real data tab", lambda: page.get_by_role("tab", name="Real data").click())
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Data set").click()
    st_app.measure("data: pick wine", lambda: page.get_by_role("option", name="Wine").click())
    st_app.assert_no_exception()
    assert page.get_by_text(re.compile(r"Wine: 178 rows x 13 features, 3 classes")).first.is_visible()
    st_app.measure("data: load wine", lambda: page.get_by_role("button", name="Load this data set").click())
    st_app.assert_no_exception()
    st_app.assert_drawn_once()

    assert page.get_by_text("is now the current data set").first.is_visible()
    side = sidebar(page)
    assert side.get_by_text(re.compile(r"N = 178 points")).is_visible()
    assert side.get_by_text("source: bundled real data set").is_visible()
    assert side.get_by_text("gfncp-general", exact=True).is_visible()
    assert side.get_by_text(re.compile(r"Serving this set: the general pair")).is_visible()
    choice = side.get_by_role("combobox", name="Model pair").input_value()
    assert "general" in choice and "mog2d" not in choice, choice        # the choice shows the pair serving
    box = side.get_by_role("combobox", name="Model pair")
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), f"choice cut off: {choice}"
    legend = page.locator('[data-testid="stMain"] .legendtext').evaluate_all("els => els.map(e => e.textContent)")
    assert sorted(t.split(" (")[0] for t in legend) == sorted(wine.class_names), legend
    # the Data page's tabs and the sidebar (the first-visit introduction above the tabs is not this test's)
    cut = st_helpers.cut_texts(page, TABS) + st_helpers.cut_texts(page, '[data-testid="stSidebar"] *')
    assert not cut, f"texts cut off at {width} px: {cut}"
    page.mouse.move(5, 5)
    st_app.screenshot(f"data_real_{width}")


def test_oversize_upload_is_refused_in_words(dev_models_dir, st_app, st_helpers, tmp_path):
    page = st_app.page
    page.set_viewport_size({"width": 1024, "height": 1000})
    X, labels = data.make_mog(60, 2, seed=5)
    small = tmp_path / "small.csv"
    small.write_bytes(data.write_points_csv(X, labels))
    big = tmp_path / "big.csv"
    big.write_bytes(b"1.0,2.0\n" * (12_000_000 // 8))
    st_app.open("", name="data (upload, 1024 px)")
    st_app.measure("data: Upload tab", lambda: page.get_by_role("tab", name="Upload").click())
    assert page.get_by_text(re.compile(r"At most 5,000 points and 10 MB")).first.is_visible()
    file_input = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    st_app.measure("data: upload small file", lambda: file_input.set_input_files(str(small)))
    st_app.assert_no_exception()
    assert page.get_by_role("button", name="Use this data").count() == 1
    assert main_charts(page).count() == 1
    st_app.screenshot("data_upload_1024")
    # (the uploader's hidden, zero-width file input counts as "cut" with no text: not a text)
    cut = [t for t in st_helpers.cut_texts(page, TABS) if t.strip()]
    assert not cut, f"texts cut off at 1024 px: {cut}"

    st_app.measure("data: upload oversize file", lambda: file_input.set_input_files(str(big)), timeout=120)
    errors = [t for t in page.locator('[data-testid="stAlertContentError"]').all_inner_texts() if t.strip()]
    assert len(errors) == 1 and "big.csv" in errors[0] and "is 12 MB" in errors[0] and "up to 10 MB" in errors[0], errors
    assert page.get_by_role("button", name="Use this data").count() == 0
    assert main_charts(page).count() == 0                          # the old preview is gone
    assert sidebar(page).get_by_text(re.compile(r"N = 100 points")).is_visible()
    page.mouse.move(5, 5)
    st_app.screenshot("data_upload_oversize")
