"""Quick paired screen of order invariance for training checkpoints (not the full evaluation).

    .venv/bin/python scripts/screen_invariance.py GFNCP_CHECKPOINT [NCP_CHECKPOINT] [--sets 40]
    .venv/bin/python scripts/screen_invariance.py gfncp-mog2d ncp-mog2d      # the shipped pair

For sets of N=30 (2-D mixtures, seeds 1000..), 30 random orders each: the std over orders of log q
of each model's own greedy clustering (mean / median / p90), the share of sets on which the GFNCP
checkpoint's spread is below the NCP's, GFNCP's mean flow-consistency gap, and GFNCP's spread on the
sets whose greedy clustering is / is not the true one. The NCP side defaults
to runs/ncp-mog2d/checkpoint.pt. Used to choose between training variants before running
`python -m gfncp.evaluate`. Its measures are the old ones: each model's OWN greedy clustering
(which rewards a confident model) and the mean flow gap (a per-set level that does not depend on
the order); scripts/screen_order_consistency.py scores the same clusterings with both models.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from gfncp import data, list_pretrained, load_pretrained
from gfncp.metrics import ari
from gfncp.runtime import configure_torch
from gfncp.clusterer import Clusterer
from gfncp.network import NetworkConfig, SetNetwork
from gfncp.train import preset


def load(path: str, kind: str) -> Clusterer:
    """A shipped model by name (e.g. gfncp-mog2d), or a run's checkpoint with the network of the
    run's config.json (else the mog2d preset's)."""
    if not Path(path).exists() and path in list_pretrained():
        return load_pretrained(path)
    config = Path(path).parent / "config.json"
    network = (NetworkConfig.from_dict(json.loads(config.read_text())["network"]) if config.exists()
               else preset("mog2d", kind).network)
    net = SetNetwork(network)
    net.load_state_dict(torch.load(path, weights_only=True)["model"])
    return Clusterer(net.eval(), kind)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("gfncp")
    p.add_argument("ncp", nargs="?", default="runs/ncp-mog2d/checkpoint.pt")
    p.add_argument("--sets", type=int, default=40)
    a = p.parse_args()
    configure_torch(1)
    models = {"gfncp": load(a.gfncp, "gfncp"), "ncp": load(a.ncp, "ncp")}
    rng = np.random.default_rng(0)
    stds = {k: [] for k in models}
    gaps, found_truth = [], []
    for i in range(a.sets):
        X, y = data.make_mog(30, seed=1000 + i)
        orders = np.stack([rng.permutation(30) for _ in range(30)])
        for kind, model in models.items():
            greedy = model.greedy(X)
            terms = model.flow_terms(X, greedy, orders)
            stds[kind].append(terms["log_q"].std())
            if kind == "gfncp":
                gaps.append(np.abs(terms["log_q"] - terms["log_reward"] + terms["log_root"]).mean())
                found_truth.append(ari(greedy, y) == 1.0)
    for kind, v in stds.items():
        v = np.array(v)
        print(f"{kind:5s} mean/median/p90 {v.mean():.3f} {np.median(v):.3f} {np.quantile(v, 0.9):.3f}")
    g, n = np.array(stds["gfncp"]), np.array(stds["ncp"])
    print(f"gfncp below ncp {(g < n).mean():.2f}, gap {np.mean(gaps):.2f}")
    hit = np.array(found_truth)
    for label, m in (("greedy = truth", hit), ("greedy != truth", ~hit)):
        if m.any():
            print(f"gfncp on the {m.sum()} sets with {label}: mean/median {g[m].mean():.3f} {np.median(g[m]):.3f}")


if __name__ == "__main__":
    main()
