"""What each ingredient of the broad prior buys: short trainings on the prior with one ingredient
taken out, scored on the real-data suite (the bundled tables and held-out digits tasks of
gfncp.evaluate_real) and on held-out sets of the full prior. Writes its block of
docs/general-pair.md.

    python scripts/ablate_broad_prior.py --run NAME [--iters 2500]   # one ablation (one core)
    python scripts/ablate_broad_prior.py --rescore NAME              # score its checkpoint again
    python scripts/ablate_broad_prior.py --report                    # the table, from the results

Each ablation is an NCP trained with the general preset's network and data but `--iters`
iterations (NCP: the likelihood alone, so the prior is the only thing that differs); run two
at once on two cores. Results: runs/ablate-<name>/result.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gfncp import doc_blocks, routing, train  # noqa: E402
from gfncp.broad_prior import BroadPrior, make_broad  # noqa: E402
from gfncp.evaluate_real import real_sets  # noqa: E402
from gfncp.metrics import nmi  # noqa: E402
from gfncp.registry import load_run  # noqa: E402
from gfncp.runtime import configure_torch  # noqa: E402

# name -> (what is taken out, BroadPrior overrides)
ABLATIONS = {
    "full": ("nothing (the shipped prior)", {}),
    "crp-only": ("class-like partitions (every set a CRP draw, as in the previous version)", dict(crp_share=1.0)),
    "isotropic": ("full covariances (no rotations, axis ratio 1)", dict(max_axis_ratio=1.0)),
    "gaussian": ("non-Gaussian clusters, outliers and rounding",
                 dict(student_t_share=0.0, skew_share=0.0, outlier_sets_share=0.0, rounded_sets_share=0.0)),
    "one-scale": ("per-cluster scales (all clusters of a set equally spread)", dict(scale_spread=0.0)),
    "overlap": ("heavy overlap (separation from 6 spreads, not 2.5)", dict(separation=(6.0, 20.0))),
}
HELD_OUT = 40           # full-prior sets of N = 150 scored by every ablation
BLOCK = "prior-ablations"
DOC = ROOT / "docs" / "general-pair.md"


def run_dir(name: str) -> Path:
    return ROOT / "runs" / f"ablate-{name}"


def run(name: str, iters: int) -> dict:
    what, overrides = ABLATIONS[name]
    cfg = dataclasses.replace(train.preset("general", "ncp"), iters=iters, eval_every=iters, val_sets=10)
    out = run_dir(name)
    shutil.rmtree(out, ignore_errors=True)
    # the training batches come from this prior; validation and scoring use the full one
    train.BroadPrior = functools.partial(BroadPrior, **overrides)
    start = time.perf_counter()
    train.train(cfg, out, progress=False)
    (out / "seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")
    return rescore(name)


def rescore(name: str) -> dict:
    """Score an ablation's final checkpoint: the consensus answer (the default path's decoding,
    Clusterer.consensus) on the real suite and on held-out sets of the full prior."""
    what, overrides = ABLATIONS[name]
    out = run_dir(name)
    model = load_run(out)

    def answer(X):
        return model.consensus(routing.map_to_pair(X, routing.GENERAL)).labels

    with torch.inference_mode():
        scores = {set_name: float(nmi(y, answer(X))) for set_name, X, y in real_sets()}
        held = [make_broad(150, seed=10_000 + i) for i in range(HELD_OUT)]
        prior_nmi = float(np.mean([nmi(y, answer(X)) for X, y in held]))
    seconds = out / "seconds.txt"          # (else the training log's own clock)
    result = dict(name=name, removed=what, overrides={k: list(v) if isinstance(v, tuple) else v
                                                      for k, v in overrides.items()},
                  iters=model.card["training"]["iters"],
                  seconds=float(seconds.read_text()) if seconds.exists() else train.read_log(out / "log.csv")[-1]["seconds"],
                  real=scores, real_mean=float(np.mean(list(scores.values()))), prior_nmi=prior_nmi)
    (out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return result


def report() -> str:
    results = [json.loads((run_dir(n) / "result.json").read_text())
               for n in ABLATIONS if (run_dir(n) / "result.json").exists()]
    if not results:
        raise SystemExit("no results yet: run --run NAME first")
    sets = list(results[0]["real"])
    rows = [[r["removed"], f"{r['real_mean']:.3f}", *(f"{r['real'][s]:.2f}" for s in sets), f"{r['prior_nmi']:.3f}"]
            for r in results]
    short = [s.replace(" classes", "").replace("digits ", "digits-").split(" (")[0] for s in sets]
    table = doc_blocks.markdown_table(["taken out", "mean NMI, real suite", *short,
                                       f"NMI, {HELD_OUT} full-prior sets"], rows)
    iters = sorted({r["iters"] for r in results})
    text = (f"{doc_blocks.provenance('python scripts/ablate_broad_prior.py --report')} Each row: an NCP "
            f"trained for {', '.join(map(str, iters))} iterations (general preset, likelihood only) on the prior "
            "with one ingredient taken out; NMI on the real suite (gfncp.evaluate_real) and on held-out "
            "sets of the full prior, both through the default path's consensus decoding. One seed each: differences of a few hundredths are noise.\n\n" + table)
    doc_blocks.replace_block(BLOCK, text, DOC)
    return text


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", choices=list(ABLATIONS), help="train and score one ablation")
    ap.add_argument("--iters", type=int, default=2500)
    ap.add_argument("--rescore", choices=list(ABLATIONS), help="score a finished ablation's checkpoint again")
    ap.add_argument("--report", action="store_true", help="write the table of all results so far")
    a = ap.parse_args(argv)
    configure_torch(1)
    if a.run:
        run(a.run, a.iters)
    if a.rescore:
        rescore(a.rescore)
    if a.report:
        print(report())
    if not (a.run or a.rescore or a.report):
        ap.error("give --run NAME, --rescore NAME or --report")


if __name__ == "__main__":
    main()
