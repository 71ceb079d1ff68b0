"""Timings behind the pages' targets (one torch thread), with the shipped models.

    .venv/bin/python scripts/page_targets.py

- Step through: trace for N=200;
- Order invariance: R=50 orders x 2 models at N=100 (greedy under every order + log q of one
  clustering under every order);
- Uncertainty: S=100 samples + all statistics at N=500; UMAP first fit on 2,000 x 64, then
  the same call again through a cache (as the page does with st.cache_data).
"""
import functools
import time

import numpy as np

import gfncp
from gfncp import data, posterior
from gfncp.runtime import configure_torch

configure_torch(1)


def timed(label, fn):
    t = time.perf_counter()
    out = fn()
    print(f"{label}: {time.perf_counter() - t:.2f} s")
    return out


g, n = gfncp.load_pretrained("gfncp-mog2d"), gfncp.load_pretrained("ncp-mog2d")
X200, _ = data.make_mog(200, seed=1)
g.trace(X200)
timed("trace, N=200 (GFNCP)", lambda: g.trace(X200))

X100, y100 = data.make_mog(100, seed=2)
orders = np.stack([np.random.default_rng(0).permutation(100) for _ in range(50)])
timed("R=50 orders x 2 models, N=100", lambda: [(m.greedy_orders(X100, orders), m.log_prob_orders(X100, y100, orders))
                                                  for m in (g, n)])

X500, _ = data.make_mog(500, seed=3)
def uncertainty():
    s = g.sample(X500, n_samples=100, seed=0)
    return posterior.summarize(s.labels, s.log_prob)
timed("S=100 samples + statistics, N=500", uncertainty)

Xd = np.vstack(data.digits_split("train")[0:1] + data.digits_split("test")[0:1])   # all 1797 digits
Xu = np.vstack([Xd, Xd[:203] + np.random.default_rng(0).normal(0, 0.02, (203, 64))])    # 2000 x 64


@functools.lru_cache(maxsize=4)
def umap_fit(key):
    from gfncp.projection import project
    return project(Xu, method="umap", seed=0)


timed("UMAP first fit, 2000 x 64 (import + numba compile + fit)", lambda: umap_fit("k"))
timed("UMAP revisit (cached)", lambda: umap_fit("k"))
