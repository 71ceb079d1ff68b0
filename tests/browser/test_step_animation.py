"""Step through plays one animation with one set of controls: playing 30 steps shows, on every
frame the browser draws, as many policy bars as that step has options (read from the DOM), the
caption and the figure agree, and Pause / Step / Back move the same step."""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

pytestmark = pytest.mark.browser

_FRAME_JS = """() => {
  const cap = Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
                   .map(e => e.innerText).find(t => /^Step \\d+ of \\d+:/.test(t)) || '';
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const title = gd ? (gd.querySelector('.gtitle') || {}).textContent || '' : '';
  const bars = gd ? gd.querySelectorAll('.subplot.x2y2 .barlayer .trace.bars').length ?
      gd.querySelector('.subplot.x2y2 .barlayer .trace.bars').querySelectorAll('.point').length : 0 : 0;
  const ticks = gd ? gd.querySelectorAll('.yaxislayer-above .y2tick').length : 0;
  return {cap, title, bars, ticks};
}"""
STEP = re.compile(r"Step (\d+) of (\d+)")


def _step(text: str) -> int | None:
    m = STEP.search(text or "")
    return int(m.group(1)) if m else None


def test_play_30_steps_every_frame_has_every_option(st_app, dev_models_dir):
    import gfncp
    from gfncp.figures import step_through as stf
    from gfncp.ui.state import DEFAULT_MOG

    # the same set and model as the app's default view, to know each step's options independently
    X, _ = gfncp.data.make_mog(**DEFAULT_MOG)
    trace = gfncp.load_pretrained("gfncp-mog2d").trace(X)
    expected = [len(stf.bar_data(trace, n).labels) for n in range(trace.n_steps)]
    assert max(expected[:40]) >= 3                         # the later frames have more options than step 1

    page = st_app.page
    st_app.open("/step_through", name="step_through (animation)")
    st_app.assert_no_exception()
    assert page.locator(".updatemenu-button").count() == 0  # no second set of controls inside the figure
    play = page.get_by_role("button", name="Play", exact=True)
    play.click()
    seen: dict[int, tuple] = {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        f = page.evaluate(_FRAME_JS)
        cap, fig = _step(f["cap"]), _step(f["title"])
        if cap is not None and cap == fig and f["bars"]:
            seen.setdefault(cap, (f["bars"], f["ticks"]))
        if seen and max(seen) >= 31:
            break
        time.sleep(0.05)
    assert seen and max(seen) >= 31, f"playback stalled: frames seen {sorted(seen)}"
    wrong = {s: (b, t, expected[s - 1]) for s, (b, t) in seen.items() if b != expected[s - 1] or t != expected[s - 1]}
    assert not wrong, f"frames whose policy chart misses options (bars, labels, options): {wrong}"
    assert len(seen) >= 10, f"too few frames drawn while playing: {sorted(seen)}"

    # Pause stops the one step; Step and Back move that same step
    page.get_by_role("button", name="Pause", exact=True).click()
    st_app.wait(expect_rerun=True)
    paused = _step(page.evaluate(_FRAME_JS)["cap"])
    time.sleep(1.0)
    st_app.wait()
    f = page.evaluate(_FRAME_JS)
    assert _step(f["cap"]) == paused == _step(f["title"]), "Pause did not stop the animation"
    st_app.measure("step_through: Step after Pause", lambda: page.get_by_role("button", name="Step", exact=True).click())
    f = page.evaluate(_FRAME_JS)
    assert _step(f["cap"]) == paused + 1 == _step(f["title"])
    assert f["bars"] == expected[paused]
    assert f"step={paused + 1}" in page.url
    st_app.measure("step_through: Back", lambda: page.get_by_role("button", name="Back", exact=True).click())
    assert _step(page.evaluate(_FRAME_JS)["cap"]) == paused
    st_app.assert_no_exception()
