"""Order-invariance page in a real browser: it renders, "Shuffle once" works, no error box."""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def test_order_invariance_page_and_shuffle(st_app):
    page = st_app.page
    # Start on the home page and follow the sidebar link, as a user does.
    st_app.open("", name="home (before order invariance)")
    link = page.locator('[data-testid="stSidebarNav"] a', has_text="Order invariance").first
    st_app.measure("order_invariance", lambda: link.click(), timeout=180)
    assert urlparse(page.url).path.rstrip("/").endswith("/order_invariance")
    st_app.assert_no_exception()
    assert page.get_by_role("heading", name="Order invariance").first.is_visible()
    assert page.get_by_text("probability for the same clustering").first.is_visible()
    assert page.get_by_text("summed flow residual").first.is_visible()

    button = page.get_by_role("button", name="Shuffle once")
    button.scroll_into_view_if_needed()
    st_app.measure("order_invariance: shuffle once", lambda: button.click())
    st_app.assert_no_exception()
    assert page.get_by_text("Shuffle #1").first.is_visible()
    page.mouse.move(5, 5)                    # no tooltip over the screenshot
    # show the shuffle result: its section heading at the top of the viewport
    page.get_by_role("heading", name="3 · Shuffle once").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    path = st_app.screenshot("order_invariance")
    assert path.stat().st_size > 0
