"""Real tables: every method side by side in one run, through the public default path.

    python -m gfncp.evaluate_real [--quick] [--samples 100]

(also run at the end of `python -m gfncp.evaluate`)

Sets: the bundled real tables (gfncp.real_data: iris, wine, breast cancer, penguins) and
held-out digits tasks (test split). Methods:
- GFNCP and NCP through gfncp.GFNCPClustering(model="auto") (what the app does for an
  upload): greedy decoding, and the most probable of `samples` samples (`best`);
- k-means given the true K, a DP Gaussian mixture and a BIC-selected Gaussian mixture
  (scikit-learn), on per-feature standardised data (z-scores), as an analyst would run them.
Reported per set and as means: NMI, ARI, the number of clusters found, and whether GFNCP's
uncertainty is useful: the AUROC of per-point entropy (from its samples, against its own
answer) for predicting which points end up in the wrong class after matching clusters to
classes one-to-one (Hungarian; points of unmatched clusters count as wrong).

Also `textbook`: what the general pair gives up against the textbook 2-D pair on the
textbook's own sets (100 sets of N=100 from make_mog, greedy NMI).
Writes assets/results/real_data.json and docs/results-real-data.md (the table and what it
says); `--quick` runs a miniature version into a temporary folder unless --out is given.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from . import data, references, routing
from .metrics import ari, nmi
from .matching import match_to_reference
from .posterior import point_uncertainty
from .real_data import REAL_SETS, load_real
from .runtime import configure_torch
from .sklearn_api import GFNCPClustering

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "assets" / "results"
DOCS_PAGE = ROOT / "docs" / "results-real-data.md"
DIGITS_TASKS = ((150, 3, 11), (200, 5, 12), (250, 6, 13))     # (N, classes, seed), test split


def real_sets(quick: bool = False) -> list[tuple[str, np.ndarray, np.ndarray]]:
    sets = [(name, load_real(name).X, load_real(name).labels) for name in REAL_SETS]
    for n, k, seed in DIGITS_TASKS[: 1 if quick else None]:
        X, y = data.make_digits_task(n, n_classes=k, split="test", seed=seed)
        sets.append((f"digits {k} classes (N={n})", X, y))
    return sets


def zscore(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def wrong_points(truth: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N,) bool: the point's cluster, matched one-to-one to a class, is not its class."""
    matched = match_to_reference(labels[None], truth)[0]
    return matched != truth


def auroc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of `scores` for `positive` (None when one class is empty)."""
    from sklearn.metrics import roc_auc_score

    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, scores))


def score(truth, labels, seconds: float) -> dict:
    return {"nmi": nmi(truth, labels), "ari": ari(truth, labels), "k": int(labels.max()) + 1,
            "seconds": round(seconds, 3)}


def evaluate_set(X: np.ndarray, y: np.ndarray, n_samples: int, seed: int = 0) -> dict:
    """Every method on one set. For GFNCP and NCP, through GFNCPClustering(model="auto"): its
    answer (the consensus of greedy decodes in random orders), greedy decoding in the file's own
    row order, and the most probable of its samples; the uncertainty AUROC scores the samples'
    per-point entropy against the points the answer puts in the wrong class."""
    out: dict[str, dict] = {}
    for kind in ("gfncp", "ncp"):
        t = time.perf_counter()
        est = GFNCPClustering(model="auto", kind=kind, n_samples=n_samples, random_state=seed).fit(X)
        seconds = time.perf_counter() - t
        name = kind.upper()
        out[f"{name} consensus"] = score(y, est.labels_, seconds)
        entropy = point_uncertainty(est.samples_, est.labels_).entropy
        out[f"{name} consensus"]["uncertainty_auroc"] = auroc(entropy, wrong_points(y, est.labels_))
        out[f"{name} consensus"]["model"] = est.model_name_
        out[f"{name} greedy (file order)"] = score(y, est.greedy_labels_, seconds)
        out[f"{name} best of {n_samples}"] = score(y, est.samples_[int(np.argmax(est.sample_log_prob_))], seconds)
    Z = zscore(X)
    k_true = int(y.max()) + 1
    for name, res in (("k-means (true K)", references.kmeans(Z, k_true, seed=seed)),
                      ("DP-GMM", references.dpgmm(Z, seed=seed)),
                      ("BIC-GMM", references.bic_gmm(Z, seed=seed))):
        out[name] = score(y, res.labels, res.seconds)
    return out


def textbook_cost(n_sets: int = 100, n_points: int = 100, seed: int = 2025) -> dict:
    """NMI of the general GFNCP against gfncp-mog2d on 2-D textbook sets, each through greedy
    decoding and through the consensus of 16 orders (the default path's decoding)."""
    from .registry import load_pretrained

    rng = np.random.default_rng(seed)
    general, textbook = load_pretrained("gfncp-general"), load_pretrained("gfncp-mog2d")
    scores = {k: [] for k in ("gfncp-general greedy", "gfncp-mog2d greedy",
                              "gfncp-general consensus", "gfncp-mog2d consensus")}
    for _ in range(n_sets):
        X, y = data.make_mog(n_points, dim=2, seed=rng)
        Xg = routing.map_to_pair(X, routing.GENERAL)
        scores["gfncp-general greedy"].append(nmi(y, general.greedy(Xg)))
        scores["gfncp-mog2d greedy"].append(nmi(y, textbook.greedy(X)))
        scores["gfncp-general consensus"].append(nmi(y, general.consensus(Xg).labels))
        scores["gfncp-mog2d consensus"].append(nmi(y, textbook.consensus(X).labels))
    return {name: float(np.mean(v)) for name, v in scores.items()}


def run(quick: bool = False, n_samples: int = 100, progress: bool = True) -> dict:
    configure_torch(1)
    per_set = {}
    for name, X, y in real_sets(quick):
        per_set[name] = {"shape": list(X.shape), "classes": int(y.max()) + 1, **evaluate_set(X, y, n_samples)}
        if progress:
            print(f"{name}: " + ", ".join(f"{m} {r['nmi']:.3f} (K={r['k']})" for m, r in per_set[name].items()
                                          if isinstance(r, dict)), flush=True)
    methods = [m for m in next(iter(per_set.values())) if isinstance(per_set[next(iter(per_set))][m], dict)]
    means = {}
    for m in methods:
        rows = [per_set[s][m] for s in per_set]
        aurocs = [r["uncertainty_auroc"] for r in rows if r.get("uncertainty_auroc") is not None]
        means[m] = {"nmi": float(np.mean([r["nmi"] for r in rows])), "ari": float(np.mean([r["ari"] for r in rows])),
                    "one_cluster": int(sum(r["k"] == 1 for r in rows)),
                    "uncertainty_auroc": float(np.mean(aurocs)) if aurocs else None}
    result = {"n_samples": n_samples, "sets": per_set, "means": means,
              "textbook": textbook_cost(5 if quick else 100, 40 if quick else 100)}
    return result


def update_cards(result: dict) -> None:
    """Write the general pair's real-data metrics (and its textbook cost) into its cards."""
    from .registry import models_folder

    for kind in ("gfncp", "ncp"):
        name = routing.pair_names(routing.GENERAL)[0 if kind == "gfncp" else 1]
        path = models_folder() / f"{name}.json"
        card = json.loads(path.read_text())
        answer, greedy = f"{kind.upper()} consensus", f"{kind.upper()} greedy (file order)"
        best = f"{kind.upper()} best of {result['n_samples']}"
        means = result["means"]
        card["evaluation"] = {
            "command": "python -m gfncp.evaluate_real --update-cards", "date": time.strftime("%Y-%m-%d"),
            "suite": "bundled real tables and held-out digits tasks (docs/results-real-data.md)",
            "decoding": "consensus of 16 greedy decodes in random orders (GFNCPClustering, Clusterer.consensus)",
            "accuracy": {"nmi": {"mean": means[answer]["nmi"]}, "ari": {"mean": means[answer]["ari"]},
                         "n_sets": len(result["sets"])},
            "uncertainty_auroc": means[answer]["uncertainty_auroc"],
            "greedy_file_order": {"nmi": means[greedy]["nmi"], "ari": means[greedy]["ari"]},
            "best_of_samples": {"nmi": means[best]["nmi"], "ari": means[best]["ari"]},
            "per_set_nmi": {s: {"consensus": r[answer]["nmi"], "k": r[answer]["k"], "greedy_file_order": r[greedy]["nmi"],
                                "best_of_samples": r[best]["nmi"]}
                            for s, r in result["sets"].items()},
            "baselines_mean_nmi": {m: means[m]["nmi"] for m in ("k-means (true K)", "DP-GMM", "BIC-GMM")},
        }
        if kind == "gfncp":
            card["evaluation"]["textbook_2d_nmi"] = result["textbook"]
        path.write_text(json.dumps(card, indent=2, default=str) + "\n")


def to_markdown(result: dict) -> str:
    sets = result["sets"]
    methods = list(result["means"])
    lines = ["# Real tables: every method in one run", "",
             "Written by `python -m gfncp.evaluate_real` (gfncp/evaluate_real.py explains the methods). "
             "NMI to the known classes (number of clusters found); GFNCP and NCP through "
             "`GFNCPClustering(model=\"auto\")`: *consensus* is its answer (the greedy decode that 16 decodes in "
             "random orders agree with most), *greedy (file order)* one greedy pass in the file's row order, *best "
             "of S* the most probable of S samples. Classical methods on z-scored features.", "",
             "| set | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for name, r in sets.items():
        lines.append(f"| {name} ({r['shape'][0]} x {r['shape'][1]}, {r['classes']} classes) | "
                     + " | ".join(f"{r[m]['nmi']:.3f} ({r[m]['k']})" for m in methods) + " |")
    means = result["means"]
    lines.append("| **mean NMI** | " + " | ".join(f"**{means[m]['nmi']:.3f}**" for m in methods) + " |")
    lines.append("| mean ARI | " + " | ".join(f"{means[m]['ari']:.3f}" for m in methods) + " |")
    lines.append("| one-cluster answers | " + " | ".join(str(means[m]["one_cluster"]) for m in methods) + " |")
    lines.append("| uncertainty AUROC (entropy vs wrong point) | "
                 + " | ".join("" if means[m]["uncertainty_auroc"] is None else f"{means[m]['uncertainty_auroc']:.3f}"
                              for m in methods) + " |")
    tb = result["textbook"]
    lines += ["", "What the general pair gives up on the textbook's own 2-D sets (NMI, make_mog N=100): "
              + ", ".join(f"{k} {v:.3f}" for k, v in tb.items()) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m gfncp.evaluate_real", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--update-cards", action="store_true", help="write the metrics into the general pair's cards")
    p.add_argument("--out", default=None, help="folder for real_data.json and real_data.md "
                   "(default: assets/results/ and docs/results-real-data.md; with --quick a temporary folder)")
    a = p.parse_args(argv)
    result = run(a.quick, a.samples)
    if a.out is None and a.quick:
        import tempfile
        a.out = tempfile.mkdtemp(prefix="gfncp-real-")
    json_path = Path(a.out) / "real_data.json" if a.out else RESULTS_DIR / "real_data.json"
    md_path = Path(a.out) / "real_data.md" if a.out else DOCS_PAGE
    for path in (json_path, md_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    md_path.write_text(to_markdown(result))
    print(to_markdown(result))
    print(f"wrote {json_path} and {md_path}")
    if a.update_cards:
        update_cards(result)


if __name__ == "__main__":
    main()
