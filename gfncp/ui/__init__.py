"""Streamlit glue shared by the pages: session state, cached models, the sidebar.

Only the app imports this package; the rest of gfncp never imports Streamlit.
"""
