"""Train NCP or GFNCP on sets drawn fresh from the generative process.

    python -m gfncp.train --preset mog2d --model gfncp                 the shipped recipe, one process
    torchrun --nproc_per_node=2 -m gfncp.train --preset mog2d ...       data-parallel (docs/training.md)
    python -m gfncp.train --resume runs/gfncp-mog2d                    continue a run exactly

Every batch: one set size N ~ U[n_min, n_max], and for each row its own CRP partition
(alpha), its own data and its own random order, so the batch covers many label patterns.
The run directory holds `checkpoint.pt` (model, optimiser, step, every rank's RNG streams;
gfncp/checkpoint.py), `config.json`, `run.json` (device, processes), `log.csv`, `curve.svg`;
`--export` writes the tensors-only model and its card to assets/models/. One torch intra-op
thread per process by default (measured fastest here).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from . import checkpoint, data, distributed, registry
from .broad_prior import BroadPrior, broad_batch, make_broad, to_model_space
from .inference import Greedy, Sample, run_policy
from .losses import (LossWeights, anchor_loss, clean_loss, ncp_loss, paper_loss, policy_fm, swap_balance,
                     swap_labels, swap_pairs)
from .metrics import nmi
from .network import NetworkConfig, SetNetwork
from .partitions import canonical_labels
from .prior import TEXTBOOK
from .registry import save_model
from .runtime import configure_torch
from .teacher import teacher_forced


@dataclass
class TrainConfig:
    preset: str = "mog2d"
    kind: str = "gfncp"                # "gfncp" or "ncp"
    objective: str = "clean"           # gfncp: "clean" or "paper"; ncp: "nll"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    weights: LossWeights = field(default_factory=LossWeights)
    dataset: str = "mog"               # "mog" or "digits"
    dim: int = 2
    alpha: float = TEXTBOOK.alpha      # the textbook prior (gfncp.prior) unless a preset says otherwise
    sigma: float = TEXTBOOK.sigma
    lam: float = TEXTBOOK.lam
    n_min: int = 5
    n_max: int = 200
    k_max: int | None = None           # reject CRP partitions with more clusters (digits: 10)
    min_dim: int | None = None         # mog: zero the trailing dims of a batch down to a random
                                       # dim in [min_dim, dim], as routing pads smaller sets
    n_log_uniform: bool = True         # N log-uniform on [n_min, n_max]: all sizes seen, small ones cheap
    batch: int = 32
    iters: int = 2500
    lr: float = 5e-4
    lr_min: float = 1e-6
    fm_warmup: float = 0.2             # share of iterations with NLL only, then FM ramps in
    fm_ramp: float = 0.2               # share of iterations over which FM weight ramps 0 -> fm
    beta_uniform: float = 0.99         # paper: P(no exploration batch)
    seed: int = 123
    eval_every: int = 250
    val_sets: int = 20
    val_n: int = 100
    threads: int = 1
    init_from: str | None = None       # fine-tune: start from this checkpoint's weights
    paired_orders: bool = False        # each batch: B/2 sets, each in two random orders (the
                                       # order-consistency term needs pairs; NCP twins get the same data)

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.preset}"


def preset(name: str, kind: str) -> TrainConfig:
    """The shipped recipes: `python -m gfncp.train --preset P --model K` trains the model
    assets/models/K-P.pt was trained with (its card's "training" equals this; a test checks).
    Both twins of a pair share everything but the objective."""
    objective = "nll" if kind == "ncp" else "clean"
    # GFNCP's flow terms ramp in from step 0 in the mog2d, mog16d and digits recipes. NCP has
    # no flow terms, so fm_warmup does nothing there; its cards record the default, and so
    # does its preset.
    flows = {"fm_warmup": 0.0} if kind == "gfncp" else {}
    if name == "mog2d":
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dim=2, iters=12000, **flows,
                          network=NetworkConfig(x_dim=2, h_dim=128, g_dim=256, hidden=128, depth=4))
    elif name == "mog16d":
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dim=16, min_dim=3, iters=12000, n_max=200,
                          **flows, network=NetworkConfig(x_dim=16, h_dim=96, g_dim=192, hidden=96, depth=4))
    elif name == "digits":
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dataset="digits", dim=64,
                          n_min=5, n_max=200, k_max=10, iters=6000, sigma=float("nan"), lam=float("nan"), **flows,
                          network=NetworkConfig(x_dim=64, h_dim=96, g_dim=192, hidden=128, depth=4,
                                                center="mean"))
    elif name == "general":
        # Real tables: the broad prior (gfncp.broad_prior), every set standardised per
        # feature inside the network, so units never matter.
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dataset="broad", dim=16,
                          n_min=10, n_max=300, k_max=10, iters=10000, fm_warmup=0.3,
                          sigma=float("nan"), lam=float("nan"), alpha=float("nan"),
                          network=NetworkConfig(x_dim=16, h_dim=128, g_dim=256, hidden=128, depth=4,
                                                center="standardize"))
    elif name == "tiny":   # seconds; used by the tests
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dim=2, n_min=5, n_max=40, batch=16,
                          iters=60, eval_every=30, val_sets=8, val_n=40, fm_warmup=0.3, fm_ramp=0.3,
                          network=NetworkConfig(x_dim=2, h_dim=32, g_dim=32, hidden=32, depth=3))
    else:
        raise ValueError(f"Unknown preset {name!r}; choose from mog2d, mog16d, digits, general, tiny.")
    return cfg


# -- data --------------------------------------------------------------------------------

def draw_batch(cfg: TrainConfig, rng: np.random.Generator, n_points: int, split: str = "train"):
    if cfg.dataset == "digits":
        X, y = data.digits_batch(cfg.batch, n_points, rng, split=split, k_max=cfg.k_max or 10)
    elif cfg.dataset == "broad":
        X, y = broad_batch(cfg.batch, n_points, rng, BroadPrior())
    else:
        X, y = data.mog_batch(cfg.batch, n_points, cfg.dim, cfg.alpha, cfg.sigma, cfg.lam, rng, k_max=cfg.k_max)
        if cfg.min_dim is not None and rng.random() < 0.5:
            X[..., int(rng.integers(cfg.min_dim, cfg.dim)):] = 0.0
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


def draw_set_size(cfg: TrainConfig, rng: np.random.Generator) -> int:
    if cfg.n_log_uniform:
        return int(np.exp(rng.uniform(np.log(cfg.n_min), np.log(cfg.n_max + 1))))
    return int(rng.integers(cfg.n_min, cfg.n_max + 1))


def validation_sets(cfg: TrainConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fixed held-out sets (their own seed, never the training stream)."""
    rng = np.random.default_rng(10_000 + cfg.seed)
    sets = []
    for _ in range(cfg.val_sets):
        if cfg.dataset == "digits":
            X, y = data.make_digits_task(cfg.val_n, split="test", seed=rng)
        elif cfg.dataset == "broad":
            X, y = make_broad(cfg.val_n, seed=rng)
            X = to_model_space(X, cfg.dim)
        else:
            X, y = data.make_mog(cfg.val_n, dim=cfg.dim, alpha=cfg.alpha, sigma=cfg.sigma, lam=cfg.lam, seed=rng)
        sets.append((X, y))
    return sets


def validation_nmi(net: SetNetwork, sets) -> float:
    net.eval()
    scores = []
    for X, y in sets:
        Xt = torch.as_tensor(X, dtype=torch.float32, device=next(net.parameters()).device)
        pred = run_policy(net, Xt, Greedy()).labels[0].cpu().numpy()
        scores.append(nmi(y, pred))
    net.train()
    return float(np.mean(scores))


# -- objective -----------------------------------------------------------------------------

def flow_ramp(cfg: TrainConfig, it: int) -> float:
    """0 during the NLL-only warm-up, then linearly up to 1: the share of the flow terms'
    (fm, tb, order, fm_policy, swap, anchor) weights in force at iteration `it`."""
    start = cfg.fm_warmup * cfg.iters
    ramp = cfg.fm_ramp * cfg.iters
    if ramp <= 0:
        return 1.0 if it >= start else 0.0
    return min(max((it - start) / max(ramp, 1.0), 0.0), 1.0)


def merge_clusters(labels: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Paper exploration: give each true cluster a label drawn uniformly (with replacement)
    from its row's clusters, i.e. random merges; then re-canonicalise."""
    out = []
    for row in labels.cpu().numpy():
        k = row.max() + 1
        out.append(canonical_labels(rng.integers(0, k, size=k)[row]))
    return torch.as_tensor(np.stack(out), device=labels.device)


def pair_orders(X: torch.Tensor, y: torch.Tensor, rng: np.random.Generator):
    """The first half of a batch (B, N, d), (B, N) twice: as drawn, then each set in a fresh
    random order with its labels made canonical again. Returns (2 * (B // 2) rows, B // 2)."""
    h = X.shape[0] // 2
    perms = np.stack([rng.permutation(X.shape[1]) for _ in range(h)])
    idx = torch.as_tensor(perms, device=X.device)
    X2 = torch.gather(X[:h], 1, idx[..., None].expand(-1, -1, X.shape[2]))
    y2 = torch.as_tensor(canonical_labels(np.take_along_axis(y[:h].cpu().numpy(), perms, axis=1)),   # row-wise
                         device=y.device)
    return torch.cat([X[:h], X2]), torch.cat([y[:h], y2.to(y.dtype)]), h


def sample_policy(net: SetNetwork, X: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One clustering per set of the batch X (B, N, d), drawn from the current policy in the
    batch's order, as canonical labels (B, N) usable with autograd (not inference tensors)."""
    return run_policy(net, X, Sample(X.shape[0], gen)).labels.clone()


def add_swap(loss, stats, weight: float, net: SetNetwork, X, y, tf, rng: np.random.Generator):
    """loss + weight * swap balance (gfncp.losses.swap_balance): a second teacher-forced pass
    over the same sets with the disjoint adjacent pairs (2m + o, 2m + 1 + o), o random in {0, 1},
    swapped. X (B, N, d) and y (B, N) hold no padding (a training batch has one N)."""
    perm, first = swap_pairs(X.shape[1], int(rng.integers(2)), X.device)
    swap = swap_balance(tf, teacher_forced(net, X[:, perm], swap_labels(y, perm)), first)
    return loss + weight * swap, {**stats, "swap": swap.item()}


def add_swap_policy(loss, stats, weight: float, net: SetNetwork, X, rng: np.random.Generator, gen: torch.Generator):
    """loss + weight * swap balance along one clustering per set drawn from the current policy:
    the states the model visits (ambiguous ones included), not only the true path."""
    sampled = sample_policy(net, X, gen)
    tf = teacher_forced(net, X, sampled)
    perm, first = swap_pairs(X.shape[1], int(rng.integers(2)), X.device)
    swap = swap_balance(tf, teacher_forced(net, X[:, perm], swap_labels(sampled, perm)), first)
    return loss + weight * swap, {**stats, "swap_policy": swap.item()}


def compute_loss(cfg: TrainConfig, net: SetNetwork, X, y, it: int, rng: np.random.Generator, gen: torch.Generator):
    n_pairs = 0
    if cfg.paired_orders:
        X, y, n_pairs = pair_orders(X, y, rng)
    if cfg.kind == "ncp":
        tf = teacher_forced(net, X, y)
        loss, stats = ncp_loss(tf)
        if cfg.weights.swap > 0:         # the swap ablation: NCP with the same term
            loss, stats = add_swap(loss, stats, flow_ramp(cfg, it) * cfg.weights.swap, net, X, y, tf, rng)
        if cfg.weights.swap_policy > 0:
            loss, stats = add_swap_policy(loss, stats, flow_ramp(cfg, it) * cfg.weights.swap_policy, net, X, rng, gen)
        return loss, stats
    if cfg.objective == "clean":
        f = flow_ramp(cfg, it)
        w = replace(cfg.weights, fm=f * cfg.weights.fm, tb=f * cfg.weights.tb, order=f * cfg.weights.order,
                    fm_policy=f * cfg.weights.fm_policy, swap=f * cfg.weights.swap, anchor=f * cfg.weights.anchor,
                    swap_policy=f * cfg.weights.swap_policy)
        tf = teacher_forced(net, X, y)
        loss, stats = clean_loss(tf, w, n_pairs)
        stats["w_fm"] = w.fm
        if cfg.weights.swap > 0:
            loss, stats = add_swap(loss, stats, w.swap, net, X, y, tf, rng)
        if cfg.weights.swap_policy > 0:
            loss, stats = add_swap_policy(loss, stats, w.swap_policy, net, X, rng, gen)
        if cfg.weights.anchor > 0:
            anchor = anchor_loss(tf)
            loss = loss + w.anchor * anchor
            stats["anchor"] = anchor.item()
        if w.fm_policy > 0:
            sampled = sample_policy(net, X, gen)
            fm_p = policy_fm(teacher_forced(net, X, sampled))
            loss = loss + w.fm_policy * fm_p
            stats["fm_policy"] = fm_p.item()
        return loss, stats
    if cfg.objective == "paper":
        from .teacher import log_reward
        explore = rng.random() > cfg.beta_uniform
        if explore:
            y = merge_clusters(y, rng)
        tf = teacher_forced(net, X, y)
        log_r_sample = None
        if not explore:
            # Negative sample on-policy without a graph, then its terminal log-flow with one.
            log_r_sample = log_reward(net, X, sample_policy(net, X, gen))
        return paper_loss(tf, cfg.weights, log_r_sample, explore=explore)
    raise ValueError(f"Unknown objective {cfg.objective!r}")


# -- the loop ------------------------------------------------------------------------------

def learning_rate(cfg: TrainConfig, it: int) -> float:
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * it / cfg.iters))


class RunError(ValueError):
    """A run directory that cannot be used as asked (a checkpoint without --resume, nothing to
    resume, another configuration, another number of processes, an indivisible batch)."""


@dataclass
class RunOptions:
    """How a run is executed; none of these change what it learns (on one CPU process)."""

    device: str = "cpu"                # "auto", "cpu", "cuda" or "mps" (distributed.resolve_device)
    ckpt_every: int | None = None      # iterations between checkpoints; None: cfg.eval_every
    resume: bool = False               # continue the run in run_dir from its checkpoint
    stop_at: int | None = None         # stop after this iteration, as an interrupted run would
                                       # (with a checkpoint there): tests and time-sliced jobs
    command: str = ""                  # the command line, recorded in run.json for the card


def train_step(model, opt: torch.optim.Optimizer, cfg: TrainConfig, X: torch.Tensor, y: torch.Tensor, it: int,
               rng: np.random.Generator, gen: torch.Generator) -> dict:
    """One optimiser step on this process's batch X (B, N, d), labels y (B, N).

    `model` is a distributed.Objective (one process) or DDP around one: with DDP, backward
    averages the gradients over the ranks, and since every loss is a mean over its batch, P
    ranks at batch B / P take the step one process takes at batch B. -> the step's statistics.
    """
    for group in opt.param_groups:
        group["lr"] = learning_rate(cfg, it)
    loss, stats = model(X, y, it, rng, gen)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    stats["loss"] = loss.item()
    return stats


def window_means(window: list[dict], fields: list[str]) -> dict:
    return {k: float(np.mean([s[k] for s in window if k in s])) for k in fields if any(k in s for s in window)}


def merge_ranks(means: list[dict]) -> dict:
    """Average each statistic over the ranks that have it (one rank: its values unchanged)."""
    if len(means) == 1:
        return means[0]
    keys = [k for k in means[0]] + [k for m in means[1:] for k in m if k not in means[0]]
    return {k: float(np.mean([m[k] for m in means if k in m])) for k in keys}


def train(cfg: TrainConfig, run_dir: Path, progress: bool = True, options: RunOptions | None = None) -> SetNetwork:
    """Train on one process, or as one rank of a torchrun job (WORLD_SIZE > 1 in the
    environment: DistributedDataParallel, cfg.batch is the global batch). Rank 0 alone writes
    the run directory: config.json, run.json, log.csv, curve.svg, checkpoint.pt."""
    opts = options or RunOptions()
    owned = not (dist.is_available() and dist.is_initialized())
    ctx = distributed.init(opts.device)
    try:
        return _train(cfg, Path(run_dir), progress, opts, ctx)
    finally:
        if owned:
            distributed.close(ctx)


LOG_FIELDS = ["iteration", "seconds", "lr", "loss", "nll", "fm", "gap", "w_fm", "order", "fm_policy", "swap", "anchor",
              "swap_policy", "val_nmi"]


def _check_resumable(cfg: TrainConfig, run_dir: Path, opts: RunOptions, ckpt_path: Path) -> None:
    if ckpt_path.exists() and not opts.resume:
        raise RunError(f"{run_dir} holds the checkpoint of an earlier run. Continue it with "
                              f"`--resume {run_dir}`, or start a new run under another --run-name or --out.")
    if opts.resume:
        if not ckpt_path.exists() or not (run_dir / "config.json").exists():
            raise RunError(f"--resume {run_dir}: there is no {ckpt_path.name} and config.json to continue from.")
        saved = json.loads((run_dir / "config.json").read_text())
        now = json.loads(config_json(cfg))
        diff = [k for k in now if json.dumps(now[k]) != json.dumps(saved.get(k))]
        if diff:
            raise RunError(f"--resume {run_dir}: the run was configured with other values of {', '.join(diff)}; "
                             "a resumed run keeps its configuration (config.json).")


def _train(cfg: TrainConfig, run_dir: Path, progress: bool, opts: RunOptions, ctx: distributed.Context) -> SetNetwork:
    configure_torch(cfg.threads)
    if cfg.batch % ctx.world_size:
        raise RunError(f"The global batch ({cfg.batch}) must be a multiple of the number of processes "
                       f"({ctx.world_size}).")
    ckpt_every = opts.ckpt_every or cfg.eval_every
    ckpt_path = run_dir / checkpoint.NAME
    if ctx.is_main:                      # an error here ends the job: torchrun stops the other ranks
        _check_resumable(cfg, run_dir, opts, ckpt_path)
    torch.manual_seed(cfg.seed)          # weight init only (the same on every rank); data use the streams below
    net = SetNetwork(cfg.network)
    if cfg.init_from:
        state = torch.load(cfg.init_from, map_location="cpu", weights_only=True)
        net.load_state_dict(state["model"] if "model" in state else state)   # a run's checkpoint or a shipped .pt
    np_seed, torch_seed = distributed.rank_seeds(cfg.seed, ctx.rank)
    rng = np.random.default_rng(np_seed)
    gen = torch.Generator(device=ctx.device).manual_seed(torch_seed)
    # One process draws N from its own stream, as it always has; P ranks share a stream for N.
    size_rng = np.random.default_rng(distributed.size_stream_seed(cfg.seed)) if ctx.parallel else rng
    start_it, elapsed, window = 0, 0.0, []
    ckpt = distributed.from_main(ctx, checkpoint.load(ckpt_path) if opts.resume and ctx.is_main else None)
    if ckpt is not None:
        if ckpt["world_size"] != ctx.world_size:
            raise RunError(f"--resume {run_dir}: the checkpoint was written by {ckpt['world_size']} processes; "
                           f"resume it with as many (this job has {ctx.world_size}).")
        net.load_state_dict(ckpt["model"])
    net.to(ctx.device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        window = checkpoint.restore_rank(ckpt["ranks"][ctx.rank], rng, gen)
        if ckpt["size_rng"] is not None:
            size_rng.bit_generator.state = ckpt["size_rng"]
        start_it, elapsed = ckpt["iteration"], ckpt["seconds"]

    per_rank = cfg.batch // ctx.world_size
    rank_cfg = replace(cfg, batch=per_rank) if ctx.parallel else cfg
    log_path = run_dir / "log.csv"
    fields = list(LOG_FIELDS)
    val = None
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if ckpt is None:
            (run_dir / "config.json").write_text(config_json(cfg))
            run_info = {"command": opts.command, "device": str(ctx.device), "world_size": ctx.world_size,
                        "backend": ctx.backend, "batch_per_rank": per_rank, "global_batch": cfg.batch}
            (run_dir / "run.json").write_text(json.dumps(run_info, indent=2) + "\n")
        fields = _open_log(log_path, fields, start_it)
        if ctx.parallel:
            print(f"data-parallel: {ctx.world_size} processes ({ctx.backend}, {ctx.device.type}); global batch "
                  f"{cfg.batch} sets = {ctx.world_size} x {per_rank} per rank", flush=True)
        val = validation_sets(cfg)

    bar = None
    if progress and ctx.is_main:
        from tqdm import tqdm
        bar = tqdm(total=cfg.iters, initial=start_it, desc=cfg.name, dynamic_ncols=True)
    model = distributed.wrap(ctx, distributed.Objective(net, partial(_loss, cfg)))
    net.train()
    t0 = time.perf_counter() - elapsed
    for it in range(start_it, cfg.iters):
        n_points = draw_set_size(cfg, size_rng)
        X, y = draw_batch(rank_cfg, rng, n_points)
        window.append(train_step(model, opt, cfg, X.to(ctx.device), y.to(ctx.device), it, rng, gen))
        if bar is not None:
            bar.update(1)
        done = it + 1
        if done % cfg.eval_every == 0 or done == cfg.iters:
            means = distributed.gather_to_main(ctx, window_means(window, fields))
            window.clear()
            if ctx.is_main:
                row = merge_ranks(means)
                row.update(iteration=done, seconds=round(time.perf_counter() - t0, 1),
                           lr=learning_rate(cfg, it), val_nmi=validation_nmi(net, val))
                with open(log_path, "a", newline="") as f:
                    csv.writer(f).writerow([row.get(k, "") for k in fields])
                if bar is not None:
                    bar.set_postfix(loss=f"{row['loss']:.3f}", val_nmi=f"{row['val_nmi']:.3f}")
                write_curve(log_path, run_dir / "curve.svg", title=cfg.name)
        stop = opts.stop_at is not None and done >= opts.stop_at
        if done % ckpt_every == 0 or done == cfg.iters or stop:
            ranks = distributed.gather_to_main(ctx, checkpoint.rank_state(rng, gen, window))
            if ctx.is_main:
                checkpoint.save_atomic({
                    "format": checkpoint.FORMAT, "iteration": done, "seconds": round(time.perf_counter() - t0, 1),
                    "model": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                    "optimizer": _to_cpu(opt.state_dict()), "world_size": ctx.world_size, "ranks": ranks,
                    "size_rng": size_rng.bit_generator.state if ctx.parallel else None}, ckpt_path)
        if stop:
            break
    if bar is not None:
        bar.close()
    distributed.barrier(ctx)             # every rank returns once the last checkpoint is on disk
    net.eval()
    return net


def _loss(cfg: TrainConfig, net: SetNetwork, X, y, it, rng, gen):
    return compute_loss(cfg, net, X, y, it, rng, gen)


def _to_cpu(obj):
    """A state dict with every tensor on the CPU (checkpoints load on any device)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _open_log(log_path: Path, fields: list[str], start_it: int) -> list[str]:
    """A new log with `fields`, or a resumed run's log: its own columns (those it started
    with), cut back to the checkpoint's iteration (rows written after the checkpoint, by a run
    killed before its next one, are written again)."""
    if start_it == 0 or not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(fields)
        return fields
    with open(log_path, newline="") as f:
        rows = list(csv.reader(f))
    fields, body = rows[0], [r for r in rows[1:] if r and float(r[0]) <= start_it]
    with open(log_path, "w", newline="") as f:
        csv.writer(f).writerows([fields] + body)
    return fields


def config_json(cfg: TrainConfig) -> str:
    return json.dumps(asdict(cfg), indent=2, default=str)


def config_from_dict(d: dict) -> TrainConfig:
    """The inverse of asdict(TrainConfig) (config.json, a card's "training" + "network")."""
    d = dict(d)
    net = NetworkConfig.from_dict(d.pop("network"))
    w = LossWeights(**{k: v for k, v in d.pop("weights", {}).items() if k in LossWeights.__dataclass_fields__})
    fields = TrainConfig.__dataclass_fields__
    # export writes NaN (a prior parameter the data set does not have) as null: strict JSON
    d = {k: (float("nan") if v is None and isinstance(fields[k].default, float) else v) for k, v in d.items()
         if k in fields}
    return TrainConfig(network=net, weights=w, **d)


def read_log(log_path: Path) -> list[dict]:
    with open(log_path) as f:
        return [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(f)]


def write_curve(log_path: Path, out: Path, title: str = "") -> None:
    """A dependency-free SVG of training loss and validation NMI against iteration."""
    rows = read_log(log_path)
    if not rows:
        return
    W, Hh, pad = 640, 300, 40
    its = [r["iteration"] for r in rows]
    x_max = max(its) or 1

    def polyline(values, color, lo, hi):
        span = (hi - lo) or 1.0
        pts = " ".join(f"{pad + (W - 2 * pad) * i / x_max:.1f},{Hh - pad - (Hh - 2 * pad) * (v - lo) / span:.1f}"
                       for i, v in zip(its, values))
        return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>'

    loss = [r.get("loss", 0.0) for r in rows]
    val = [r.get("val_nmi", 0.0) for r in rows]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{Hh}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{pad}" y="20">{title}: training loss (blue, {min(loss):.3g}..{max(loss):.3g}) and '
           f'validation NMI (orange, 0..1) vs iteration (0..{int(x_max)})</text>',
           f'<line x1="{pad}" y1="{Hh - pad}" x2="{W - pad}" y2="{Hh - pad}" stroke="#888"/>',
           polyline(loss, "#1f77b4", min(loss), max(loss)), polyline(val, "#ff7f0e", 0.0, 1.0), "</svg>"]
    out.write_text("\n".join(svg))


def export(cfg: TrainConfig, net: SetNetwork, run_dir: Path, command: str, models_dir: Path | None = None) -> Path:
    rows = read_log(run_dir / "log.csv")
    card = {
        "name": cfg.name, "kind": cfg.kind, "dim": cfg.dim, "objective": cfg.objective,
        "network": cfg.network.to_dict(), "n_parameters": net.n_parameters(),
        "training": {k: (None if isinstance(v, float) and math.isnan(v) else v)   # strict JSON: no NaN
                     for k, v in asdict(cfg).items() if k != "network"},
        "training_data": describe_data(cfg),
        "training_seconds": rows[-1]["seconds"] if rows else None,
        "final_validation_nmi": rows[-1].get("val_nmi") if rows else None,
        "command": command,
    }
    run_info = run_dir / "run.json"
    if run_info.exists():                 # how it ran: device, processes, batch per process
        info = json.loads(run_info.read_text())
        card["training_run"] = {k: info[k] for k in ("device", "world_size", "batch_per_rank", "global_batch")
                                if k in info}
        if info.get("world_size", 1) > 1:
            card["training_run"]["note"] = (
                f"data-parallel over {info['world_size']} processes ({info.get('backend')}): each step's batch of "
                f"{cfg.batch} sets is the sum of {info['world_size']} x {info['batch_per_rank']} drawn by the ranks "
                "from their own streams")
    if cfg.dataset == "broad":
        card["broad_prior"] = BroadPrior().to_dict()
        card["input_mapping"] = (
            f"Any set (N, d) in any units: standardised per feature (median, IQR / 1.349; gfncp.standardize), then "
            f"zero-padded to {cfg.dim} features or projected on its first {cfg.dim} principal axes "
            "(gfncp.broad_prior.to_model_space, gfncp.routing.map_to_pair); the network standardises each feature "
            "again inside itself, so its answer does not depend on the units.")
    if cfg.dataset == "mog" and cfg.dim > 2:
        card["input_mapping"] = (
            f"Sets of dimension d < {cfg.dim} are zero-padded to {cfg.dim}; d > {cfg.dim} are projected on their "
            f"first {cfg.dim} principal axes (per set, sign-fixed, order-invariant); gfncp.routing.fit_dimension."
            + (f" Half of the training batches had their trailing dimensions zeroed down to a random d in "
               f"[{cfg.min_dim}, {cfg.dim}) for this reason." if cfg.min_dim else ""))
    return save_model(net, cfg.kind, card, registry.models_folder(models_dir) / f"{cfg.name}.pt")


def describe_data(cfg: TrainConfig) -> str:
    if cfg.dataset == "broad":
        return (BroadPrior().describe() + f" N in [{cfg.n_min}, {cfg.n_max}], a fresh random order per set.")
    if cfg.dataset == "digits":
        return (f"scikit-learn 8x8 digits (64-D, pixel values / 16 in [0, 1]), train split; each set: K <= "
                f"{cfg.k_max} distinct classes with CRP(alpha={cfg.alpha}) cluster sizes, N in [{cfg.n_min}, "
                f"{cfg.n_max}], random order; per-set mean centring inside the model.")
    return (f"CRP(alpha={cfg.alpha}) mixtures of isotropic Gaussians in {cfg.dim}-D: centres ~ N(0, {cfg.lam}^2 I), "
            f"points ~ N(centre, {cfg.sigma}^2 I) (units: within-cluster std = {cfg.sigma}); N in [{cfg.n_min}, "
            f"{cfg.n_max}], a fresh random order per set; per-set median centring inside the model.")


# Every flag that changes the configuration: --resume refuses them (a resumed run keeps its own).
CONFIG_FLAGS = ("objective", "iters", "fm", "tb", "fm_policy", "order", "paired_orders", "lr", "batch", "fm_warmup",
                "fm_ramp", "swap", "swap_policy", "anchor", "h_dim", "g_dim", "hidden", "depth", "init_from", "seed",
                "threads")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gfncp.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="mog2d", help="a shipped recipe: mog2d, mog16d, digits, tiny")
    p.add_argument("--model", choices=["gfncp", "ncp"], default="gfncp")
    p.add_argument("--objective", choices=["clean", "paper", "nll"], default=None)
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--fm", type=float, default=None, help="flow-matching weight (clean objective)")
    p.add_argument("--tb", type=float, default=None, help="trajectory-balance gap weight (clean objective)")
    p.add_argument("--fm-policy", type=float, default=None,
                   help="flow-matching weight along clusterings sampled from the policy (clean objective)")
    p.add_argument("--order", type=float, default=None,
                   help="order-consistency weight (clean objective; implies --paired-orders)")
    p.add_argument("--swap", type=float, default=None,
                   help="swap-balance weight: adjacent pairs swapped, residual d^2 (clean objective or NCP)")
    p.add_argument("--swap-policy", type=float, default=None,
                   help="swap-balance weight along clusterings sampled from the policy (clean objective or NCP)")
    p.add_argument("--anchor", type=float, default=None,
                   help="flow-level anchor weight: log F(root) -> 0, log R(c_true) -> log q(c_true) (clean objective)")
    p.add_argument("--paired-orders", action="store_true",
                   help="batches of B/2 sets, each in two random orders (give an NCP twin the same data)")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch", type=int, default=None,
                   help="sets per step, summed over all processes (each of P processes draws batch / P)")
    p.add_argument("--fm-warmup", type=float, default=None, help="share of iterations before FM ramps in")
    p.add_argument("--fm-ramp", type=float, default=None,
                   help="share of iterations over which the flow terms ramp in (0: at full weight from the start)")
    p.add_argument("--h-dim", type=int, default=None, help="width of the point encodings h, q (network)")
    p.add_argument("--g-dim", type=int, default=None, help="output width of the cluster network g (network)")
    p.add_argument("--hidden", type=int, default=None,
                   help="hidden width of every MLP (network; the inference loop pays for it per option row)")
    p.add_argument("--depth", type=int, default=None, help="Linear layers per MLP (network; paid per option row)")
    p.add_argument("--init-from", default=None,
                   help="fine-tune from this run's checkpoint.pt, or a shipped model's assets/models/<name>.pt")
    p.add_argument("--run-name", default=None, help="run directory name (default: the model name)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default="runs", help="parent folder of the run directory")
    # The CPU by default: the shipped recipes reproduce their models bit for bit there, and a
    # plain command runs as it always has. auto: CUDA when present, else the CPU.
    p.add_argument("--device", choices=distributed.DEVICES, default="cpu",
                   help="cpu (default), cuda (under torchrun: the GPU of LOCAL_RANK), mps, or auto: CUDA when "
                        "present, else the CPU")
    p.add_argument("--ckpt-every", type=int, default=None,
                   help="iterations between checkpoints (default: the preset's eval_every)")
    p.add_argument("--resume", default=None, metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its checkpoint, with its saved configuration")
    p.add_argument("--export", action="store_true", help="write assets/models/<name>.pt + .json when done")
    p.add_argument("--no-progress", action="store_true")
    return p


def config_from_args(a: argparse.Namespace) -> TrainConfig:
    """The preset, then every flag given on top of it."""
    cfg = preset(a.preset, a.model)
    if a.objective:
        cfg.objective = a.objective
    if cfg.objective == "paper":
        cfg.weights = replace(cfg.weights, nll=0.0)
    for key in ("iters", "seed", "threads", "lr", "batch", "fm_warmup", "fm_ramp", "init_from"):
        if getattr(a, key) is not None:
            setattr(cfg, key, getattr(a, key))
    for key in ("fm", "tb", "order", "fm_policy", "swap", "anchor", "swap_policy"):
        if getattr(a, key) is not None:
            cfg.weights = replace(cfg.weights, **{key: getattr(a, key)})
    cfg.paired_orders = bool(a.paired_orders or (a.order or 0) > 0)
    # h_dim and g_dim are widths the inference loop never pays for per option row (h and q enter
    # through per-point and per-step terms, g's output is folded into the head's first layer);
    # hidden and depth it pays for in every row (README, "Performance").
    for key in ("h_dim", "g_dim", "hidden", "depth"):
        if getattr(a, key) is not None:
            cfg.network = replace(cfg.network, **{key: getattr(a, key)})
    return cfg


def command_line(argv) -> str:
    """How this process was started, as a person would type it (torchrun for P > 1)."""
    args = " ".join(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return f"python -m gfncp.train {args}"
    local = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    nodes = f"--nnodes={world // local} " if world != local else ""
    return f"torchrun {nodes}--nproc_per_node={local} -m gfncp.train {args}"


def main(argv=None):
    p = parser()
    argv = list(os.sys.argv[1:] if argv is None else argv)
    a = p.parse_args(argv)
    if a.resume:
        given = [k for k in CONFIG_FLAGS if getattr(a, k) not in (None, False)]
        if given:
            p.error(f"--resume continues a run with its saved configuration; drop --{', --'.join(given)}"
                    .replace("_", "-"))
        run_dir = Path(a.resume)
        if not (run_dir / "config.json").exists():
            p.error(f"--resume {run_dir}: no config.json there (is it a run directory?)")
        cfg = config_from_dict(json.loads((run_dir / "config.json").read_text()))
    else:
        cfg = config_from_args(a)
        run_dir = Path(a.out) / (a.run_name or cfg.name)
    opts = RunOptions(device=a.device, ckpt_every=a.ckpt_every, resume=bool(a.resume), command=command_line(argv))
    try:
        net = train(cfg, run_dir, progress=not a.no_progress, options=opts)
    except RunError as e:                 # a person's mistake: say what to do, no traceback
        p.exit(2, f"{p.prog}: error: {e}\n")
    if a.export and int(os.environ.get("RANK", "0")) == 0:
        # The card names the command that started the run, not the one that resumed it.
        started = json.loads((run_dir / "run.json").read_text()).get("command") if a.resume else None
        path = export(cfg, net, run_dir, started or opts.command)
        print(f"exported {path}")


if __name__ == "__main__":
    main()
