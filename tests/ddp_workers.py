"""Worker functions for the data-parallel tests (tests/test_distributed.py).

torch.multiprocessing's spawn imports them by name in each child process, so they live in a
module of their own, not in the test file. Each sets the environment torchrun would set for
rank `rank` of `world` and writes what the test compares under `out`.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch


def _as_rank(rank: int, world: int, port: int) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))


def train_tiny(rank: int, world: int, port: int, root: str) -> None:
    """The library's training loop as one rank of a torchrun job: a whole run ("whole"), and
    the same run stopped at iteration 3 and resumed ("cut"); saves this rank's final weights."""
    _as_rank(rank, world, port)
    from gfncp import distributed
    from gfncp.train import RunOptions, preset, train

    distributed.init("cpu")               # one process group for the three runs (a no-op if joined)
    cfg = replace(preset("tiny", "gfncp"), iters=6, eval_every=3, fm_warmup=0.0, fm_ramp=0.0, n_max=20,
                  val_sets=2, val_n=20)
    root = Path(root)
    net = train(cfg, root / "whole", progress=False)
    train(cfg, root / "cut", progress=False, options=RunOptions(ckpt_every=2, stop_at=3))
    resumed = train(cfg, root / "cut", progress=False, options=RunOptions(ckpt_every=2, resume=True))
    torch.save({"whole": net.state_dict(), "resumed": resumed.state_dict()}, root / f"rank{rank}.pt")


def reference_sets(batch: int = 8, n_points: int = 12):
    """The sets both the one-process and the two-process step see: X (B, N, 2), y (B, N)."""
    from gfncp import data

    X, y = data.mog_batch(batch, n_points, 2, 0.7, 1.0, 10.0, np.random.default_rng(7))
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)


def two_steps(world: int, rank: int = 0):
    """Two optimiser steps of the training loop's train_step on this rank's share of the
    reference sets (all of them for one process).
    -> (gradients of steps 1 and 2 {name: (2, *shape)}, weights after step 2)."""
    from gfncp import distributed
    from gfncp.network import SetNetwork
    from gfncp.train import _loss, preset, train_step
    from functools import partial

    cfg = replace(preset("tiny", "gfncp"), fm_warmup=0.0, fm_ramp=0.0)
    torch.manual_seed(0)
    net = SetNetwork(cfg.network)
    ctx = distributed.init("cpu")
    model = distributed.wrap(ctx, distributed.Objective(net, partial(_loss, cfg)))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    X, y = reference_sets()
    share = len(X) // world
    X, y = X[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    train_step(model, opt, cfg, X, y, 0, rng, gen)
    first = {k: p.grad.clone() for k, p in net.named_parameters()}
    train_step(model, opt, cfg, X, y, 1, rng, gen)
    grads = {k: torch.stack([first[k], p.grad]) for k, p in net.named_parameters()}
    return grads, {k: v.clone() for k, v in net.state_dict().items()}


def both(rank: int, world: int, port: int, root: str) -> None:
    """train_tiny and then two_steps in the same process group (one start-up for both tests:
    starting two processes that import torch is most of their cost)."""
    _as_rank(rank, world, port)
    import torch.distributed as dist

    from gfncp import distributed

    distributed.init("cpu")
    train_tiny(rank, world, port, root)
    grads, weights = two_steps(world, rank)
    torch.save({"grads": grads, "weights": weights}, Path(root) / f"step{rank}.pt")
    dist.destroy_process_group()
