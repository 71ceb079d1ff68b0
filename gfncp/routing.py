"""Which shipped model pair serves a data set, and how a set is mapped into its input space.

Pairs (GFNCP and its NCP twin, same architecture, data and budget):
- "mog2d":  2-D sets;
- "mog16d": every other dimension d >= 3: zero-padded to 16 when d < 16, projected onto
            its first 16 principal axes when d > 16 (per set, so order-invariant);
- "digits": scikit-learn digits tasks (64-D pixel vectors in [0, 1]);
- "general": real tables, uploads, anything the textbook pairs do not fit: trained on the
            broad prior (gfncp.broad_prior) in any units; every set is standardised per
            feature, then zero-padded or projected to 16 features (broad_prior.to_model_space).

The textbook pairs stay the default for sets generated from their own prior, where the exact
posterior and Gibbs are the true reference.
"""
from __future__ import annotations

import numpy as np

from .projection import pca_project

PAIRS = {"mog2d": 2, "mog16d": 16, "digits": 64, "general": 16}
GENERAL = "general"


def pair_names(pair: str) -> tuple[str, str]:
    return f"gfncp-{pair}", f"ncp-{pair}"


def pair_of_model(name: str) -> str | None:
    """The pair a shipped model belongs to ("gfncp-general" -> "general"); None otherwise."""
    kind, _, pair = (name or "").partition("-")
    return pair if kind in ("gfncp", "ncp") and pair in PAIRS else None


def default_pair(dim: int, source: str = "generated") -> str:
    """The pair that fits a set: sets generated from the textbook prior -> mog2d (2-D) or
    mog16d; digits tasks -> digits; real tables, uploads and anything else -> general."""
    if source == "digits" and dim == 64:
        return "digits"
    if source == "generated":
        return "mog2d" if dim == 2 else "mog16d"
    return GENERAL


def why_pair(pair: str, source: str = "generated") -> str:
    """One line on why `pair` serves a set from `source` (the sidebar shows it)."""
    if pair == GENERAL:
        return ("general pair: trained on many kinds of synthetic tables, in any units "
                "(each feature standardised inside the model)")
    if pair == "digits":
        return "digits pair: trained on scikit-learn digits tasks"
    if source == "generated":
        return "textbook pair: trained on the prior this set was generated from"
    return "textbook pair: trained on isotropic clusters of std 1 (the set is rescaled to those units)"


def fitting_pairs(dim: int, source: str = "generated") -> list[str]:
    """Every pair that can serve a set of this dimension (the default first)."""
    pairs = [default_pair(dim, source)]
    if dim == 2 and "mog2d" not in pairs:
        pairs.append("mog2d")
    if dim >= 3 and "mog16d" not in pairs:
        pairs.append("mog16d")
    if dim == 64 and "digits" not in pairs:
        pairs.append("digits")
    if GENERAL not in pairs:
        pairs.append(GENERAL)
    return pairs


def map_to_pair(X: np.ndarray, pair: str) -> np.ndarray:
    """A set (N, d) in the input space of `pair`'s models: the general pair standardises per
    feature and pads or projects (broad_prior.to_model_space); the others pad or project
    (fit_dimension) in the units they are given."""
    if pair == GENERAL:
        from .broad_prior import to_model_space
        return to_model_space(np.asarray(X, dtype=np.float64), PAIRS[pair])
    return fit_dimension(X, PAIRS[pair])


def fit_dimension(X: np.ndarray, dim: int) -> np.ndarray:
    """Map a set (N, d) to (N, dim): identity, zero-padding, or per-set PCA projection.

    PCA directions are fixed in sign (largest-magnitude loading positive) so that the result
    does not depend on the order of the points.
    """
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    if d == dim:
        return X
    if d < dim:
        return np.hstack([X, np.zeros((len(X), dim - d))])
    return pca_project(X, dim)     # d > dim; fewer points than dim: zero columns
