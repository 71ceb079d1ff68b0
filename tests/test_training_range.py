"""Notes for sets outside a model's training data (gfncp/ui/training_range.py)."""
from __future__ import annotations

import numpy as np

from gfncp.ui.state import Dataset
from gfncp.ui.training_range import describe, training_range_notes

MOG = {"training": {"dataset": "mog", "dim": 2, "alpha": 0.7, "sigma": 1.0, "lam": 10.0, "n_min": 5, "n_max": 200}}
DIGITS = {"training": {"dataset": "digits", "dim": 64, "n_min": 5, "n_max": 200}}


def _ds(n, d, source="generated", **params):
    X = np.random.default_rng(0).normal(size=(n, d))
    return Dataset("x", X, None, source, params)


def test_inside_the_range_says_nothing():
    ds = _ds(100, 2, alpha=0.7, sigma=1.0, lam=10.0)
    assert training_range_notes(ds, 2, MOG, "gfncp-mog2d") == []
    assert describe([]) == ""


def test_too_many_points_and_other_prior():
    ds = _ds(1000, 2, alpha=0.7, sigma=2.5, lam=10.0)
    notes = training_range_notes(ds, 2, MOG, "gfncp-mog2d")
    assert notes[0] == ("this set has 1000 points; gfncp-mog2d was trained on sets of 5–200 points, "
                        "so here it extrapolates")
    assert notes[1] == "generated with σ = 2.5 (trained with σ = 1)"
    assert describe(notes).startswith("Outside the training range: this set has 1000 points")


def test_dimension_mapping_is_named():
    card = {"training": {**MOG["training"], "dim": 16}}
    pad = training_range_notes(_ds(50, 13, source="upload"), 16, card, "gfncp-mog16d")
    assert pad == ["the 13-D set is zero-padded to the 16 dimensions gfncp-mog16d reads"]
    proj = training_range_notes(_ds(50, 40, source="upload"), 16, card, "gfncp-mog16d")
    assert proj[0].startswith("the 40-D set is projected onto its first 16 principal axes for gfncp-mog16d (")
    assert "% of its variance kept" in proj[0]


def test_digits_model_on_other_data():
    notes = training_range_notes(_ds(50, 64, source="upload"), 64, DIGITS, "gfncp-digits")
    assert notes == ["gfncp-digits was trained on 8x8 digit images (pixel values 0–1), not on this kind of data"]


def test_general_pair_saw_its_mapping_in_training():
    """The general pair was trained on tables of 2 to 24 features mapped to 16 as uploads are:
    a 4-D or 20-D table is inside its range; a 64-D one is projected beyond it."""
    card = {"training": {"dataset": "broad", "dim": 16, "n_min": 10, "n_max": 300}, "broad_prior": {"dims": [2, 24]}}
    assert training_range_notes(_ds(150, 4, source="real"), 16, card, "gfncp-general") == []
    assert training_range_notes(_ds(150, 20, source="upload"), 16, card, "gfncp-general") == []
    wide = training_range_notes(_ds(150, 64, source="upload"), 16, card, "gfncp-general")
    assert len(wide) == 1 and wide[0].startswith("the 64-D set is projected onto its first 16 principal axes")
