"""Speed benchmark of the library (one torch thread; prints one table).

    python -m gfncp.bench [--model gfncp-mog2d]

- parallel teacher-forced pass (forward + backward, B=32, N=100) against a naive
  step-by-step pass that rebuilds every cluster sum at every step, as the published code does;
- 100 posterior samples of an N=100 set, and the same with a width-8 network of the same depth
  (the inference loop's own overhead: what is left when the network rows cost almost nothing);
- greedy decoding of N=1000;
- one collapsed-Gibbs sweep at N=100; 100 samples against 100 Gibbs sweeps.
Uses the shipped model if it is installed, else an untrained network of the shipped size.

    python -m gfncp.bench --train [--procs 1 2] [--iters 40] [--batch 32]

Training throughput instead (gfncp/train_bench.py): sets per second of one process against P
data-parallel processes (torchrun, gloo) at the same global batch; rewrites its block in
docs/performance.md.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from . import data, references
from .clusterer import Clusterer
from .network import NetworkConfig, SetNetwork
from .registry import list_pretrained, load_network
from .teacher import teacher_forced
from .train import preset
from .runtime import configure_torch


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_log_q(net: SetNetwork, X: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Step-by-step teacher forcing with per-step cluster sums rebuilt from masks (a loop
    over clusters at every step). X (B, N, d), labels (B, N) -> log q (B,)."""
    h, q = net.encode(X)
    B, N, _ = h.shape
    log_q = torch.zeros(B)
    for n in range(1, N):
        K = int(labels[:, :n].max()) + 1
        sums = [((labels[:, :n] == k).to(h.dtype)[..., None] * h[:, :n]).sum(1) for k in range(K)]
        g_sums = [net.g(s) for s in sums]
        present = [(labels[:, :n] == k).any(1, keepdim=True).to(h.dtype) for k in range(K)]
        base = sum(gs * p for gs, p in zip(g_sums, present))
        cands = [base - g_sums[k] * present[k] + net.g(sums[k] + h[:, n]) for k in range(K)] + [base + net.g(h[:, n])]
        U = q[:, n + 1:].sum(1)
        logits = torch.stack([net.head(G, U) for G in cands], 1)
        k_n = labels[:, :n].max(1).values + 1
        logits = logits.masked_fill(torch.arange(K + 1) > k_n[:, None], float("-inf"))
        log_q = log_q + torch.log_softmax(logits, 1).gather(1, labels[:, n:n + 1]).squeeze(1)
    return log_q


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m gfncp.bench")
    p.add_argument("--model", default="gfncp-mog2d")
    p.add_argument("--untrained", action="store_true", help="an untrained network of the shipped mog2d size")
    p.add_argument("--train", action="store_true",
                   help="training throughput: one process vs P DDP processes (gfncp/train_bench.py)")
    p.add_argument("--no-docs", action="store_true", help="print only; do not rewrite docs/performance.md")
    a, rest = p.parse_known_args(argv)
    if a.train:
        from . import train_bench
        return train_bench.main(rest)
    if rest:
        p.error(f"unrecognised arguments: {' '.join(rest)}")
    configure_torch(1)
    if a.model in list_pretrained() and not a.untrained:
        net, _ = load_network(a.model)
        source = a.model
    else:
        torch.manual_seed(0)
        net = SetNetwork(preset("mog2d", "gfncp").network)
        source = "untrained network of the mog2d size"
    net.train()
    for p_ in net.parameters():
        p_.requires_grad_(True)
    print(f"model: {source} ({net.n_parameters()} parameters), torch threads: {torch.get_num_threads()}")
    rng = np.random.default_rng(0)
    X, y = data.mog_batch(32, 100, net.config.x_dim, 0.7, 1.0, 10.0, rng)
    X, y = torch.as_tensor(X), torch.as_tensor(y)

    def parallel():
        teacher_forced(net, X, y).log_q.sum().backward()

    def naive():
        naive_log_q(net, X, y).sum().backward()

    assert torch.allclose(teacher_forced(net, X, y).log_q, naive_log_q(net, X, y), atol=1e-3)
    t_par, t_naive = best_of(parallel), best_of(naive, repeat=1)
    print(f"teacher-forced pass, B=32 N=100, forward+backward: parallel {t_par * 1000:.0f} ms, "
          f"step-by-step {t_naive * 1000:.0f} ms, speed-up {t_naive / t_par:.1f}x")

    net.eval()
    model = Clusterer(net, kind="gfncp", name=source)
    X100, _ = data.make_mog(100, dim=net.config.x_dim, seed=1)
    model.sample(X100, 100, seed=0)
    t_samp = best_of(lambda: model.sample(X100, 100, seed=0))
    print(f"100 samples, N=100: {t_samp * 1000:.0f} ms")
    torch.manual_seed(0)
    thin = SetNetwork(NetworkConfig(x_dim=net.config.x_dim, h_dim=8, g_dim=8, hidden=8, depth=net.config.depth)).eval()
    thin_model = Clusterer(thin, kind="gfncp", name="width 8")
    thin_model.sample(X100, 100, seed=0)
    t_thin = best_of(lambda: thin_model.sample(X100, 100, seed=0))
    print(f"100 samples, N=100, untrained width-8 network (the loop's own cost; ~13 clusters per sample): "
          f"{t_thin * 1000:.0f} ms")
    X1000, _ = data.make_mog(1000, dim=net.config.x_dim, seed=2)
    t_greedy = best_of(lambda: model.greedy(X1000), repeat=2)
    print(f"greedy decoding, N=1000: {t_greedy * 1000:.0f} ms")
    res = references.gibbs(X100, n_sweeps=101, burn_in=1, seed=0)
    sweep = res.seconds / 101
    print(f"collapsed Gibbs, N=100: {sweep * 1000:.2f} ms per sweep; 100 samples / 100 sweeps = {t_samp / (100 * sweep):.2f}")
    if not a.no_docs:
        from .doc_blocks import PERFORMANCE, markdown_table, provenance, replace_block
        command = "python -m gfncp.bench" + (" --untrained" if a.untrained else "") + (
            f" --model {a.model}" if a.model != "gfncp-mog2d" else "")
        rows = [["teacher-forced pass, B=32, N=100, forward + backward",
                 f"{t_par * 1000:.0f} ms parallel vs {t_naive * 1000:.0f} ms step-by-step ({t_naive / t_par:.1f}x)"],
                ["100 posterior samples, N=100", f"{t_samp * 1000:.0f} ms ({source}); the loop alone (untrained "
                 f"width-8 network) {t_thin * 1000:.0f} ms"],
                ["greedy decoding, N=1000", f"{t_greedy * 1000:.0f} ms"],
                ["one collapsed-Gibbs sweep, N=100", f"{sweep * 1000:.2f} ms"]]
        replace_block("bench", provenance(command, f"one torch thread; {source}") + "\n\n"
                      + markdown_table(["what", "measured"], rows))
        print(f"wrote {PERFORMANCE}")


if __name__ == "__main__":
    main()
