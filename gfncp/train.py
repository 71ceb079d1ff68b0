"""Train NCP or GFNCP on sets drawn fresh from the generative process.

    python -m gfncp.train --preset mog2d --model gfncp [--iters 4000] [--out runs/]

Every batch: one set size N ~ U[n_min, n_max], and for each row its own CRP partition
(alpha), its own data and its own random order, so the batch covers many label patterns.
The run directory holds `checkpoint.pt` (resumable: model, optimiser, RNG states,
iteration), `log.csv`, `curve.svg`; `--export` writes the tensors-only model and its card
to assets/models/. One torch intra-op thread by default (measured fastest here).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from . import data, registry
from .broad_prior import BroadPrior, broad_batch, make_broad, to_model_space
from .inference import Greedy, Sample, run_policy
from .losses import LossWeights, clean_loss, ncp_loss, paper_loss, policy_fm
from .metrics import nmi
from .network import NetworkConfig, SetNetwork
from .partitions import canonical_labels
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
    alpha: float = 0.7
    sigma: float = 1.0
    lam: float = 10.0
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
    """The shipped presets. Both twins of a pair share everything but the objective."""
    objective = "nll" if kind == "ncp" else "clean"
    if name == "mog2d":
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dim=2,
                          network=NetworkConfig(x_dim=2, h_dim=128, g_dim=256, hidden=128, depth=4))
    elif name == "mog16d":
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dim=16, min_dim=3, iters=1000, n_max=200,
                          network=NetworkConfig(x_dim=16, h_dim=96, g_dim=192, hidden=96, depth=4))
    elif name == "digits":
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dataset="digits", dim=64,
                          n_min=5, n_max=200, k_max=10, iters=1000, sigma=float("nan"), lam=float("nan"),
                          network=NetworkConfig(x_dim=64, h_dim=96, g_dim=192, hidden=128, depth=4,
                                                center="mean"))
    elif name == "general":
        # Real tables: the broad prior (gfncp.broad_prior), every set standardised per
        # feature inside the network, so units never matter.
        cfg = TrainConfig(preset=name, kind=kind, objective=objective, dataset="broad", dim=16,
                          n_min=10, n_max=300, k_max=10, iters=8000, fm_warmup=0.3,
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
        pred = run_policy(net, torch.as_tensor(X, dtype=torch.float32), Greedy()).labels[0].numpy()
        scores.append(nmi(y, pred))
    net.train()
    return float(np.mean(scores))


# -- objective -----------------------------------------------------------------------------

def flow_ramp(cfg: TrainConfig, it: int) -> float:
    """0 during the NLL-only warm-up, then linearly up to 1: the share of the flow terms'
    (fm, tb) weights in force at iteration `it`."""
    start = cfg.fm_warmup * cfg.iters
    ramp = max(cfg.fm_ramp * cfg.iters, 1.0)
    return min(max((it - start) / ramp, 0.0), 1.0)


def merge_clusters(labels: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Paper exploration: give each true cluster a label drawn uniformly (with replacement)
    from its row's clusters, i.e. random merges; then re-canonicalise."""
    out = []
    for row in labels.numpy():
        k = row.max() + 1
        out.append(canonical_labels(rng.integers(0, k, size=k)[row]))
    return torch.as_tensor(np.stack(out))


def pair_orders(X: torch.Tensor, y: torch.Tensor, rng: np.random.Generator):
    """The first half of a batch (B, N, d), (B, N) twice: as drawn, then each set in a fresh
    random order with its labels made canonical again. Returns (2 * (B // 2) rows, B // 2)."""
    h = X.shape[0] // 2
    perms = np.stack([rng.permutation(X.shape[1]) for _ in range(h)])
    idx = torch.as_tensor(perms)
    X2 = torch.gather(X[:h], 1, idx[..., None].expand(-1, -1, X.shape[2]))
    y2 = torch.as_tensor(canonical_labels(np.take_along_axis(y[:h].numpy(), perms, axis=1)))   # row-wise
    return torch.cat([X[:h], X2]), torch.cat([y[:h], y2.to(y.dtype)]), h


def sample_policy(net: SetNetwork, X: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One clustering per set of the batch X (B, N, d), drawn from the current policy in the
    batch's order, as canonical labels (B, N) usable with autograd (not inference tensors)."""
    return run_policy(net, X, Sample(X.shape[0], gen)).labels.clone()


def compute_loss(cfg: TrainConfig, net: SetNetwork, X, y, it: int, rng: np.random.Generator, gen: torch.Generator):
    n_pairs = 0
    if cfg.paired_orders:
        X, y, n_pairs = pair_orders(X, y, rng)
    if cfg.kind == "ncp":
        return ncp_loss(teacher_forced(net, X, y))
    if cfg.objective == "clean":
        f = flow_ramp(cfg, it)
        w = replace(cfg.weights, fm=f * cfg.weights.fm, tb=f * cfg.weights.tb, order=f * cfg.weights.order,
                    fm_policy=f * cfg.weights.fm_policy)
        loss, stats = clean_loss(teacher_forced(net, X, y), w, n_pairs)
        stats["w_fm"] = w.fm
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


def train(cfg: TrainConfig, run_dir: Path, progress: bool = True) -> SetNetwork:
    configure_torch(cfg.threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)          # weight init only; data use the explicit rng below
    net = SetNetwork(cfg.network)
    if cfg.init_from:
        net.load_state_dict(torch.load(cfg.init_from, weights_only=True)["model"])
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    start_it, elapsed = 0, 0.0
    ckpt_path = run_dir / "checkpoint.pt"
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=True)
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        rng.bit_generator.state = ckpt["rng"]
        gen.set_state(ckpt["gen"])
        start_it, elapsed = ckpt["iteration"], ckpt["seconds"]
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2, default=str))
    val = validation_sets(cfg)
    log_path = run_dir / "log.csv"
    fields = ["iteration", "seconds", "lr", "loss", "nll", "fm", "gap", "w_fm", "order", "fm_policy", "val_nmi"]
    if start_it == 0 or not log_path.exists():
        with open(log_path, "w", newline="") as f:
            csv.writer(f).writerow(fields)
    else:                                # a resumed run keeps the columns its log started with
        with open(log_path, newline="") as f:
            fields = next(csv.reader(f))

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=cfg.iters, initial=start_it, desc=cfg.name, dynamic_ncols=True)
    net.train()
    window: list[dict] = []
    t0 = time.perf_counter() - elapsed
    for it in range(start_it, cfg.iters):
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, it)
        n_points = draw_set_size(cfg, rng)
        X, y = draw_batch(cfg, rng, n_points)
        loss, stats = compute_loss(cfg, net, X, y, it, rng, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        stats["loss"] = loss.item()
        window.append(stats)
        if bar is not None:
            bar.update(1)
        if (it + 1) % cfg.eval_every == 0 or it + 1 == cfg.iters:
            row = {k: float(np.mean([s[k] for s in window if k in s])) for k in fields if any(k in s for s in window)}
            row.update(iteration=it + 1, seconds=round(time.perf_counter() - t0, 1),
                       lr=learning_rate(cfg, it), val_nmi=validation_nmi(net, val))
            window.clear()
            with open(log_path, "a", newline="") as f:
                csv.writer(f).writerow([row.get(k, "") for k in fields])
            if bar is not None:
                bar.set_postfix(loss=f"{row['loss']:.3f}", val_nmi=f"{row['val_nmi']:.3f}")
            torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                        "gen": gen.get_state(), "iteration": it + 1, "seconds": row["seconds"]}, ckpt_path)
            write_curve(log_path, run_dir / "curve.svg", title=cfg.name)
    if bar is not None:
        bar.close()
    net.eval()
    return net


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


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m gfncp.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="mog2d")
    p.add_argument("--model", choices=["gfncp", "ncp"], default="gfncp")
    p.add_argument("--objective", choices=["clean", "paper", "nll"], default=None)
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--fm", type=float, default=None, help="flow-matching weight (clean objective)")
    p.add_argument("--tb", type=float, default=None, help="trajectory-balance gap weight (clean objective)")
    p.add_argument("--fm-policy", type=float, default=None,
                   help="flow-matching weight along clusterings sampled from the policy (clean objective)")
    p.add_argument("--order", type=float, default=None,
                   help="order-consistency weight (clean objective; implies --paired-orders)")
    p.add_argument("--paired-orders", action="store_true",
                   help="batches of B/2 sets, each in two random orders (give an NCP twin the same data)")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch", type=int, default=None, help="sets per batch")
    p.add_argument("--fm-warmup", type=float, default=None, help="share of iterations before FM ramps in")
    p.add_argument("--h-dim", type=int, default=None, help="width of the point encodings h, q (network)")
    p.add_argument("--g-dim", type=int, default=None, help="output width of the cluster network g (network)")
    p.add_argument("--hidden", type=int, default=None,
                   help="hidden width of every MLP (network; the inference loop pays for it per option row)")
    p.add_argument("--depth", type=int, default=None, help="Linear layers per MLP (network; paid per option row)")
    p.add_argument("--init-from", default=None, help="fine-tune from this run's checkpoint.pt")
    p.add_argument("--run-name", default=None, help="run directory name (default: the model name)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default="runs", help="parent folder of the run directory")
    p.add_argument("--export", action="store_true", help="write assets/models/<name>.pt + .json when done")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    cfg = preset(a.preset, a.model)
    if a.objective:
        cfg.objective = a.objective
    if cfg.objective == "paper":
        cfg.weights = replace(cfg.weights, nll=0.0)
    for key in ("iters", "seed", "threads", "lr", "batch", "fm_warmup", "init_from"):
        if getattr(a, key) is not None:
            setattr(cfg, key, getattr(a, key))
    for key in ("fm", "tb", "order", "fm_policy"):
        if getattr(a, key) is not None:
            cfg.weights = replace(cfg.weights, **{key: getattr(a, key)})
    cfg.paired_orders = bool(a.paired_orders or (a.order or 0) > 0)
    # h_dim and g_dim are widths the inference loop never pays for per option row (h and q enter
    # through per-point and per-step terms, g's output is folded into the head's first layer);
    # hidden and depth it pays for in every row (README, "Performance").
    for key in ("h_dim", "g_dim", "hidden", "depth"):
        if getattr(a, key) is not None:
            cfg.network = replace(cfg.network, **{key: getattr(a, key)})
    run_dir = Path(a.out) / (a.run_name or cfg.name)
    net = train(cfg, run_dir, progress=not a.no_progress)
    if a.export:
        cmd = "python -m gfncp.train " + " ".join(a for a in (argv or os.sys.argv[1:]))
        path = export(cfg, net, run_dir, cmd)
        print(f"exported {path}")


if __name__ == "__main__":
    main()
