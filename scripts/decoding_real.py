"""How to turn the general pair's policy into one answer on a real table: every decoding tried,
on the real-data suite (the bundled tables and held-out digits tasks of gfncp.evaluate_real),
mean NMI to the known classes. Writes its block of docs/general-pair.md.

    python scripts/decoding_real.py [--no-docs]

Decodings (R = 16 seeded random orders, S = 100 samples):
- greedy, file order: one greedy pass in the table's own row order;
- greedy, one random order: the mean over 5 random orders of one greedy pass;
- medoid of R greedy decodes (Clusterer.consensus, the default path): the decode with the
  highest mean adjusted Rand index to the others;
- co-assignment of R greedy decodes: average linkage on 1 - (share of decodes that put two
  points together), cut at 0.5;
- co-assignment of S samples: the same on the samples (drawn in 4 random orders, 25 each);
- Dahl's sample: the sample closest to the samples' co-assignment (squared distance);
- highest log q among the R decodes (each scored under 4 orders);
- most probable of the R decodes and the S samples.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gfncp import doc_blocks, routing  # noqa: E402
from gfncp.evaluate_real import real_sets  # noqa: E402
from gfncp.metrics import coassignment, nmi  # noqa: E402
from gfncp.registry import load_pretrained  # noqa: E402
from gfncp.runtime import configure_torch  # noqa: E402

R, S = 16, 100
DOC = ROOT / "docs" / "general-pair.md"


def linkage_cut(C: np.ndarray) -> np.ndarray:
    D = np.clip(1.0 - np.asarray(C, dtype=np.float64), 0.0, 1.0)
    np.fill_diagonal(D, 0.0)
    return fcluster(linkage(squareform(D, checks=False), "average"), 0.5, "distance")


def decodings(model, Z: np.ndarray) -> dict[str, np.ndarray | list[np.ndarray]]:
    n = len(Z)
    agreed = model.consensus(Z, n_orders=R, seed=0)
    decodes, orders = agreed.decodes, agreed.orders
    samples = [model.sample(Z, S // 4, seed=s, order=orders[s]) for s in range(4)]
    labels = np.concatenate([s.labels for s in samples])
    C = coassignment(labels)
    scored = np.array([model.log_prob_orders(Z, d, orders[:4]).mean() for d in decodes])
    pool = list(decodes) + list(labels)
    pool_lq = [model.log_prob(Z, d, order=orders[0]) for d in decodes] + list(np.concatenate([s.log_prob for s in samples]))
    rng = np.random.default_rng(1)
    return {
        "greedy, file order": model.greedy(Z),
        "greedy, one random order (mean of 5)": [model.greedy(Z, order=rng.permutation(n)) for _ in range(5)],
        f"medoid of {R} greedy decodes (the default path)": agreed.labels,
        f"co-assignment of {R} greedy decodes, average linkage": linkage_cut(coassignment(decodes)),
        f"co-assignment of {S} samples, average linkage": linkage_cut(C),
        "Dahl's sample (closest to the samples' co-assignment)":
            labels[int(np.argmin([(((l[:, None] == l[None, :]) - C) ** 2).sum() for l in labels]))],
        f"highest log q among the {R} decodes": decodes[int(np.argmax(scored))],
        f"most probable of the {R} decodes and {S} samples": pool[int(np.argmax(pool_lq))],
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-docs", action="store_true", help="print only")
    a = ap.parse_args(argv)
    configure_torch(1)
    sets = real_sets()
    table: dict[str, dict[str, float]] = {}
    for kind in ("gfncp", "ncp"):
        model = load_pretrained(routing.pair_names(routing.GENERAL)[0 if kind == "gfncp" else 1])
        per: dict[str, list[float]] = {}
        for name, X, y in sets:
            with torch.inference_mode():
                out = decodings(model, routing.map_to_pair(X, routing.GENERAL))
            for method, lab in out.items():
                score = np.mean([nmi(y, l) for l in lab]) if isinstance(lab, list) else nmi(y, lab)
                per.setdefault(method, []).append(float(score))
            print(f"{model.name} {name}: " + ", ".join(f"{m.split(' (')[0]} {v[-1]:.2f}" for m, v in per.items()),
                  flush=True)
        for method, v in per.items():
            table.setdefault(method, {})[kind] = float(np.mean(v))
    rows = [[m, f"{v['gfncp']:.3f}", f"{v['ncp']:.3f}"] for m, v in table.items()]
    body = (f"{doc_blocks.provenance('python scripts/decoding_real.py')} Mean NMI over the {len(sets)} sets of the "
            "real-data suite (gfncp.evaluate_real), the shipped general pair.\n\n"
            + doc_blocks.markdown_table(["decoding", "GFNCP", "NCP"], rows))
    print(body)
    if not a.no_docs:
        doc_blocks.replace_block("decodings", body, DOC)


if __name__ == "__main__":
    main()
