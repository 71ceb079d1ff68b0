"""Links that reproduce a view, in a real browser: a link copied at step k opens the same page,
data set and step in a fresh browser context, and a reload keeps them (a generated set and a
bundled real set); a broken link falls back with one line."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def copied_link(st_app) -> str:
    """Open the sidebar's 'Copy link' popover and read the link it offers."""
    page = st_app.page
    sidebar(page).get_by_role("button", name=re.compile("Copy link")).click()
    box = page.locator('input.gfncp-link').first
    box.wait_for(state="visible", timeout=15_000)
    copy = page.locator("button.gfncp-copy").first
    copy.click()
    page.wait_for_function("() => document.querySelector('button.gfncp-copy').textContent.trim() === 'Copied'",
                           timeout=10_000)
    link = box.input_value().strip()
    assert link == page.url, (link, page.url)                    # the current view, not the last full run's
    page.keyboard.press("Escape")
    assert link.startswith(st_app.base_url), link
    return link


def step_caption(page) -> str:
    loc = page.get_by_text(re.compile(r"^Step \d+ of \d+:")).first
    loc.wait_for(state="visible", timeout=30_000)
    return loc.inner_text()


def assert_view(page, data_name: str, step: int, n: int) -> None:
    assert page.get_by_role("heading", name="Step-through").first.is_visible()
    assert sidebar(page).get_by_text(data_name).first.is_visible()
    assert step_caption(page).startswith(f"Step {step} of {n}:")
    assert f"Step {step} of {n}" in (page.locator(".gtitle").first.text_content() or "")   # the figure too


def open_fresh(browser, st_helpers, link: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    st_helpers.watch_page(page)
    page.goto(link, wait_until="domcontentloaded")
    st_helpers.wait_for_app(page)
    return context, page


def assert_view_in_fresh_browser(browser, st_helpers, link: str, name: str, step: int, n: int) -> None:
    """The link opens the same view in a fresh browser context, and a reload keeps it."""
    context, fresh = open_fresh(browser, st_helpers, link)
    try:
        st_helpers.assert_no_exception(fresh)
        assert_view(fresh, name, step, n)
        fresh.reload(wait_until="domcontentloaded")
        st_helpers.wait_for_app(fresh)
        assert_view(fresh, name, step, n)
        st_helpers.assert_clean_page(fresh)
    finally:
        context.close()


def test_link_at_step_k_of_a_generated_set(st_app, browser, st_helpers, dev_models_dir):
    page = st_app.page
    st_app.open("", name="links: data page")
    # N = 60 (the slider, with the keyboard), seed 1234, Generate
    thumb = page.get_by_role("slider", name="Number of points N")
    thumb.wait_for(state="visible", timeout=90_000)
    thumb.focus()
    for _ in range(40):
        thumb.press("ArrowLeft")
    seed = page.get_by_role("spinbutton", name="Seed").first
    seed.fill("1234")
    st_app.measure("links: generate", lambda: page.get_by_role("button", name="Generate", exact=True).click())
    name = "Mixture of Gaussians (2-D, N=60, seed 1234)"
    assert sidebar(page).get_by_text(name).first.is_visible()
    st_app.measure("links: to step through", lambda: sidebar(page).get_by_role("link", name="Step through").click())
    step = page.get_by_role("button", name="Step", exact=True)
    for _ in range(9):
        st_app.measure("links: step", lambda: step.click())
    assert_view(page, name, 10, 60)
    assert "step=10" in page.url and "seed=1234" in page.url      # the address bar is a link too
    link = copied_link(st_app)
    assert "/step_through?" in link and "n=60" in link

    assert_view_in_fresh_browser(browser, st_helpers, link, name, 10, 60)

    page.reload(wait_until="domcontentloaded")                    # F5 in the teacher's own tab
    st_app.wait()
    assert_view(page, name, 10, 60)
    st_app.assert_no_exception()


def test_link_to_a_bundled_real_set(st_app, browser, st_helpers, dev_models_dir):
    page = st_app.page
    st_app.open("/step_through?data=real&name=iris&step=7", name="links: iris at step 7")
    st_app.assert_no_exception()
    name = "Iris (150 rows, 4 features)"
    assert_view(page, name, 7, 150)
    link = copied_link(st_app)
    assert "data=real" in link and "name=iris" in link and "step=7" in link
    assert_view_in_fresh_browser(browser, st_helpers, link, name, 7, 150)


def test_broken_link_falls_back_with_one_line(st_app, dev_models_dir):
    page = st_app.page
    st_app.open("/step_through?data=generated&n=abc&alpha=50&step=2", name="links: broken link")
    st_app.assert_no_exception()
    notice = page.get_by_text(re.compile(r"^Part of this link could not be used")).first
    assert notice.is_visible()
    text = notice.inner_text()
    assert "n=abc" in text and "alpha=50" in text and "\n" not in text.strip()
    assert step_caption(page).startswith("Step 2 of 100:")
