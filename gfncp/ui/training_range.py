"""Say when a data set lies outside what a model was trained on, and what was mapped.

    notes = training_range_notes(ds, model_dim, card)     # plain strings, no Streamlit
    show_training_range(ds, model)                         # one caption under a page's header

A model card's "training" block records the set sizes (n_min..n_max), the input dimension and,
for the Gaussian-mixture models, the prior (alpha, sigma, lam) the model learned from. A set
outside them still runs, but its answers are extrapolation: the pages say so instead of
staying silent.
"""
from __future__ import annotations

import numpy as np


def _num(x) -> str:
    return f"{float(x):g}"


def training_range_notes(ds, model_dim: int, card: dict, name: str = "the model") -> list[str]:
    """One sentence per way the set `ds` (a gfncp.ui.state.Dataset) differs from `card`'s training data."""
    t = (card or {}).get("training") or {}
    notes = []
    n_min, n_max = t.get("n_min"), t.get("n_max")
    if n_max is not None and ds.n > n_max:
        notes.append(f"this set has {ds.n} points; {name} was trained on sets of {n_min}–{n_max} points, "
                     "so here it extrapolates")
    elif n_min is not None and ds.n < n_min:
        notes.append(f"this set has {ds.n} points; {name} was trained on sets of {n_min}–{n_max} points")
    trained_dims = ((card or {}).get("broad_prior") or {}).get("dims")   # the general pair saw these, mapped alike
    mapped_in_training = trained_dims is not None and trained_dims[0] <= ds.dim <= trained_dims[1]
    if ds.dim != model_dim and not mapped_in_training:
        if ds.dim < model_dim:
            notes.append(f"the {ds.dim}-D set is zero-padded to the {model_dim} dimensions {name} reads")
        else:
            X = np.asarray(ds.X, dtype=np.float64)
            s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
            kept = float(np.sum(s[:model_dim] ** 2) / max(float(np.sum(s ** 2)), 1e-300))
            notes.append(f"the {ds.dim}-D set is projected onto its first {model_dim} principal axes for {name} "
                         f"({kept:.0%} of its variance kept)")
    if t.get("dataset") == "mog" and ds.source == "generated":
        differ = [f"{sym} = {_num(ds.params[k])} (trained with {sym} = {_num(t[k])})"
                  for k, sym in (("alpha", "α"), ("sigma", "σ"), ("lam", "λ"))
                  if k in ds.params and t.get(k) is not None and not np.isclose(float(ds.params[k]), float(t[k]))]
        if differ:
            notes.append("generated with " + ", ".join(differ))
    if t.get("dataset") == "digits" and ds.source not in ("digits",):
        notes.append(f"{name} was trained on 8x8 digit images (pixel values 0–1), not on this kind of data")
    return notes


def describe(notes: list[str]) -> str:
    if not notes:
        return ""
    text = "; ".join(notes)
    return "Outside the training range: " + text[0].lower() + text[1:] + "."


def show_training_range(ds, model) -> None:
    """A caption under the page's header when the set lies outside `model`'s training data."""
    import streamlit as st

    text = describe(training_range_notes(ds, model.dim, getattr(model, "card", {}) or {}, model.name or model.kind))
    if text:
        st.caption(f":material/warning: {text}")
