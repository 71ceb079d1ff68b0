"""Devices and torch.distributed for training, in one place.

    python -m gfncp.train ...                               one process (no process group)
    torchrun --nproc_per_node=P -m gfncp.train ...          P processes, DistributedDataParallel

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous address in the environment;
`init` reads them and joins the process group (gloo on CPUs, NCCL on CUDA). WORLD_SIZE 1
(or none) starts no process group at all, so a single process runs exactly as before.

Each rank draws its own sets from its own seeded stream (`rank_seeds`): rank 0 keeps the
streams a single process has always used, so a one-process run is unchanged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "cpu", local_rank: int = 0) -> torch.device:
    """'auto' is CUDA when present, else the CPU; 'cuda' is this process's GPU (LOCAL_RANK);
    asking for a device that is not there is an error, not a silent fall-back."""
    if name not in DEVICES:
        raise ValueError(f"Unknown device {name!r}; choose from {', '.join(DEVICES)}.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda: no CUDA device is visible to torch.")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise RuntimeError("--device mps: the Apple-silicon MPS backend is not available.")
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class Context:
    """Where this process sits: rank r of world_size, on `device`."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None          # None: no process group (one process)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.world_size > 1


def init(device: str = "cpu") -> Context:
    """Join the process group torchrun describes in the environment (if WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world == 1:
        return Context(device=dev)
    if dev.type == "mps":
        raise RuntimeError("Data-parallel training on MPS is not supported by torch.distributed; use one process.")
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if dev.type == "cuda":
        torch.cuda.set_device(dev)          # NCCL and the object collectives use the current device
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return Context(rank, world, local_rank, dev, backend)


def close(ctx: Context) -> None:
    if ctx.parallel and dist.is_initialized():
        dist.destroy_process_group()


def rank_seeds(seed: int, rank: int) -> tuple[object, int]:
    """(numpy seed, torch seed) of rank r's own streams. Rank 0: the run's seed itself, the
    streams one process has always used; rank r > 0: independent streams derived from
    (seed, r) by numpy's SeedSequence."""
    if rank == 0:
        return seed, seed
    return [seed, rank], int(np.random.SeedSequence([seed, rank]).generate_state(1, np.uint64)[0] >> 1)


def size_stream_seed(seed: int) -> list[int]:
    """Seed of the stream every rank shares for the set size N of each step (P > 1 only): all
    ranks train on sets of the same N at the same step, so none waits for a rank that drew a
    larger N (the cost of a step grows with N) and a step's global batch is one batch of N."""
    return [seed, 2 ** 31 - 1]


def gather_to_main(ctx: Context, obj):
    """[obj of rank 0, obj of rank 1, ...] on rank 0, None elsewhere (picklable objects)."""
    if not ctx.parallel:
        return [obj]
    out = [None] * ctx.world_size if ctx.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


def from_main(ctx: Context, obj):
    """Rank 0's obj on every rank (picklable objects; others pass anything, e.g. None). Only
    rank 0 reads the run directory, so ranks on other nodes need no shared file system."""
    if not ctx.parallel:
        return obj
    box = [obj if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: Context) -> None:
    if ctx.parallel:
        dist.barrier()


class Objective(nn.Module):
    """The network and its training loss as one module whose forward returns (loss, stats).

    DistributedDataParallel synchronises gradients for what runs inside its wrapped module's
    forward (it marks the step there and hooks the parameters' gradients); the losses call the
    network's submodules directly (teacher forcing never calls net.forward), so it is this
    module, not the bare network, that DDP wraps. `loss_fn(net, *args)` is the objective.
    """

    def __init__(self, net: nn.Module, loss_fn):
        super().__init__()
        self.net = net
        self.loss_fn = loss_fn

    def forward(self, *args):
        return self.loss_fn(self.net, *args)


def wrap(ctx: Context, objective: Objective) -> nn.Module:
    """DDP around the objective when P > 1; the objective itself for one process."""
    if not ctx.parallel:
        return objective
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DDP(objective, device_ids=ids)
