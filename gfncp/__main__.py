"""Command line: cluster a file with a pretrained model.

    python -m gfncp cluster points.csv [--model auto] [--kind gfncp] --samples 100 --seed 0 --out result.json
    python -m gfncp models

The output (JSON or CSV, by the extension of --out; JSON to stdout without --out) holds the
most probable clustering found, per-point uncertainty, and the distinct sampled clusterings
with their log q. The input is read with gfncp.data.read_points (CSV/TSV/NPY/NPZ) and goes
through the same default path as an upload in the app and gfncp.GFNCPClustering(): the pair
routing picks, and that pair's input mapping (gfncp.routing.map_to_pair).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

import numpy as np


def cluster(path: str, model_name: str = "auto", n_samples: int = 100, seed: int = 0,
            scale: float | None = None, kind: str = "gfncp") -> dict:
    from . import data, posterior
    from .runtime import configure_torch
    from .sklearn_api import GFNCPClustering

    configure_torch(1)
    raw = Path(path).read_bytes()
    X, truth = data.read_points(raw, Path(path).name)
    if scale:
        X = X / scale
    est = GFNCPClustering(model=model_name, kind=kind, n_samples=n_samples, random_state=seed).fit(X)
    summary = posterior.summarize(est.samples_, est.sample_log_prob_, reference=est.labels_)
    top = summary.top
    out = {
        "model": est.model_name_, "file": str(path), "n_points": int(len(X)), "dim": int(X.shape[1]),
        "n_samples": n_samples, "seed": seed,
        "labels": est.labels_.tolist(), "log_q": est.log_prob_,
        "consensus_agreement": est.consensus_agreement_,
        "points": [{"index": i, "cluster": int(c), "probability": float(p), "entropy": float(e),
                    "mate_confidence": float(m)}
                   for i, (c, p, e, m) in enumerate(zip(summary.points.reference, summary.points.probability,
                                                        summary.points.entropy, summary.points.mate_confidence))],
        "clusterings": [{"labels": l.tolist(), "frequency": float(f), "log_q": float(lq)}
                        for l, f, lq in zip(top.labels, top.frequency, top.log_q)],
    }
    if truth is not None:
        from .metrics import ari, nmi
        out["nmi_to_file_labels"] = nmi(truth, est.labels_)
        out["ari_to_file_labels"] = ari(truth, est.labels_)
    return out


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["index", "cluster", "probability", "entropy", "mate_confidence"])
    for p in result["points"]:
        w.writerow([p["index"], p["cluster"], f"{p['probability']:.6g}", f"{p['entropy']:.6g}", f"{p['mate_confidence']:.6g}"])
    return buf.getvalue()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gfncp", description="GFNCP Explorer command line.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cluster", help="cluster a CSV/TSV/NPY/NPZ file with a pretrained model")
    c.add_argument("file")
    c.add_argument("--model", default="auto",
                   help="'auto' (default: the pair the app picks for an upload) or a model name")
    c.add_argument("--kind", choices=["gfncp", "ncp"], default="gfncp", help="which twin 'auto' uses")
    c.add_argument("--samples", type=int, default=100)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--scale", type=float, default=None, help="divide the points by this first")
    c.add_argument("--out", default=None, help="result file: .json or .csv (default: JSON to stdout)")
    sub.add_parser("models", help="list the pretrained models")
    a = p.parse_args(argv)
    if a.command == "models":
        from .registry import list_pretrained, read_card
        for name in list_pretrained():
            card = read_card(name)
            print(f"{name}\t{card.get('kind')}\tdim={card.get('dim')}\t{card.get('objective')}")
        return 0
    from .data import InputError
    try:
        result = cluster(a.file, a.model, a.samples, a.seed, a.scale, a.kind)
    except (InputError, FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if a.out is None:
        json.dump(result, sys.stdout, indent=1)
    elif a.out.lower().endswith(".csv"):
        Path(a.out).write_text(to_csv(result))
    elif a.out.lower().endswith(".json"):
        Path(a.out).write_text(json.dumps(result, indent=1))
    else:
        print("error: --out must end in .json or .csv", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
