"""Plotly figure builders: pure functions `data -> plotly.graph_objects.Figure`.

One module per topic (palette.py: the shared cluster colours; data_views.py: point sets,
projections, digit thumbnails, scaling previews, the state-tree diagram; the other pages'
modules beside them). Nothing here imports Streamlit; import the submodule you need.
"""
