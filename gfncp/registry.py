"""Checkpoint registry: tensors-only `.pt` files next to their JSON model cards.

assets/models/<name>.pt    the state dict (loaded with torch.load(weights_only=True))
assets/models/<name>.json  the model card: kind, dim, network config, training set-up,
                           evaluation metrics, and the command that reproduces the model

Models load on the CPU unless asked otherwise: the `device` argument, else the environment
variable GFNCP_DEVICE ("cpu", "cuda", "mps" or "auto": CUDA when present). The library, the
CLI and the app all load through here, so GFNCP_DEVICE moves all three.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from .network import NetworkConfig, SetNetwork

# GFNCP_MODELS_DIR lets a developer point the library at another folder of checkpoints.
MODELS_DIR = Path(os.environ.get("GFNCP_MODELS_DIR", Path(__file__).resolve().parent.parent / "assets" / "models"))


def save_model(net: SetNetwork, kind: str, card: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    card = {**card, "kind": kind, "network": net.config.to_dict()}
    torch.save({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, path)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    return path


def models_folder(models_dir=None) -> Path:
    """The models folder: the argument, else MODELS_DIR as it is now (tests may patch it)."""
    return Path(models_dir) if models_dir is not None else Path(MODELS_DIR)


def read_card(name: str, models_dir: Path | None = None) -> dict:
    models_dir = models_folder(models_dir)
    path = models_dir / f"{name}.json"
    if not path.exists():
        raise KeyError(f"No pretrained model named {name!r}; available: {list_pretrained(models_dir)}")
    return json.loads(path.read_text())


def list_pretrained(models_dir: Path | None = None) -> list[str]:
    """Names of the shipped models (those with both weights and a card)."""
    d = models_folder(models_dir)
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.pt") if p.with_suffix(".json").exists())


def model_device(device: str | None = None) -> torch.device:
    """The device models load on: `device`, else GFNCP_DEVICE, else the CPU."""
    from .distributed import resolve_device

    return resolve_device(device or os.environ.get("GFNCP_DEVICE", "cpu").strip().lower() or "cpu")


def _ready_network(network_config: dict, state: dict, device: str | None) -> SetNetwork:
    """A network built from its config with `state` loaded, on its device, in eval mode, frozen."""
    net = SetNetwork(NetworkConfig.from_dict(network_config))
    net.load_state_dict(state)
    net.to(model_device(device))
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def load_network(name: str, models_dir: Path | None = None, device: str | None = None) -> tuple[SetNetwork, dict]:
    models_dir = models_folder(models_dir)
    card = read_card(name, models_dir)
    state = torch.load(Path(models_dir) / f"{name}.pt", map_location="cpu", weights_only=True)
    return _ready_network(card["network"], state, device), card


def load_pretrained(name: str, models_dir: Path | None = None, device: str | None = None):
    """A ready clusterer (eval mode; on the CPU, or `device` / GFNCP_DEVICE) for a shipped model name."""
    from .clusterer import Clusterer

    net, card = load_network(name, models_dir, device)
    return Clusterer(net, kind=card["kind"], name=name, card=card)


def load_run(run_dir, checkpoint: str = "checkpoint.pt", device: str | None = None):
    """A training run's checkpoint (run_dir/checkpoint.pt beside its config.json) as a ready
    clusterer named after the run; its card holds the run's config ("training") and the
    checkpoint's "iteration". For looking at runs in progress (scripts/probe_real.py, ...)."""
    from .checkpoint import load
    from .clusterer import Clusterer

    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    ckpt = load(run_dir / checkpoint)
    net = _ready_network(config["network"], ckpt["model"], device)
    return Clusterer(net, kind=config["kind"], name=run_dir.name,
                     card={"training": config, "iteration": ckpt["iteration"]})
