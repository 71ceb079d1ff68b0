"""Side-by-side evaluation of the shipped models and the references on fixed seeded suites.

    python -m gfncp.evaluate [--quick] [--out assets/results]

Suites (every method in the same run, on the same sets):
- accuracy: 100 sets of N=100 per pair (2-D mixtures, 16-D mixtures, held-out digits tasks):
  NMI / ARI (mean ± sd) and seconds per set for GFNCP greedy, NCP greedy, Gibbs MAP (mixtures
  only), k-means with the true K and the DP-GMM;
- order invariance: 100 sets of N=30, 50 random orders each: std over orders of log q of the
  model's own greedy clustering (mean / median / p90), the share of sets on which GFNCP's
  spread is below NCP's (paired), and GFNCP's flow-consistency gap |log q - (log R - log F0)|;
- calibration: 20 sets of N=7: total variation between each model's q over all 877
  partitions and the exact posterior;
- speed: 100 GFNCP samples of an N=100 set against 100 collapsed-Gibbs sweeps on it.
Writes results.json, results.md and invariance.svg; `--quick` runs a miniature version.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data, references, routing
from .metrics import ari, nmi, total_variation
from .model_distribution import model_partition_distribution
from .registry import list_pretrained, load_pretrained
from .runtime import configure_torch

RESULTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "results"


@dataclass
class Suite:
    n_sets: int = 100
    n_points: int = 100
    inv_sets: int = 100
    inv_points: int = 30
    n_orders: int = 50
    cal_sets: int = 20
    cal_points: int = 7
    gibbs_sweeps: int = 200
    seed: int = 2025


QUICK = Suite(n_sets=3, n_points=30, inv_sets=3, inv_points=12, n_orders=5, cal_sets=2, cal_points=5, gibbs_sweeps=20)


def make_sets(pair: str, n_sets: int, n_points: int, seed: int):
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(n_sets):
        if pair == "digits":
            sets.append(data.make_digits_task(n_points, split="test", seed=rng))
        else:
            sets.append(data.make_mog(n_points, dim=routing.PAIRS[pair], seed=rng))
    return sets


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def summarise(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "sd": float(v.std()), "median": float(np.median(v)),
            "p90": float(np.quantile(v, 0.9))}


# -- suites -------------------------------------------------------------------------------

def accuracy(pair: str, models: dict, suite: Suite, progress=None) -> dict:
    sets = make_sets(pair, suite.n_sets, suite.n_points, suite.seed)
    methods: dict[str, dict[str, list]] = {}

    def record(name, truth, pred, seconds):
        m = methods.setdefault(name, {"nmi": [], "ari": [], "seconds": []})
        m["nmi"].append(nmi(truth, pred))
        m["ari"].append(ari(truth, pred))
        m["seconds"].append(seconds)

    for i, (X, y) in enumerate(sets):
        for kind, model in models.items():
            pred, s = timed(model.greedy, X)
            record(f"{kind.upper()} greedy", y, pred, s)
        if pair != "digits":
            res = references.gibbs(X, n_sweeps=suite.gibbs_sweeps, burn_in=suite.gibbs_sweeps // 4, seed=i)
            record("Gibbs MAP", y, res.map_labels, res.seconds)
        k_true = int(y.max()) + 1
        for name, fn in references.BASELINES.items():
            res = fn(X, k_true, seed=i)
            record(name, y, res.labels, res.seconds)
        if progress:
            progress(f"accuracy {pair}", i + 1, len(sets))
    return {name: {k: summarise(v) for k, v in m.items()} for name, m in methods.items()}


def invariance(pair: str, models: dict, suite: Suite, progress=None) -> dict:
    sets = make_sets(pair, suite.inv_sets, suite.inv_points, suite.seed + 1)
    rng = np.random.default_rng(suite.seed + 2)
    stds = {kind: [] for kind in models}
    gaps, examples = [], []
    for i, (X, _) in enumerate(sets):
        orders = np.stack([np.arange(len(X))] + [rng.permutation(len(X)) for _ in range(suite.n_orders - 1)])
        per_set = {}
        for kind, model in models.items():
            labels = model.greedy(X)
            terms = model.flow_terms(X, labels, orders)
            per_set[kind] = terms["log_q"]
            stds[kind].append(float(terms["log_q"].std()))
            if kind == "gfncp":
                gaps.append(float(np.abs(terms["log_q"] - (terms["log_reward"] - terms["log_root"])).mean()))
        if i < 4:
            examples.append({k: v.tolist() for k, v in per_set.items()})
        if progress:
            progress(f"invariance {pair}", i + 1, len(sets))
    out = {kind: summarise(v) for kind, v in stds.items()}
    if "gfncp" in stds and "ncp" in stds:
        g, n = np.array(stds["gfncp"]), np.array(stds["ncp"])
        out["gfncp_below_ncp"] = float((g < n).mean())
        out["ratio_of_means"] = float(g.mean() / max(n.mean(), 1e-12))
    if gaps:
        out["gfncp_flow_gap"] = summarise(gaps)
    out["examples"] = examples
    return out


def calibration(pair: str, models: dict, suite: Suite, progress=None) -> dict:
    sets = make_sets(pair, suite.cal_sets, suite.cal_points, suite.seed + 3)
    tvs = {kind: [] for kind in models}
    for i, (X, _) in enumerate(sets):
        exact = references.exact_posterior(X).as_dict()
        for kind, model in models.items():
            tvs[kind].append(total_variation(exact, model_partition_distribution(model, X).as_dict()))
        if progress:
            progress(f"calibration {pair}", i + 1, len(sets))
    return {kind: summarise(v) for kind, v in tvs.items()}


def speed(model, suite: Suite) -> dict:
    X, _ = data.make_mog(100, dim=model.dim, seed=suite.seed + 4)
    model.sample(X, n_samples=100, seed=0)                     # warm-up
    t_samples = min(timed(model.sample, X, n_samples=100, seed=s)[1] for s in range(3))
    res = references.gibbs(X, n_sweeps=100, burn_in=0, seed=0)
    return {"samples_100_seconds": t_samples, "gibbs_100_sweeps_seconds": res.seconds,
            "ratio": t_samples / res.seconds}


# -- report -------------------------------------------------------------------------------

def fmt(s: dict, key="mean", digits=3) -> str:
    return f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f}"


def markdown(results: dict) -> str:
    lines = ["# Evaluation results", "", f"Command: `{results['command']}`  ", f"Measured {results['date']}, "
             f"one torch thread, on this project's 2-core CPU machine. Suites: {results['suite']}.", ""]
    for pair, r in results["pairs"].items():
        lines += [f"## {pair}", ""]
        if "command" in r and r["command"] != results["command"]:
            lines += [f"Command: `{r['command']}`, measured {r['date']}.", ""]
        lines += ["### Accuracy (greedy decoding; N = %d, %d sets)" % (results["suite"]["n_points"], results["suite"]["n_sets"]),
                  "", "| method | NMI | ARI | seconds / set |", "|---|---|---|---|"]
        for name, m in r["accuracy"].items():
            lines.append(f"| {name} | {fmt(m['nmi'])} | {fmt(m['ari'])} | {m['seconds']['mean']:.4f} |")
        inv = r["invariance"]
        lines += ["", "### Order invariance (std over %d orders of log q of the model's own greedy clustering, nats; N = %d, %d sets)"
                  % (results["suite"]["n_orders"], results["suite"]["inv_points"], results["suite"]["inv_sets"]), "",
                  "| model | mean | median | p90 |", "|---|---|---|---|"]
        for kind in ("gfncp", "ncp"):
            if kind in inv:
                lines.append(f"| {kind.upper()} | {inv[kind]['mean']:.3f} | {inv[kind]['median']:.3f} | {inv[kind]['p90']:.3f} |")
        if "gfncp_below_ncp" in inv:
            lines += ["", f"GFNCP's spread is below NCP's on {100 * inv['gfncp_below_ncp']:.0f}% of the sets (paired); "
                      f"ratio of means GFNCP/NCP = {inv['ratio_of_means']:.2f}. GFNCP flow-consistency gap "
                      f"|log q − (log R − log F(root))|: mean {inv['gfncp_flow_gap']['mean']:.2f} nats, "
                      f"median {inv['gfncp_flow_gap']['median']:.2f}."]
        if "calibration" in r:
            cal = r["calibration"]
            lines += ["", "### Calibration (total variation to the exact posterior over all partitions; N = %d, %d sets)"
                      % (results["suite"]["cal_points"], results["suite"]["cal_sets"]), "", "| model | mean TV | median | p90 |", "|---|---|---|---|"]
            for kind, s in cal.items():
                lines.append(f"| {kind.upper()} | {s['mean']:.3f} | {s['median']:.3f} | {s['p90']:.3f} |")
        if "speed" in r:
            sp = r["speed"]
            lines += ["", f"Speed: 100 GFNCP samples of an N=100 set {1000 * sp['samples_100_seconds']:.1f} ms; "
                      f"100 collapsed-Gibbs sweeps {1000 * sp['gibbs_100_sweeps_seconds']:.1f} ms (ratio {sp['ratio']:.2f})."]
        lines.append("")
    lines += ["![log q across orders](invariance.svg)", ""]
    return "\n".join(lines)


def invariance_svg(results: dict) -> str:
    """Strip plot of log q across orders (minus its median) for a few 2-D sets, GFNCP vs NCP."""
    r = results["pairs"].get("mog2d") or next(iter(results["pairs"].values()))
    examples = r["invariance"]["examples"]
    W, row_h, pad = 720, 70, 110
    H = pad // 2 + row_h * 2 * len(examples) + 40
    allv = [v - np.median(e[k]) for e in examples for k in e for v in e[k]]
    lim = max(1e-3, float(np.max(np.abs(allv)))) if allv else 1.0
    x = lambda v: pad + (W - pad - 20) * (v + lim) / (2 * lim)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="18">log q of the same clustering under random orders, minus its median (nats, ±{lim:.2f})</text>']
    y = 40
    colors = {"gfncp": "#1f77b4", "ncp": "#d62728"}
    for i, e in enumerate(examples):
        for kind in ("gfncp", "ncp"):
            if kind not in e:
                continue
            vals = np.array(e[kind]) - np.median(e[kind])
            out.append(f'<text x="10" y="{y + 20}">set {i + 1} {kind.upper()}</text>')
            out.append(f'<line x1="{x(0):.1f}" y1="{y}" x2="{x(0):.1f}" y2="{y + row_h - 30}" stroke="#999"/>')
            for v in vals:
                out.append(f'<circle cx="{x(v):.1f}" cy="{y + 16}" r="3" fill="{colors[kind]}" fill-opacity="0.5"/>')
            out.append(f'<text x="{W - 180}" y="{y + 36}" fill="#555">std {vals.std():.3f} nats</text>')
            y += row_h
    out.append("</svg>")
    return "\n".join(out)


def run(suite: Suite, pairs: list[str] | None = None, progress=None, command: str = "") -> dict:
    configure_torch(1)
    available = list_pretrained()
    # The synthetic suites are the textbook pairs' own worlds; the general pair is evaluated on
    # real tables (gfncp.evaluate_real, run by main) and on the textbook 2-D suite there.
    pairs = pairs or [p for p in routing.PAIRS
                      if p != routing.GENERAL and all(n in available for n in routing.pair_names(p))]
    results = {"command": command, "date": time.strftime("%Y-%m-%d"), "suite": suite.__dict__, "pairs": {}}
    for pair in pairs:
        g_name, n_name = routing.pair_names(pair)
        models = {"gfncp": load_pretrained(g_name), "ncp": load_pretrained(n_name)}
        r = {"models": [g_name, n_name], "accuracy": accuracy(pair, models, suite, progress),
             "invariance": invariance(pair, models, suite, progress)}
        if pair != "digits":
            r["calibration"] = calibration(pair, models, suite, progress)
            r["speed"] = speed(models["gfncp"], suite)
        r["command"], r["date"] = command, results["date"]
        results["pairs"][pair] = r
    return results


def merge_results(previous: dict | None, new: dict) -> dict:
    """Results of an evaluation of some pairs laid over an earlier file's: the pairs just
    evaluated replace theirs, the others are kept with their own command and date. Only
    results of the same suites are merged (otherwise the table would mix suites)."""
    if not previous or previous.get("suite") != new["suite"]:
        return new
    pairs = dict(previous.get("pairs", {}))
    for name, r in pairs.items():              # files written before pairs carried provenance
        r.setdefault("command", previous.get("command", ""))
        r.setdefault("date", previous.get("date", ""))
    pairs.update(new["pairs"])
    commands = {r["command"] for r in pairs.values()}
    return dict(new, pairs=pairs, command=new["command"] if len(commands) == 1 else "several; see each pair")


def update_cards(results: dict) -> None:
    """Write each model's evaluation metrics into its model card."""
    from .registry import models_folder
    for pair, r in results["pairs"].items():
        for kind, name in zip(("gfncp", "ncp"), r["models"]):
            path = models_folder() / f"{name}.json"
            card = json.loads(path.read_text())
            acc = r["accuracy"][f"{kind.upper()} greedy"]
            metrics = {"command": r.get("command", results["command"]), "date": r.get("date", results["date"]),
                       "accuracy": {"n_sets": results["suite"]["n_sets"], "n_points": results["suite"]["n_points"],
                                    "nmi": acc["nmi"], "ari": acc["ari"], "seconds_per_set": acc["seconds"]["mean"]},
                       "order_invariance_std_log_q": r["invariance"][kind]}
            if "calibration" in r:
                metrics["calibration_tv_n7"] = r["calibration"][kind]
            if kind == "gfncp" and "gfncp_flow_gap" in r["invariance"]:
                metrics["flow_consistency_gap"] = r["invariance"]["gfncp_flow_gap"]
                metrics["share_of_sets_below_ncp"] = r["invariance"]["gfncp_below_ncp"]
            card["evaluation"] = metrics
            path.write_text(json.dumps(card, indent=2) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m gfncp.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a miniature suite (seconds)")
    p.add_argument("--pairs", nargs="*", default=None, help="subset of: " + ", ".join(routing.PAIRS))
    p.add_argument("--out", default=str(RESULTS_DIR))
    p.add_argument("--update-cards", action="store_true", help="write the metrics into the model cards")
    p.add_argument("--no-real", action="store_true", help="skip the real-data table (gfncp.evaluate_real)")
    a = p.parse_args(argv)
    suite = QUICK if a.quick else Suite()
    from tqdm import tqdm
    bars: dict[str, tqdm] = {}

    def progress(name, i, n):
        bar = bars.get(name) or bars.setdefault(name, tqdm(total=n, desc=name, dynamic_ncols=True))
        bar.update(i - bar.n)
        if i == n:
            bar.close()

    cmd = "python -m gfncp.evaluate" + (" --quick" if a.quick else "") + (" --pairs " + " ".join(a.pairs) if a.pairs else "")
    results = run(suite, a.pairs, progress, cmd)
    out = Path(a.out)
    if a.pairs and (out / "results.json").exists():    # keep the pairs not evaluated this time
        results = merge_results(json.loads((out / "results.json").read_text()), results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(markdown(results))
    (out / "invariance.svg").write_text(invariance_svg(results))
    if a.update_cards:
        update_cards(results)
    print(markdown(results))
    if not a.no_real and all(n in list_pretrained() for n in routing.pair_names(routing.GENERAL)):
        from . import evaluate_real
        evaluate_real.main(["--quick"] if a.quick else [])


if __name__ == "__main__":
    main()
