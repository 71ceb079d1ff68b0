"""How hard a broad prior's sets are for classical clustering: mean NMI of a BIC-selected
Gaussian mixture (K <= 6) and of k-means given the true K on 20 of its sets of N = 100,
mapped as the general pair maps them. Compare with the same methods on real tables
(docs/results-real-data.md) to see whether the prior is as hard as the data it stands for.

    python scripts/probe_prior.py                                  # the shipped BroadPrior
    python scripts/probe_prior.py "dict(separation=(1.0, 16.0))"   # with some fields changed
"""
from __future__ import annotations

import sys

import numpy as np

from gfncp import references
from gfncp.broad_prior import BroadPrior, make_broad, to_model_space
from gfncp.metrics import nmi


def probe(prior: BroadPrior, n_sets: int = 20, n_points: int = 100, seed: int = 10123) -> dict:
    rng = np.random.default_rng(seed)
    bic, km, ks = [], [], []
    for _ in range(n_sets):
        X, y = make_broad(n_points, seed=rng, prior=prior)
        Z = to_model_space(X, prior.model_dim)[:, :min(X.shape[1], prior.model_dim)]
        bic.append(nmi(y, references.bic_gmm(Z, max_components=6).labels))
        km.append(nmi(y, references.kmeans(Z, int(y.max()) + 1).labels))
        ks.append(int(y.max()) + 1)
    return {"bic_gmm_nmi": float(np.mean(bic)), "kmeans_true_k_nmi": float(np.mean(km)), "mean_k": float(np.mean(ks))}


if __name__ == "__main__":
    changes = eval(sys.argv[1], {"__builtins__": {"dict": dict}}) if len(sys.argv) > 1 else {}
    print(probe(BroadPrior(**changes)))
