"""Smoke test: the app starts on its Data page with data on screen, in a real browser."""

import pytest

pytestmark = pytest.mark.browser


def test_app_opens_without_error(st_app):
    seconds = st_app.open("", name="home")
    st_app.assert_no_exception()
    page = st_app.page
    assert page.title() == "GFNCP Explorer"
    assert page.get_by_role("heading", name="Data").first.is_visible()
    # a newcomer lands on a page with data already plotted
    assert page.locator('[data-testid="stPlotlyChart"]').first.is_visible()
    path = st_app.screenshot("smoke_home")
    assert path.stat().st_size > 0
    assert seconds > 0


def test_error_detection_sees_streamlit_error_boxes(page, st_helpers):
    """The harness itself: an exception box is reported once (its inner alert is not
    counted again), hidden boxes are ignored."""
    page.set_content(
        """
        <div data-testid="stException" class="stException">
          <div data-testid="stAlertContentError">RuntimeError: kaboom</div>
        </div>
        <div data-testid="stAlertContentError">plain st.error box</div>
        <div data-testid="stAlertContentError" style="display:none">hidden</div>
        <div data-testid="stAlertContentInfo">just info</div>
        """
    )
    errors = st_helpers.visible_errors(page)
    assert errors == ["RuntimeError: kaboom", "plain st.error box"]
