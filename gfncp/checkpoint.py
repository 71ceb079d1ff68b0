"""Training checkpoints: everything a run needs to continue exactly, written atomically.

<run dir>/checkpoint.pt holds (torch.load(weights_only=True) reads it):
    format      2
    iteration   steps done (the learning-rate schedule is a pure function of it)
    seconds     wall time of the run so far
    model       the network's state dict (CPU tensors)
    optimizer   Adam's state dict (moments, step counts, current learning rate)
    world_size  processes that wrote it; a resume must use as many
    ranks       one entry per rank: its numpy and torch.Generator streams, the global torch
                RNG state, and the training statistics gathered since the last log row
    size_rng    the stream of set sizes every rank shares (None for one process)

A checkpoint is written to a temporary file in the same folder, flushed to disk and renamed
over the old one (os.replace is atomic on POSIX and Windows), so a kill at any moment
leaves the previous checkpoint or the new one, never half a file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

NAME = "checkpoint.pt"
FORMAT = 2


def save_atomic(obj, path: Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:                                   # make the rename itself durable (POSIX only)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def rank_state(rng: np.random.Generator, gen: torch.Generator, window: list[dict]) -> dict:
    """One rank's random streams and its statistics since the last log row."""
    return {"rng": rng.bit_generator.state, "gen": gen.get_state(), "torch": torch.get_rng_state(),
            "window": [dict(s) for s in window]}


def restore_rank(state: dict, rng: np.random.Generator, gen: torch.Generator) -> list[dict]:
    """Put one rank's streams back; returns its statistics window."""
    rng.bit_generator.state = state["rng"]
    gen.set_state(state["gen"])
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    return [dict(s) for s in state.get("window", [])]


def load(path: Path) -> dict:
    """Read a checkpoint (format 2, or the single-process format before it) as format 2."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if "format" not in ckpt:               # written before format 2: one process, no window
        ckpt = {"format": FORMAT, "iteration": ckpt["iteration"], "seconds": ckpt["seconds"],
                "model": ckpt["model"], "optimizer": ckpt["optimizer"], "world_size": 1,
                "ranks": [{"rng": ckpt["rng"], "gen": ckpt["gen"], "window": []}], "size_rng": None}
    return ckpt
