"""Robust per-feature standardisation of one set: the single home of the rule that makes a
model's answer independent of the units of each feature.

    z = (x - median) / spread,   spread = IQR / 1.349  (= the std for Gaussian data)

falling back to the standard deviation when the IQR is zero (a feature with few distinct
values) and leaving a constant feature at 0. Median and quantiles are equivariant under
translation and positive rescaling, so z is the same (up to float rounding) whatever the
units, and it does not depend on the order of the points. A numpy version serves the
input mapping (gfncp.broad_prior.to_model_space, routing) and a torch version the network.
"""
from __future__ import annotations

import numpy as np
import torch

IQR_TO_STD = 1.349        # interquartile range of a standard normal


def robust_standardize_np(X: np.ndarray) -> np.ndarray:
    """(N, d) -> (N, d) float64, each feature centred on its median and divided by its
    robust spread."""
    X = np.asarray(X, dtype=np.float64)
    med = np.median(X, axis=0)
    q1, q3 = np.quantile(X, [0.25, 0.75], axis=0)
    spread = (q3 - q1) / IQR_TO_STD
    std = X.std(axis=0)
    spread = np.where(spread > 0, spread, std)
    return (X - med) / np.where(spread > 0, spread, 1.0)


def robust_standardize(X: torch.Tensor, point_mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, N, d) -> (B, N, d): every set standardised per feature over its real points
    (point_mask (B, N) True; padded points are ignored in the statistics)."""
    Xs = X if point_mask is None else torch.where(point_mask[..., None], X, torch.nan)
    q = torch.nanquantile(Xs, torch.tensor([0.25, 0.5, 0.75], dtype=X.dtype, device=X.device),
                          dim=1, keepdim=True)                      # (3, B, 1, d)
    spread = (q[2] - q[0]) / IQR_TO_STD
    if point_mask is None:
        std = X.std(dim=1, keepdim=True, unbiased=False)
    else:
        m = point_mask[..., None].to(X.dtype)
        count = m.sum(1, keepdim=True).clamp_min(1)
        mean = (X * m).sum(1, keepdim=True) / count
        std = (((X - mean) ** 2 * m).sum(1, keepdim=True) / count).sqrt()
    spread = torch.where(spread > 0, spread, std)
    spread = torch.where(spread > 0, spread, torch.ones_like(spread))
    out = (X - q[1]) / spread
    return out if point_mask is None else torch.where(point_mask[..., None], out, torch.zeros_like(out))
