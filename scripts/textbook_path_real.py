"""The textbook pairs on the real-data suite, through the upload path they had before the
general pair: the automatic scale (gfncp.scaling.estimate_scale), zero-padding or projection
(routing.fit_dimension), mog2d for 2-D tables and mog16d otherwise; NMI of greedy decoding in file order and of the consensus of 16 random
orders (the default path's decoding). The comparison that docs/general-pair.md quotes.

    python scripts/textbook_path_real.py
"""
from __future__ import annotations

import numpy as np

from gfncp import routing
from gfncp.evaluate_real import real_sets
from gfncp.metrics import nmi
from gfncp.registry import load_pretrained
from gfncp.runtime import configure_torch
from gfncp.scaling import estimate_scale

if __name__ == "__main__":
    configure_torch(1)
    for kind in ("gfncp", "ncp"):
        scores = []
        for name, X, y in real_sets():
            model = load_pretrained(f"{kind}-{'mog2d' if X.shape[1] == 2 else 'mog16d'}")
            Z = routing.fit_dimension(X / estimate_scale(X), model.dim)
            greedy, agreed = model.greedy(Z), model.consensus(Z).labels
            scores.append((nmi(y, greedy), nmi(y, agreed)))
            print(f"{model.name}: {name} NMI greedy {scores[-1][0]:.3f} (K={greedy.max() + 1}), "
                  f"consensus {scores[-1][1]:.3f} (K={agreed.max() + 1})", flush=True)
        mean = np.mean(scores, axis=0)
        print(f"{kind}: mean NMI greedy {mean[0]:.3f}, consensus {mean[1]:.3f} over {len(scores)} sets")
