"""GFNCP Explorer: Streamlit entry point (placeholder until the real app lands)."""

import streamlit as st

st.set_page_config(page_title="GFNCP Explorer", layout="wide")
st.title("GFNCP Explorer")
st.write(
    "Amortized probabilistic clustering with Generative Flow Networks: watch GFNCP assign "
    "points one by one, compare it with NCP, and inspect the uncertainty of its posterior."
)
