"""gfncp.scaling.estimate_scale: X / scale has within-cluster standard deviation about 1."""
from __future__ import annotations

import numpy as np
import pytest

from gfncp import scaling
from gfncp.data import make_mog


@pytest.mark.parametrize("dim", [2, 5, 16, 64])
@pytest.mark.parametrize("n_points", [50, 200, 800])
@pytest.mark.parametrize("s", [0.2, 1.0, 7.0])
def test_estimate_is_close_to_sigma(dim, n_points, s):
    """Sets with sigma = s (centres scaled alike, lambda = 10 s: the same sets in other
    units): the median over 5 seeds is within 15 % of s, and at least 4 of 5 are within 30 %."""
    ratios = np.array([scaling.estimate_scale(make_mog(n_points, dim, 0.7, s, 10.0 * s, seed=100 + i)[0]) / s
                       for i in range(5)])
    assert abs(np.median(ratios) - 1) < 0.15, ratios
    assert np.sum(np.abs(ratios - 1) < 0.3) >= 4, ratios


@pytest.mark.parametrize("s", [0.3, 0.6])
def test_estimate_with_the_models_prior_centres(s):
    """Narrower clusters around the models' usual centres (lambda = 10) are measured too."""
    for dim in (2, 16):
        est = scaling.estimate_scale(make_mog(300, dim, 0.7, s, 10.0, seed=7)[0])
        assert abs(est / s - 1) < 0.3, (dim, est)


def test_scale_equivariant_and_order_invariant():
    X, _ = make_mog(150, 3, seed=3)
    base = scaling.estimate_scale(X)
    assert scaling.estimate_scale(4.5 * X) == pytest.approx(4.5 * base, rel=1e-9)
    assert scaling.estimate_scale(X + 100.0) == pytest.approx(base, rel=1e-6)
    perm = np.random.default_rng(0).permutation(len(X))
    assert scaling.estimate_scale(X[perm]) == pytest.approx(base, rel=1e-9)


def test_large_sets_are_subsampled_deterministically():
    X, _ = make_mog(scaling.MAX_POINTS + 500, 2, seed=4)
    a = scaling.estimate_scale(X)
    perm = np.random.default_rng(1).permutation(len(X))
    assert scaling.estimate_scale(X[perm]) == pytest.approx(a, rel=1e-9)
    assert abs(a - 1) < 0.3


def test_calibration_table_matches_its_recomputation():
    assert scaling.calibration_constant(2) == pytest.approx(scaling.CALIBRATION[2], abs=2e-4)


def test_calibration_interpolates_between_dimensions():
    c = scaling.calibration_value(10)
    lo, hi = sorted((scaling.CALIBRATION[8], scaling.CALIBRATION[12]))
    assert lo <= c <= hi
    assert scaling.calibration_value(200) == scaling.CALIBRATION[64]


@pytest.mark.parametrize("X", [
    np.zeros((10, 2)),                    # all identical
    np.array([[1.0, 2.0]]),               # one point
    np.array([[0.0, 0.0], [3.0, 4.0]]),   # two points
    np.repeat(np.array([[0.0, 0.0], [5.0, 5.0]]), 20, axis=0),  # heavy duplicates
])
def test_degenerate_sets_give_a_positive_finite_scale(X):
    s = scaling.estimate_scale(X)
    assert np.isfinite(s) and s > 0


def test_rejects_non_finite_input():
    with pytest.raises(ValueError):
        scaling.estimate_scale(np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]))
