"""NMI of a training run's current checkpoint (consensus of orders, as the default path decodes,
and one greedy pass in file order) on the bundled real tables and two
held-out digits tasks, through the general pair's input mapping: a quick look at a run in
progress (minutes), before `python -m gfncp.evaluate_real` scores the exported pair.

    python scripts/probe_real.py runs/gfncp-general [runs/ncp-general ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from gfncp import data, routing
from gfncp.metrics import nmi
from gfncp.real_data import REAL_SETS, load_real
from gfncp.registry import load_run
from gfncp.runtime import configure_torch

DIGITS_PROBES = ((150, 3, 11), (200, 5, 12))     # (N, classes, seed), test split


def probe(run_dir: Path) -> None:
    model = load_run(run_dir)
    it = model.card["iteration"]
    sets = [(name, load_real(name).X, load_real(name).labels) for name in REAL_SETS]
    for n, k, seed in DIGITS_PROBES:
        X, y = data.make_digits_task(n, n_classes=k, split="test", seed=seed)
        sets.append((f"digits-{k}", X, y))
    scores = []
    with torch.inference_mode():
        for name, X, y in sets:
            Z = routing.map_to_pair(X, routing.GENERAL)
            labels, file_order = model.consensus(Z).labels, model.greedy(Z)
            scores.append((nmi(y, labels), nmi(y, file_order)))
            print(f"{run_dir.name} it {it}: {name} NMI {scores[-1][0]:.3f} (K={labels.max() + 1}); "
                  f"greedy in file order {scores[-1][1]:.3f} (K={file_order.max() + 1})", flush=True)
    mean = np.mean(scores, axis=0)
    print(f"{run_dir.name} it {it}: mean {mean[0]:.3f} (consensus of orders, the default path), "
          f"{mean[1]:.3f} (greedy in file order) over {len(scores)} sets")


if __name__ == "__main__":
    configure_torch(1)
    for arg in sys.argv[1:]:
        probe(Path(arg))
