"""The textbook prior: the generative model the shipped mixture networks were trained on.

    partition c ~ CRP(alpha)                  alpha = 0.7
    centre mu_k ~ N(0, lam^2 I)               lam   = 10
    point x ~ N(mu_{c_i}, sigma^2 I)          sigma = 1  (the models' units)

(docs/method.md §The generative model). Everything that means "the prior the models know"
(data generation defaults, the exact posterior and Gibbs references, the scaling
calibration, the app's default set and its texts) reads it from `TEXTBOOK`, so that the
three numbers have one home.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TextbookPrior:
    """CRP mixture of isotropic Gaussians: concentration alpha, within-cluster std sigma,
    std lam of the cluster centres around 0."""

    alpha: float = 0.7
    sigma: float = 1.0
    lam: float = 10.0

    def as_dict(self) -> dict:
        """{"alpha", "sigma", "lam"}: keyword arguments for make_mog, gibbs, exact_posterior."""
        return asdict(self)

    def describe(self) -> str:
        """The prior in the app's words: "CRP(α = 0.7) prior, σ = 1, λ = 10"."""
        return f"CRP(α = {self.alpha:g}) prior, σ = {self.sigma:g}, λ = {self.lam:g}"


TEXTBOOK = TextbookPrior()
