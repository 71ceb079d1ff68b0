"""Side-by-side evaluation of the shipped models and the references on fixed seeded suites.

    python -m gfncp.evaluate [--quick] [--out assets/results]

Suites (every method in the same run, on the same sets):
- accuracy: 100 sets of N=100 per pair (2-D mixtures, 16-D mixtures, held-out digits tasks):
  NMI / ARI (mean ± sd) and seconds per set for GFNCP greedy, NCP greedy, Gibbs MAP (mixtures
  only), k-means with the true K and the DP-GMM;
- order consistency on the same clustering: 100 sets of N=30, 50 random orders each: std over
  orders of log q of the SAME clusterings scored by both models (the truth, GFNCP's greedy
  answer, NCP's greedy answer; mean / median / p90), the share of sets on which GFNCP's spread
  is below NCP's (paired) and the ratio of means; also each model's own greedy clustering (the
  old measure, which rewards a confident model) and GFNCP's per-order sum of flow residuals
  as a spread over orders (its order-free level is reported apart: it is not order dependence);
- exact order consistency: 20 sets of N=7, 6 orders each: each model's q over all 877
  partitions in every order, mean total variation between orders;
- calibration: the same 20 sets of N=7: total variation between the exact posterior and each
  model's q (row order), and GFNCP's reward posterior p_R = R / Z (order-free);
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
from . import invariance as inv
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
    tv_orders: int = 6
    gibbs_sweeps: int = 200
    seed: int = 2025


QUICK = Suite(n_sets=3, n_points=30, inv_sets=3, inv_points=12, n_orders=5, cal_sets=2, cal_points=5, tv_orders=3,
              gibbs_sweeps=20)


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


def paired(values: dict) -> dict:
    """Summaries of per-set values of both models, with GFNCP's share of sets strictly below
    NCP's and the ratio of means (when both are present)."""
    out = {kind: summarise(v) for kind, v in values.items()}
    if "gfncp" in values and "ncp" in values:
        g, n = np.asarray(values["gfncp"]), np.asarray(values["ncp"])
        out["gfncp_below_ncp"] = float((g < n).mean())
        out["ratio_of_means"] = float(g.mean() / max(n.mean(), 1e-12))
    return out


def invariance(pair: str, models: dict, suite: Suite, progress=None) -> dict:
    """Std over orders of log q, per set: of each model's own greedy clustering (the old
    measure, which also rewards confidence) and, neutrally, of the SAME clusterings scored by
    both models: the truth and each model's greedy answer. For GFNCP also the per-order sum
    of flow residuals: its spread over orders (= the std of log q) and its order-free level."""
    sets = make_sets(pair, suite.inv_sets, suite.inv_points, suite.seed + 1)
    rng = np.random.default_rng(suite.seed + 2)
    own = {kind: [] for kind in models}
    same = {c: {kind: [] for kind in models} for c in ["truth"] + [f"{k}_greedy" for k in models]}
    residual_std, residual_level, examples = [], [], []
    for i, (X, y) in enumerate(sets):
        orders = np.stack([np.arange(len(X))] + [rng.permutation(len(X)) for _ in range(suite.n_orders - 1)])
        greedy = {kind: model.greedy(X) for kind, model in models.items()}
        clusterings = {"truth": y} | {f"{k}_greedy": g for k, g in greedy.items()}
        per_set = {}
        for cname, labels in clusterings.items():
            for kind, model in models.items():
                terms = model.flow_terms(X, labels, orders)
                same[cname][kind].append(float(terms["log_q"].std()))
                if cname == f"{kind}_greedy":
                    own[kind].append(float(terms["log_q"].std()))
                if cname == "truth":
                    per_set[kind] = terms["log_q"]
                    if kind == "gfncp":
                        res = inv.residual_sum_spread(terms["log_q"], terms["log_reward"], terms["log_root"])
                        residual_std.append(res["std"])
                        residual_level.append(abs(res["level"]))
        if i < 4:
            examples.append({k: v.tolist() for k, v in per_set.items()})
        if progress:
            progress(f"invariance {pair}", i + 1, len(sets))
    out = paired(own)
    out["same_clustering"] = {cname: paired(v) for cname, v in same.items()}
    if residual_std:
        out["gfncp_residual_sum"] = {"std": summarise(residual_std), "abs_level": summarise(residual_level)}
    out["examples"] = examples
    return out


def order_consistency_exact(pair: str, models: dict, suite: Suite, progress=None) -> dict:
    """On the calibration sets (N <= 8): each model's exact q over all partitions under
    suite.tv_orders random orders, and the mean total variation between orders, per set."""
    sets = make_sets(pair, suite.cal_sets, suite.cal_points, suite.seed + 3)
    rng = np.random.default_rng(suite.seed + 5)
    tvs = {kind: [] for kind in models}
    for i, (X, _) in enumerate(sets):
        orders = np.stack([np.arange(len(X))] + [rng.permutation(len(X)) for _ in range(suite.tv_orders - 1)])
        for kind, model in models.items():
            _, P = inv.exact_order_distributions(model, X, orders)
            tvs[kind].append(inv.order_tv(P)["mean"])
        if progress:
            progress(f"order TV {pair}", i + 1, len(sets))
    return dict(paired(tvs), n_orders=suite.tv_orders)


def calibration(pair: str, models: dict, suite: Suite, progress=None) -> dict:
    """TV to the exact posterior of each model's q (points in row order) and of GFNCP's
    reward posterior p_R (order-free)."""
    from .reward_posterior import exact_reward_posterior
    sets = make_sets(pair, suite.cal_sets, suite.cal_points, suite.seed + 3)
    tvs = {kind: [] for kind in models}
    if "gfncp" in models:
        tvs["gfncp_reward"] = []
    for i, (X, _) in enumerate(sets):
        exact = references.exact_posterior(X).as_dict()
        for kind, model in models.items():
            tvs[kind].append(total_variation(exact, model_partition_distribution(model, X).as_dict()))
        if "gfncp" in models:
            tvs["gfncp_reward"].append(total_variation(exact, exact_reward_posterior(models["gfncp"], X)
                                                       .distribution.as_dict()))
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
        S = results["suite"]
        lines += ["", f"### Order consistency: std over {S['n_orders']} orders of log q of the same clustering "
                  f"(nats; N = {S['inv_points']}, {S['inv_sets']} sets)", "",
                  "| clustering scored | GFNCP mean / median / p90 | NCP mean / median / p90 | GFNCP lower on | "
                  "GFNCP / NCP (means) |", "|---|---|---|---|---|"]
        rows = [("the truth", inv.get("same_clustering", {}).get("truth")),
                ("GFNCP's greedy clustering", inv.get("same_clustering", {}).get("gfncp_greedy")),
                ("NCP's greedy clustering", inv.get("same_clustering", {}).get("ncp_greedy")),
                ("each model's own greedy clustering (rewards confidence)", inv)]
        for label, m in rows:
            if m and "gfncp" in m and "ncp" in m:
                trip = lambda x: f"{x['mean']:.3f} / {x['median']:.3f} / {x['p90']:.3f}"   # noqa: E731
                lines.append(f"| {label} | {trip(m['gfncp'])} | {trip(m['ncp'])} | {100 * m['gfncp_below_ncp']:.0f}% | "
                             f"{m['ratio_of_means']:.2f} |")
        if "gfncp_residual_sum" in inv:
            rs = inv["gfncp_residual_sum"]
            lines += ["", f"GFNCP's per-order sum of flow residuals Σ r_n = log q − (log R − log F(root)) on the truth: "
                      f"spread over orders (std) mean {rs['std']['mean']:.3f}, median {rs['std']['median']:.3f} nats "
                      f"(the same numbers as its log q spread: R and F(root) do not depend on the order); its level, the "
                      f"same in every order and so no measure of invariance, |median| mean {rs['abs_level']['mean']:.2f} nats."]
        if "order_tv" in r:
            tv = r["order_tv"]
            lines += ["", f"### Exact order consistency: mean total variation between the exact q over all partitions "
                      f"under {tv['n_orders']} orders (N = {S['cal_points']}, {S['cal_sets']} sets)", "",
                      "| model | mean | median | p90 |", "|---|---|---|---|"]
            for kind in ("gfncp", "ncp"):
                if kind in tv:
                    lines.append(f"| {kind.upper()} | {tv[kind]['mean']:.3f} | {tv[kind]['median']:.3f} | {tv[kind]['p90']:.3f} |")
            if "gfncp_below_ncp" in tv:
                lines += ["", f"GFNCP lower on {100 * tv['gfncp_below_ncp']:.0f}% of the sets; ratio of means "
                          f"GFNCP/NCP = {tv['ratio_of_means']:.2f}. GFNCP's reward posterior p_R has order TV 0 by construction."]
        if "calibration" in r:
            cal = r["calibration"]
            lines += ["", "### Calibration (total variation to the exact posterior over all partitions; N = %d, %d sets)"
                      % (results["suite"]["cal_points"], results["suite"]["cal_sets"]), "", "| model | mean TV | median | p90 |", "|---|---|---|---|"]
            names = {"gfncp": "GFNCP q", "ncp": "NCP q", "gfncp_reward": "GFNCP reward posterior p_R"}
            for kind, s_ in cal.items():
                lines.append(f"| {names.get(kind, kind)} | {s_['mean']:.3f} | {s_['median']:.3f} | {s_['p90']:.3f} |")
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
            r["order_tv"] = order_consistency_exact(pair, models, suite, progress)
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
            inv_r = r["invariance"]
            metrics = {"command": r.get("command", results["command"]), "date": r.get("date", results["date"]),
                       "accuracy": {"n_sets": results["suite"]["n_sets"], "n_points": results["suite"]["n_points"],
                                    "nmi": acc["nmi"], "ari": acc["ari"], "seconds_per_set": acc["seconds"]["mean"]},
                       "order_invariance_std_log_q": inv_r[kind]}
            if "same_clustering" in inv_r:
                metrics["order_consistency_same_clustering"] = {
                    cname: {"this_model": m[kind], "gfncp_below_ncp": m.get("gfncp_below_ncp"),
                            "ratio_of_means_gfncp_ncp": m.get("ratio_of_means")}
                    for cname, m in inv_r["same_clustering"].items()}
            if "order_tv" in r:
                metrics["exact_order_tv_n7"] = {"this_model": r["order_tv"][kind], "n_orders": r["order_tv"]["n_orders"],
                                                "gfncp_below_ncp": r["order_tv"].get("gfncp_below_ncp"),
                                                "ratio_of_means_gfncp_ncp": r["order_tv"].get("ratio_of_means")}
            if "calibration" in r:
                metrics["calibration_tv_n7"] = r["calibration"][kind]
                if kind == "gfncp" and "gfncp_reward" in r["calibration"]:
                    metrics["calibration_tv_n7_reward_posterior"] = r["calibration"]["gfncp_reward"]
            if kind == "gfncp":
                metrics["share_of_sets_below_ncp"] = inv_r.get("gfncp_below_ncp")
                if "gfncp_residual_sum" in inv_r:
                    metrics["flow_residual_sum"] = inv_r["gfncp_residual_sum"]
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
