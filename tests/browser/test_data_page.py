"""The app frame and the Data page in a real browser: generate, upload (good and bad), a
digits task, export, then every page through the sidebar, with render times."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from gfncp import data

pytestmark = pytest.mark.browser

PAGES = [("Step through", "step_through"), ("Order invariance", "order_invariance"),
         ("Uncertainty", "uncertainty"), ("About", "about"), ("Data", "data")]


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def click_tab(st_app, label: str) -> None:
    tab = st_app.page.get_by_role("tab", name=label)
    st_app.measure(f"data: {label} tab", lambda: tab.click())


def visible_error_texts(page) -> list[str]:
    return [t for t in page.locator('[data-testid="stAlertContentError"]').all_inner_texts() if t.strip()]


@pytest.fixture
def files(tmp_path):
    X, labels = data.make_mog(80, 2, sigma=3.0, lam=30.0, seed=11)
    good = tmp_path / "my_points.csv"
    good.write_bytes(data.write_points_csv(X, labels))
    bad = tmp_path / "ragged.csv"
    bad.write_text("1,2,3\n4,5\n6,7,8\n")
    return good, bad


def test_data_page_flow_and_every_page(dev_models_dir, st_app, files):
    page = st_app.page
    page.set_viewport_size({"width": 1400, "height": 1200})      # more of each page in the screenshots
    good, bad = files

    # first visit: the default set is on screen and in the sidebar
    st_app.open("", name="data (first visit)")
    st_app.assert_no_exception()
    assert page.title() == "GFNCP Explorer"
    assert page.get_by_role("heading", name="Data").first.is_visible()
    assert sidebar(page).get_by_text("Current data set").is_visible()
    assert sidebar(page).get_by_text(re.compile(r"N = 100 points")).is_visible()
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1

    # generate: N 100 -> 110 and dimension 2 -> 3 with the keyboard, then Generate
    for name, presses in (("Number of points N", 10), ("Dimension", 1)):
        thumb = page.get_by_role("slider", name=name)
        thumb.focus()
        for _ in range(presses):
            thumb.press("ArrowRight")
    st_app.measure("data: generate", lambda: page.get_by_role("button", name="Generate").click())
    st_app.assert_no_exception()
    assert page.get_by_text("is now the current data set").first.is_visible()
    assert sidebar(page).get_by_text(re.compile(r"N = 110 points")).is_visible()
    assert sidebar(page).get_by_text("dimension 3").first.is_visible()
    page.mouse.move(5, 5)
    st_app.screenshot("data_generate")

    # upload: a bad file shows one error and keeps the set; a good one can be used
    click_tab(st_app, "Upload")
    file_input = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    st_app.measure("data: upload bad file", lambda: file_input.set_input_files(str(bad)))
    errors = visible_error_texts(page)
    assert len(errors) == 1 and "ragged.csv" in errors[0], errors
    assert sidebar(page).get_by_text(re.compile(r"N = 110 points")).is_visible()
    assert page.get_by_role("button", name="Use this data").count() == 0
    st_app.measure("data: upload good file", lambda: file_input.set_input_files(str(good)))
    st_app.assert_no_exception()
    assert page.get_by_text("Read my_points.csv").first.is_visible()
    assert page.get_by_text("Scale for textbook pairs").first.is_visible()
    page.mouse.move(5, 5)
    st_app.screenshot("data_upload")
    st_app.measure("data: use upload", lambda: page.get_by_role("button", name="Use this data").click())
    st_app.assert_no_exception()
    assert sidebar(page).get_by_text(re.compile(r"N = 80 points")).is_visible()
    assert sidebar(page).get_by_text(re.compile(r"my_points\.csv")).first.is_visible()

    # a digits task: thumbnails and the pair choice in the sidebar
    click_tab(st_app, "Real data")
    st_app.measure("data: draw digits task", lambda: page.get_by_role("button", name="Draw task").click())
    st_app.assert_drawn_once()
    st_app.assert_no_exception()
    assert page.get_by_text("A few images of every true cluster").first.is_visible()
    assert sidebar(page).get_by_text("Model pair").is_visible()
    page.mouse.move(5, 5)
    st_app.screenshot("data_digits")
    name = page.locator('[data-testid="stSidebar"] strong').first.inner_text()
    assert name.startswith("Digits")

    # export
    click_tab(st_app, "Export")
    st_app.assert_no_exception()
    assert page.get_by_role("button", name="Download CSV").is_visible()
    st_app.screenshot("data_export")

    # every page through the sidebar: no error, the digits task stays current
    for title, url in PAGES:
        link = page.locator('[data-testid="stSidebarNav"] a', has_text=title).first
        st_app.measure(f"sidebar -> {url}", lambda: link.click(), timeout=240)
        path = urlparse(page.url).path.rstrip("/")       # the query holds the view (a link)
        assert path.endswith("/" + url) or (url == "data" and path == "")
        st_app.assert_no_exception()
        assert sidebar(page).get_by_text(name).first.is_visible(), title
        page.mouse.move(5, 5)
        st_app.screenshot(f"page_{url}")


@pytest.mark.parametrize("title,url", PAGES)
def test_each_page_loads_directly(dev_models_dir, st_app, st_helpers, title, url):
    """A fresh session opening each page's URL: render time from navigation to idle, first in a
    brand-new browser profile (nothing cached: a newcomer's first visit), then in a new tab of
    the same browser (Streamlit's and plotly's scripts cached, as for a returning user). The
    Data page lives at the root; its own path (/data) sends the visitor there."""
    path = "" if url == "data" else url
    st_app.open(path, name=f"{url} (direct load, new browser)", timeout=240)
    st_app.assert_no_exception()      # includes Streamlit's dialogs ("Page not found")
    st_app.assert_drawn_once()
    st_app.assert_metrics_fit()
    assert st_app.page.title() == "GFNCP Explorer"
    assert sidebar(st_app.page).get_by_text("Current data set").is_visible()
    assert sidebar(st_app.page).get_by_text(re.compile(r"N = 100 points")).is_visible()

    tab = st_app.page.context.new_page()
    st_helpers.open_app(tab, st_app.base_url, path, name=f"{url} (direct load, new tab)", timeout=240)
    st_helpers.assert_no_exception(tab)
    assert sidebar(tab).get_by_text(re.compile(r"N = 100 points")).is_visible()
    if url == "data":
        st_helpers.open_app(tab, st_app.base_url, "data", name="/data (sends the visitor to the root)", timeout=240)
        st_helpers.assert_no_exception(tab)
        assert urlparse(tab.url).path == "/", tab.url
        assert tab.get_by_role("heading", name="Data").first.is_visible()
    tab.close()


# Every text the sidebar's page list ever shows, from the first paint on (a MutationObserver).
_NAV_HISTORY_JS = """(() => { window.__navTexts = new Set();
  const note = () => document.querySelectorAll('[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"]')
      .forEach(a => window.__navTexts.add(a.innerText.trim().split('\\n').pop().trim()));
  new MutationObserver(note).observe(document, {subtree: true, childList: true, characterData: true}); })()"""
FILE_NAMES = {"data", "step through", "state graph", "order invariance", "uncertainty", "about"}


@pytest.mark.parametrize("plain", [False, True], ids=["make run", "streamlit run app.py"])
def test_cold_server_deep_link_runs_in_the_app_frame(dev_models_dir, page, st_helpers, tmp_path, plain):
    """The very first request to a fresh server is a deep link (/about): Streamlit's pages/
    folder fallback would run pages/about.py alone; the app must still show its frame. Started
    as `make run` starts it, the sidebar never lists the pages/ folder's file names, not even
    for the first second (`streamlit run app.py` shows them briefly: gfncp/ui/launch.py)."""
    page.add_init_script(_NAV_HISTORY_JS)
    log = open(tmp_path / "server.log", "wb")
    try:
        proc, base = st_helpers.start_server(log=log, plain=plain)
    except RuntimeError as err:
        log.close()
        pytest.fail(f"{err}:\n{(tmp_path / 'server.log').read_text()}")
    try:
        seconds = st_helpers.open_app(page, base, "about", name="about (cold server, first request)")
        st_helpers.assert_no_exception(page)
        # (`streamlit run`: the page-side fix-up reruns, and the frame's title may follow the idle state)
        page.wait_for_function("() => document.title === 'GFNCP Explorer'", timeout=30_000)
        assert sidebar(page).get_by_text("Current data set").is_visible()
        links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
        assert any("Order invariance" in t for t in links) and not any(t.strip() == "app" for t in links)
        assert seconds > 0
        seen = set(page.evaluate("() => Array.from(window.__navTexts)"))
        assert "Order invariance" in seen
        if not plain:
            assert not seen & FILE_NAMES, f"the page list flashed file names: {sorted(seen)}"
    finally:
        st_helpers.stop_server(proc)
        log.close()


@pytest.mark.parametrize("path", ["", "step_through", "order_invariance", "uncertainty", "about"])
def test_controls_fit_a_laptop_window(dev_models_dir, st_app, st_helpers, path):
    """At 1024 px with the sidebar open every page keeps usable widths (groups of controls wrap onto
    more rows): no label, value or button text cut off, and the Data page's Generate form's number
    inputs at least 90 px wide."""
    page = st_app.page
    page.set_viewport_size({"width": 1024, "height": 900})
    st_app.open(path, name=f"{path or 'data'} (1024-px window)")
    st_app.assert_no_exception()
    cut = st_helpers.cut_texts(page)
    assert not cut, f"texts cut off: {cut}"
    # a table wider than its column scrolls sideways, its last columns out of sight (About's models)
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stTable"] *'))
        .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText.slice(0, 40))""")
    assert not wide, f"tables wider than the page: {wide}"
    if path == "":
        widths = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stNumberInput"]'))
            .filter(e => e.offsetParent).map(e => e.getBoundingClientRect().width)""")
        assert len(widths) == 4 and min(widths) >= 90, widths           # alpha, sigma, lambda, seed
