"""The one sequential inference loop (METHOD §4, §7.4).

Greedy decoding, ancestral sampling, beam search, teacher forcing along a given labelling
and the animation trace are all the same loop: chains assign points 0..N-1 one by one;
at every step each chain scores its options (every existing cluster, or a new one) and a
*selector* decides which (chain, option) pairs survive. Running cluster sums H, their
cached g(H) and the sum of those make each step cost O(K) network rows per chain.

Chains may have their own point order: h, q are (C, N, dh) with C = 1 (shared, broadcast)
or C = number of chains.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .network import SetNetwork


@dataclass
class StepRecord:
    """What the trace keeps of one step (chain 0). Plain numpy for caching and export."""

    log_flows: np.ndarray      # (K_n + 1,) log-flow (GFNCP: -E; NCP: logit) of every option
    probs: np.ndarray          # (K_n + 1,) policy probabilities, sum to 1
    choice: int


@dataclass
class LoopResult:
    labels: torch.Tensor          # (C, N) canonical labels, in the order the points were assigned
    log_q: torch.Tensor           # (C,) log q(labels | x) in that order
    log_root: torch.Tensor        # (C,) log-flow of the root state
    log_reward: torch.Tensor      # (C,) log-flow of the final state (log R for GFNCP)
    steps: list[StepRecord] = field(default_factory=list)


class Selector:
    """Decides, from every chain's step log-probabilities, which chains continue with which
    option. Returns (parent index (C',), option (C',), new cumulative score (C',))."""

    def init_chains(self) -> int:
        return 1

    def select(self, n: int, log_probs: torch.Tensor, log_q: torch.Tensor):
        raise TypeError("Selector is abstract")


class Greedy(Selector):
    def __init__(self, n_chains: int = 1):
        self.n_chains = n_chains

    def init_chains(self):
        return self.n_chains

    def select(self, n, log_probs, log_q):
        choice = log_probs.argmax(dim=-1)
        idx = torch.arange(len(choice))
        return idx, choice, log_q + log_probs[idx, choice]


class Sample(Selector):
    def __init__(self, n_chains: int, generator: torch.Generator):
        self.n_chains, self.generator = n_chains, generator

    def init_chains(self):
        return self.n_chains

    def select(self, n, log_probs, log_q):
        choice = torch.multinomial(log_probs.exp(), 1, generator=self.generator).squeeze(-1)
        idx = torch.arange(len(choice))
        return idx, choice, log_q + log_probs[idx, choice]


class Forced(Selector):
    """Follow given canonical labels (C, N): teacher forcing, one step at a time."""

    def __init__(self, labels: torch.Tensor):
        self.labels = labels

    def init_chains(self):
        return self.labels.shape[0]

    def select(self, n, log_probs, log_q):
        choice = self.labels[:, n]
        idx = torch.arange(len(choice))
        return idx, choice, log_q + log_probs[idx, choice]


class Beam(Selector):
    """Keep the `width` highest-scoring partial clusterings (METHOD §4.3, without the cap)."""

    def __init__(self, width: int = 5):
        self.width = width

    def select(self, n, log_probs, log_q):
        C, W = log_probs.shape
        scores = (log_q[:, None] + log_probs).reshape(-1)
        top = torch.topk(scores, min(self.width, int(torch.isfinite(scores).sum())))
        return top.indices // W, top.indices % W, top.values


@torch.inference_mode()
def run_policy(net: SetNetwork, X: torch.Tensor, selector: Selector, record: bool = False) -> LoopResult:
    """Assign the points of X in order with the model's policy.

    X: (N, d) one set, or (C, N, d) one ordering per chain. Returns chains' labels and log q.
    """
    if X.dim() == 2:
        X = X[None]
    h, q = net.encode(X)                                    # (C0, N, dh)
    C0, N, dh = h.shape
    g_alone = net.g(h)                                      # (C0, N, g): g of a lone point
    q_total = q.sum(dim=1)
    unassigned = q_total[:, None] - q.cumsum(dim=1)         # (C0, N, dh), points > n
    gd = g_alone.shape[-1]

    C = max(selector.init_chains(), 1) if C0 == 1 else C0
    def per_chain(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return t.expand(C, *t.shape[1:]) if t.shape[0] == 1 else t[idx]

    chain = torch.arange(C)
    H = torch.zeros(C, N, dh)                               # running cluster sums
    gH = torch.zeros(C, N, gd)                              # g(H_k), cached
    H[:, 0] = per_chain(h[:, 0], chain)
    gH[:, 0] = per_chain(g_alone[:, 0], chain)
    total = gH[:, 0].clone()                                # sum_k g(H_k)
    K = torch.ones(C, dtype=torch.long)
    labels = torch.zeros(C, N, dtype=torch.long)
    log_q = torch.zeros(C)
    origin = chain.clone()                                  # which input ordering a chain uses
    log_root = net.head(torch.zeros(C0, gd), q_total)
    steps: list[StepRecord] = []

    for n in range(1, N):
        k_max = int(K.max())
        h_n = per_chain(h[:, n], origin)                    # (C, dh)
        g_joined = net.g(H[:, :k_max] + h_n[:, None])       # (C, k_max, g)
        join = total[:, None] - gH[:, :k_max] + g_joined
        G = torch.cat([join, torch.zeros(C, 1, gd)], dim=1)
        opens = torch.arange(k_max + 1) == K[:, None]       # (C, k_max+1)
        g_new = per_chain(g_alone[:, n], origin)
        G = torch.where(opens[..., None], (total + g_new)[:, None], G)
        U = per_chain(unassigned[:, n], origin)[:, None]    # (C, 1, dh)
        log_flows = net.head(G, U)
        log_flows = log_flows.masked_fill(torch.arange(k_max + 1) > K[:, None], float("-inf"))
        log_probs = torch.log_softmax(log_flows, dim=-1)

        parent, choice, log_q = selector.select(n, log_probs, log_q)
        if record:
            k0 = int(K[parent[0]]) + 1
            steps.append(StepRecord(log_flows[parent[0], :k0].numpy().copy(),
                                    log_probs[parent[0], :k0].exp().numpy().copy(), int(choice[0])))
        # Re-index the chains' state by parent (beam search reorders and resizes).
        if parent.shape[0] != C or not torch.equal(parent, chain):
            H, gH, total, K, labels, origin = H[parent], gH[parent], total[parent], K[parent], labels[parent], origin[parent]
            g_joined, g_new, h_n = g_joined[parent], g_new[parent], h_n[parent]
            C = parent.shape[0]
            chain = torch.arange(C)
        # g of the updated cluster: already computed as g_joined (or g_new for a new cluster).
        opened = choice == K
        joined_c = choice.clamp(max=k_max - 1)
        g_updated = torch.where(opened[:, None], g_new, g_joined[chain, joined_c])
        total = total - gH[chain, choice] + g_updated
        gH[chain, choice] = g_updated
        H[chain, choice] += h_n
        K = K + opened.long()
        labels[:, n] = choice

    log_reward = net.head(total, torch.zeros(C, dh))       # final state: nothing unassigned
    return LoopResult(labels, log_q, per_chain(log_root, origin), log_reward, steps)
