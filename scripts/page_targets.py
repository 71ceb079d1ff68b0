"""Timings behind the pages' targets (one torch thread), with the shipped models.

    .venv/bin/python scripts/page_targets.py [--no-docs]

- Step through: trace for N=200;
- Order invariance: R=50 orders x 2 models at N=100 (greedy under every order + log q of one
  clustering under every order);
- Uncertainty: S=100 samples, the consensus reference and all statistics at N=500; UMAP first fit on 2,000 x 64, then
  the same call again through a cache (as the page does with st.cache_data).

Prints each timing and rewrites the `page-targets` table of docs/performance.md with them
(--no-docs: print only).
"""
import argparse
import functools
import time

import numpy as np

import gfncp
from gfncp import data, posterior
from gfncp.doc_blocks import markdown_table, provenance, replace_block
from gfncp.runtime import configure_torch

COMMAND = "python scripts/page_targets.py"


def timed(rows: list, label: str, fn):
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    print(f"{label}: {seconds:.2f} s")
    rows.append([label, f"{seconds:.2f} s"])
    return out


def measure() -> list:
    rows: list = []
    g, n = gfncp.load_pretrained("gfncp-mog2d"), gfncp.load_pretrained("ncp-mog2d")
    X200, _ = data.make_mog(200, seed=1)
    g.trace(X200)
    timed(rows, "step-through trace, N=200 (GFNCP)", lambda: g.trace(X200))

    X100, y100 = data.make_mog(100, seed=2)
    orders = np.stack([np.random.default_rng(0).permutation(100) for _ in range(50)])
    timed(rows, "50 orders x 2 models, N=100 (Order-invariance page)",
          lambda: [(m.greedy_orders(X100, orders), m.log_prob_orders(X100, y100, orders)) for m in (g, n)])

    X500, _ = data.make_mog(500, seed=3)

    def uncertainty():      # what the page computes (gfncp/ui/studies.py), with its default reference
        return posterior.sample_and_summarize(g, X500, n_samples=100, seed=0, reference="consensus")

    timed(rows, "100 samples + consensus reference + all statistics, N=500 (Uncertainty page)", uncertainty)

    Xd = np.vstack(data.digits_split("train")[0:1] + data.digits_split("test")[0:1])   # all 1797 digits
    Xu = np.vstack([Xd, Xd[:203] + np.random.default_rng(0).normal(0, 0.02, (203, 64))])    # 2000 x 64

    @functools.lru_cache(maxsize=4)
    def umap_fit(key):
        from gfncp.projection import project
        return project(Xu, method="umap", seed=0)

    timed(rows, "UMAP, 2,000 x 64: first fit (import + numba compile + fit)", lambda: umap_fit("k"))
    timed(rows, "UMAP, 2,000 x 64: the same call again (cached)", lambda: umap_fit("k"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-docs", action="store_true", help="print only; leave docs/performance.md alone")
    args = ap.parse_args()
    configure_torch(1)
    rows = measure()
    if not args.no_docs:
        replace_block("page-targets", markdown_table(["what", "seconds"], rows) + "\n\n"
                      + provenance(COMMAND, "one torch thread"))
        print("wrote the page-targets table of docs/performance.md")


if __name__ == "__main__":
    main()
