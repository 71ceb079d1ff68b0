"""Render times on the largest set the speed target covers (N = 500): generate it on the Data
page, then open every page through the sidebar. The times are printed in the pytest summary
(targets live there and in the README, not in assertions); this test checks that every page
finishes without an error and shows its charts."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

PAGES = ["Step through", "Order invariance", "Uncertainty", "About"]


def test_every_page_on_a_500_point_set(dev_models_dir, st_app):
    page = st_app.page
    st_app.open("", name="data (before N = 500)")
    thumb = page.get_by_role("slider", name="Number of points N")
    thumb.focus()
    for _ in range(4):                      # PageUp moves the slider by 100: 100 -> 500
        thumb.press("PageUp")
    st_app.measure("data: generate N = 500", lambda: page.get_by_role("button", name="Generate").click())
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert re.search(r"N = 500 points", sidebar.inner_text())
    for title in PAGES:
        link = page.locator('[data-testid="stSidebarNav"] a', has_text=title).first
        st_app.measure(f"N=500: sidebar -> {title}", lambda: link.click(), timeout=240)
        st_app.assert_no_exception()
        assert re.search(r"N = 500 points", sidebar.inner_text())
        if title != "About":
            assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1, title
