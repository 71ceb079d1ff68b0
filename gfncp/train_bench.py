"""Training throughput: sets per second of one process against P data-parallel processes.

    python -m gfncp.bench --train [--procs 1 2] [--iters 40] [--warmup 5] [--batch 32] [--preset mog2d]

Each configuration is a real torchrun job (`python -m torch.distributed.run --standalone
--nproc_per_node=P -m gfncp.train_bench --worker ...`) running the training loop's own step
(gfncp.train.train_step, DDP over gloo for P > 1) at the same global batch: P = 1 draws the
whole batch, each of P ranks batch / P. Every configuration sees the same sequence of set sizes
N (the cost of a step grows steeply with N), so only the parallelism differs. Start-up,
process-group set-up and `--warmup` steps are not timed. The result table, with the machine's
load average (other work on the cores slows both, two processes more), replaces the block
`train-throughput` in docs/performance.md (gfncp/doc_blocks.py).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from . import doc_blocks

BLOCK = "train-throughput"


def worker(a: argparse.Namespace) -> None:
    """One rank: `warmup` untimed steps, then `iters` timed ones; rank 0 prints a JSON line."""
    from . import distributed
    from .network import SetNetwork
    from .runtime import configure_torch
    from .train import _loss, draw_batch, draw_set_size, preset, train_step

    ctx = distributed.init("cpu")
    cfg = replace(preset(a.preset, a.model), batch=a.batch)
    configure_torch(cfg.threads)
    torch.manual_seed(cfg.seed)
    net = SetNetwork(cfg.network)
    model = distributed.wrap(ctx, distributed.Objective(net, partial(_loss, cfg)))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    np_seed, torch_seed = distributed.rank_seeds(cfg.seed, ctx.rank)
    rng, gen = np.random.default_rng(np_seed), torch.Generator().manual_seed(torch_seed)
    sizes = np.random.default_rng(distributed.size_stream_seed(cfg.seed))   # the same N sequence for every P
    rank_cfg = replace(cfg, batch=cfg.batch // ctx.world_size)
    t0 = 0.0
    for it in range(a.warmup + a.iters):
        if it == a.warmup:
            distributed.barrier(ctx)
            t0 = time.perf_counter()
        X, y = draw_batch(rank_cfg, rng, draw_set_size(cfg, sizes))
        train_step(model, opt, cfg, X, y, it, rng, gen)
    distributed.barrier(ctx)
    seconds = time.perf_counter() - t0
    if ctx.is_main:
        print("RESULT " + json.dumps({"procs": ctx.world_size, "batch_per_proc": rank_cfg.batch,
                                      "global_batch": cfg.batch, "steps": a.iters, "seconds": seconds,
                                      "sets_per_s": a.iters * cfg.batch / seconds}), flush=True)
    distributed.close(ctx)


def run(procs: int, a: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
           "-m", "gfncp.train_bench", "--worker", "--preset", a.preset, "--model", a.model, "--batch", str(a.batch),
           "--iters", str(a.iters), "--warmup", str(a.warmup)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def table(results: list[dict], a: argparse.Namespace, load: tuple, command: str) -> str:
    base = results[0]["sets_per_s"]
    rows = [[r["procs"], r["batch_per_proc"], r["global_batch"], r["steps"], f"{r['seconds']:.1f}",
             f"{r['sets_per_s']:.1f}", f"{r['sets_per_s'] / base:.2f}x"] for r in results]
    note = (f"preset {a.preset}, {a.model}; one torch thread per process, gloo; load average {load[0][0]:.1f} "
            f"before, {load[1][0]:.1f} after")
    return "\n".join([doc_blocks.provenance(command, note), "", doc_blocks.markdown_table(
        ["processes", "sets per process per step", "global batch", "timed steps", "seconds", "sets / s",
         "vs 1 process"], rows)])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m gfncp.bench --train")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2], help="process counts to compare (first: baseline)")
    p.add_argument("--preset", default="mog2d")
    p.add_argument("--model", choices=["gfncp", "ncp"], default="gfncp")
    p.add_argument("--batch", type=int, default=32, help="global batch (sets per step over all processes)")
    p.add_argument("--iters", type=int, default=40, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--doc", default=str(doc_blocks.PERFORMANCE),
                   help="writes its table into this file's train-throughput block (docs/performance.md)")
    p.add_argument("--no-write", action="store_true", help="print only")
    argv = list(sys.argv[1:] if argv is None else argv)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a)
    load_before = os.getloadavg()
    results = [run(n, a) for n in a.procs]
    text = table(results, a, (load_before, os.getloadavg()),
                 "python -m gfncp.bench --train " + " ".join(x for x in argv if x != "--no-write"))
    print(text)
    if not a.no_write:
        doc_blocks.replace_block(BLOCK, text, Path(a.doc))
        print(f"wrote {a.doc}")


if __name__ == "__main__":
    main()
