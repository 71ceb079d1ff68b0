"""Screen of order consistency, calibration and accuracy for training checkpoints (issue 17).

    .venv/bin/python scripts/screen_order_consistency.py --ref ncp-mog2d \
        shipped=gfncp-mog2d control=runs/ft-control/checkpoint.pt ... [--out docs/experiments/screen.md]

Every model is measured on the same held-out 2-D sets (fixed seeds) and paired with the
reference NCP (--ref; a shipped name or a run's checkpoint.pt of kind ncp):
- spread on the same clustering: std over --orders random orders of log q of the TRUE
  clustering, and of the reference NCP's greedy clustering (--sets sets of N = 30; mean /
  median / p90 nats; share of sets below the reference; ratio of means);
- exact order TV: q over all 877 partitions of N = 7 under --tv-orders orders, mean total
  variation between orders (--tv-sets sets);
- calibration: TV between the exact posterior and q (row order), and for a GFNCP its reward
  posterior p_R (order-free), on the same N = 7 sets;
- accuracy: greedy NMI on --nmi-sets sets of N = 100.
A model is NAME=PATH; the kind comes from the run's config.json (or the shipped card). Writes a
markdown table (and JSON beside it) when --out is given; prints it either way.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gfncp import data, list_pretrained, load_pretrained  # noqa: E402
from gfncp import invariance as inv  # noqa: E402
from gfncp.clusterer import Clusterer  # noqa: E402
from gfncp.metrics import nmi, total_variation  # noqa: E402
from gfncp.model_distribution import model_partition_distribution  # noqa: E402
from gfncp.references import exact_posterior  # noqa: E402
from gfncp.registry import load_run  # noqa: E402
from gfncp.reward_posterior import exact_reward_posterior  # noqa: E402
from gfncp.runtime import configure_torch  # noqa: E402


def load(path: str) -> Clusterer:
    """A shipped model by name, or a run's checkpoint.pt with its config.json."""
    if not Path(path).exists() and path in list_pretrained():
        return load_pretrained(path)
    return load_run(Path(path).parent, checkpoint=Path(path).name)


def measure(model: Clusterer, ref_greedy, sets30, orders30, sets7, orders7, sets100) -> dict:
    """Per-set vectors of every measure for one model."""
    out = {"truth": [], "ref_greedy": [], "order_tv": [], "tv_q": [], "tv_reward": [], "nmi": []}
    for (X, y), g, orders in zip(sets30, ref_greedy, orders30):
        out["truth"].append(float(model.log_prob_orders(X, y, orders).std()))
        out["ref_greedy"].append(float(model.log_prob_orders(X, g, orders).std()))
    for (X, _), orders in zip(sets7, orders7):
        _, P = inv.exact_order_distributions(model, X, orders)
        out["order_tv"].append(inv.order_tv(P)["mean"])
        exact = exact_posterior(X).as_dict()
        out["tv_q"].append(total_variation(exact, model_partition_distribution(model, X).as_dict()))
        if model.kind == "gfncp":
            out["tv_reward"].append(total_variation(exact, exact_reward_posterior(model, X).distribution.as_dict()))
    for X, y in sets100:
        out["nmi"].append(nmi(y, model.greedy(X)))
    return {k: np.asarray(v) for k, v in out.items()}


def trip(v) -> str:
    return f"{v.mean():.3f} / {np.median(v):.3f} / {np.quantile(v, 0.9):.3f}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+", help="NAME=PATH (a run's checkpoint.pt or a shipped model name)")
    p.add_argument("--ref", default="ncp-mog2d", help="the reference NCP (name or checkpoint.pt)")
    p.add_argument("--sets", type=int, default=40)
    p.add_argument("--orders", type=int, default=30)
    p.add_argument("--tv-sets", type=int, default=10)
    p.add_argument("--tv-orders", type=int, default=6)
    p.add_argument("--nmi-sets", type=int, default=30)
    p.add_argument("--seed", type=int, default=4242)
    p.add_argument("--out", default=None, help="markdown file to write (JSON beside it)")
    a = p.parse_args()
    configure_torch(1)
    rng = np.random.default_rng(a.seed)
    sets30 = [data.make_mog(30, seed=rng) for _ in range(a.sets)]
    orders30 = [np.stack([np.arange(30)] + [rng.permutation(30) for _ in range(a.orders - 1)]) for _ in sets30]
    sets7 = [data.make_mog(7, seed=rng) for _ in range(a.tv_sets)]
    orders7 = [np.stack([np.arange(7)] + [rng.permutation(7) for _ in range(a.tv_orders - 1)]) for _ in sets7]
    sets100 = [data.make_mog(100, seed=rng) for _ in range(a.nmi_sets)]
    ref = load(a.ref)
    if ref.kind != "ncp":
        raise SystemExit(f"--ref must be an NCP, got a {ref.kind}")
    ref_greedy = [ref.greedy(X) for X, _ in sets30]
    t0 = time.time()
    results = {"ref (" + a.ref + ")": measure(ref, ref_greedy, sets30, orders30, sets7, orders7, sets100)}
    for spec in a.models:
        name, path = spec.split("=", 1)
        results[name] = measure(load(path), ref_greedy, sets30, orders30, sets7, orders7, sets100)
        print(f"measured {name} ({time.time() - t0:.0f} s)", file=sys.stderr)
    r0 = results["ref (" + a.ref + ")"]
    lines = [f"Screen: `{' '.join(['python scripts/screen_order_consistency.py'] + sys.argv[1:])}`  ",
             f"{a.sets} sets N = 30 x {a.orders} orders; {a.tv_sets} sets N = 7 x {a.tv_orders} orders; "
             f"{a.nmi_sets} sets N = 100 (2-D mixtures, seed {a.seed}). Spreads: std over orders of log q, nats, "
             "mean / median / p90; 'below ref': share of sets strictly below the reference NCP.", "",
             "| model | truth spread | below ref | / ref | ref-greedy spread | below ref | order-TV N=7 | below ref "
             "| / ref | TV exact (q) | TV exact (p_R) | NMI |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    table = {}
    for name, r in results.items():
        row = {k: float(v.mean()) for k, v in r.items() if len(v)}
        for k in ("truth", "ref_greedy", "order_tv"):
            row[k + "_below_ref"] = float((r[k] < r0[k]).mean())
            row[k + "_ratio"] = float(r[k].mean() / max(r0[k].mean(), 1e-12))
            row[k + "_median"] = float(np.median(r[k]))
        table[name] = row
        reward = f"{r['tv_reward'].mean():.3f}" if len(r["tv_reward"]) else "–"
        lines.append(f"| {name} | {trip(r['truth'])} | {100 * row['truth_below_ref']:.0f}% | {row['truth_ratio']:.2f} | "
                     f"{trip(r['ref_greedy'])} | {100 * row['ref_greedy_below_ref']:.0f}% | "
                     f"{r['order_tv'].mean():.3f} / {np.median(r['order_tv']):.3f} | "
                     f"{100 * row['order_tv_below_ref']:.0f}% | {row['order_tv_ratio']:.2f} | {r['tv_q'].mean():.3f} | "
                     f"{reward} | {r['nmi'].mean():.4f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)
        Path(a.out).with_suffix(".json").write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
