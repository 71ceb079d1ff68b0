"""The first visit: what the app is, in three sentences and a picture, and a short tour.

`show_intro(pages)` draws, at the top of the first page a browser session opens without a link
to a view (a shared link goes straight to its view), a box with the introduction and the tour:
preset views, each one click away (st.page_link with the view's query: gfncp/ui/url_state.py
rebuilds it) and each a plain link to share. "Got it" hides the box for the session; the About
page keeps the same tour.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Preset:
    label: str
    page: str          # key of app.py's PAGES
    query: dict        # the view: data source, parameters, page settings
    why: str           # what it shows, honestly

    def available(self) -> bool:
        if self.query.get("data") == "real":
            from .sources import REAL_LOADERS
            return self.query.get("name") in REAL_LOADERS
        return True


def _mog(n: int, seed: int, **more) -> dict:
    return {"data": "generated", "n": str(n), "dim": "2", "alpha": "0.7", "sigma": "1", "lam": "10",
            "seed": str(seed), **more}


# Seeds chosen by measuring the sets (K, smallest distance between true centres in units of sigma):
# 51: K = 3, centres >= 10.5 sigma apart; 377: K = 3, two centres 2 sigma apart; 3: five points, 3 clusters.
PRESETS = (
    Preset("Well separated", "step_through", _mog(60, 51),
           "60 points in three clusters far apart: watch the policy assign them step by step."),
    Preset("Overlapping", "uncertainty", _mog(60, 377),
           "two of three clusters overlap: the posterior is unsure, and the Uncertainty page shows where."),
    Preset("Five points, whole graph", "state_graph", _mog(5, 3),
           "every state of the GFlowNet for five points, with q under all 120 orders and the exact posterior."),
    Preset("Digits task", "order_invariance", {"data": "digits", "k": "3", "n": "60", "split": "test", "seed": "0"},
           "60 held-out handwritten digits of three classes, fed in 50 orders: whose answer moves?"),
    Preset("A real data set", "uncertainty", {"data": "real", "name": "iris"},
           "150 iris flowers (4 measurements, three species), in centimetres, for the general pair."),
)

SEEN_KEY = "intro_seen"

INTRO = (
    "**GFNCP Explorer** shows a neural network clustering a set of points the way a person might: one point at "
    "a time, each joining a cluster or opening a new one, with a probability for every option. GFNCP trains "
    "that network as a *Generative Flow Network*: flows through the partial clusterings must balance, and then "
    "the probability of a finished clustering does not depend on the order the points came in. NCP, the same "
    "network trained without flows, is shown beside it, and so is the exact answer where it can be computed."
)


def page_files() -> dict:
    """{page key: its file}, for a page outside app.py (About) that shows the tour: st.page_link
    accepts a page's file path as well as app.py's st.Page objects."""
    root = Path(__file__).resolve().parents[2]          # the repository: app.py and pages/
    return {p.page: str(root / "pages" / f"{p.page}.py") for p in PRESETS}


def tour(pages: dict, key: str) -> None:
    """The presets as links (one click each), each with a line on what it shows. pages: {page key:
    st.Page or file path}."""
    import streamlit as st

    for p in PRESETS:
        if not p.available() or p.page not in pages:
            continue
        # A link's label is one line (a long one is cut with an ellipsis): the why goes under it.
        st.page_link(pages[p.page], label=f"**{p.label}**", query_params=p.query, icon=":material/arrow_forward:")
        st.caption(p.why)


def _dismiss() -> None:
    import streamlit as st
    st.session_state[SEEN_KEY] = True


def show_intro(pages: dict, opened_with_link: bool) -> None:
    """The introduction box, once per browser session (not when the session began with a link)."""
    import streamlit as st

    from ..figures.intro_picture import three_point_svg

    if st.session_state.get(SEEN_KEY):
        return
    if opened_with_link:
        st.session_state[SEEN_KEY] = True
        return
    with st.container(border=True, key="intro"):
        text, picture = st.columns([3, 2], gap="medium")
        with text:
            st.markdown("#### New here? Start with one of these")
            st.markdown(INTRO)
            tour(pages, "intro")
            st.button("Got it: hide this", key="intro_dismiss", on_click=_dismiss, icon=":material/check:")
        with picture:
            st.image(three_point_svg())
            st.caption("Three points a, b, c: two orders pass through different partial clusterings to the same "
                       "clustering {a b}{c}. With balanced flows both give it the same probability. The About page "
                       "explains more; docs/method.md in the repository has the mathematics.")
