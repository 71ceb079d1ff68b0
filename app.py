"""GFNCP Explorer: the Streamlit entry point.

Page-independent set-up (page config, one torch thread), the navigation over pages/, and the
sidebar every page shares. Run with `make run` or `streamlit run app.py`.
"""
from pathlib import Path

import streamlit as st

from gfncp.runtime import configure_torch
from gfncp.ui import url_state
from gfncp.ui.busy import page_run
from gfncp.ui.intro import show_intro
from gfncp.ui.prefetch import prefetch_current_set
from gfncp.ui.sidebar import render_sidebar
from gfncp.ui.warm_up import start_warm_up

HERE = Path(__file__).resolve().parent
# The icon is a file the server serves itself: a :material/...: icon would be fetched from a font host.
st.set_page_config(page_title="GFNCP Explorer", layout="wide", page_icon=str(HERE / "assets" / "icon.png"))

# One intra-op thread (the models run many tiny sequential steps), subnormals flushed: gfncp/runtime.py.
configure_torch(1)

PAGES = [  # (file, title, icon, url_path)
    ("pages/data.py", "Data", ":material/scatter_plot:", "data"),
    ("pages/step_through.py", "Step through", ":material/step:", "step_through"),
    ("pages/state_graph.py", "State graph", ":material/account_tree:", "state_graph"),
    ("pages/order_invariance.py", "Order invariance", ":material/shuffle:", "order_invariance"),
    ("pages/uncertainty.py", "Uncertainty", ":material/blur_on:", "uncertainty"),
    ("pages/about.py", "About", ":material/info:", "about"),
]

HOME = "data"   # the default page: Streamlit serves it at the root URL (its own url_path stays
                # reserved, unreachable: "home" here, so that HOME's path is free for the alias below)

pages = {
    url: st.Page(str(HERE / path), title=title, icon=icon, url_path=url if url != HOME else "home",
                 default=(url == HOME))
    for path, title, icon, url in PAGES
}


def send_home() -> None:
    st.switch_page(pages[HOME])


# Streamlit answers the default page's own path (/data) with a "Page not found" dialog; a hidden
# page there sends visitors who type it, or follow an old link, to the root instead (before the
# sidebar is drawn for nothing).
home_alias = st.Page(send_home, title="Data", url_path=HOME, visibility="hidden")
current = st.navigation([*pages.values(), home_alias])
if current is home_alias:
    send_home()
page_key = next(url for url, page in pages.items() if page is current)
linked = url_state.restore(page_key)     # a link, a reload: rebuild its view before anything is drawn
render_sidebar()
url_state.share_box(page_key, "" if page_key == HOME else page_key)
url_state.show_notice()
show_intro(pages, opened_with_link=linked)
try:
    with page_run():     # background prefetchers start no new call meanwhile (gfncp/ui/busy.py)
        current.run()
finally:                 # also after st.stop(): the address bar is always a link to this view
    url_state.publish(page_key)
start_warm_up()      # after the first page is on screen: imports the later pages need
prefetch_current_set()   # the heavy pages' work for this data set, in the background
