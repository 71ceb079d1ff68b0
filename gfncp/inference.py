"""The one sequential inference loop (docs/method.md §Inference).

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
    """Keep the `width` highest-scoring partial clusterings (docs/method.md §Inference; without the cap)."""

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

    The head is linear in G up to its first layer, and G is a sum of per-cluster g terms, so
    the loop keeps A_k = W_G g(H_k) per cluster and their sum instead of g-space vectors:
    an option's first-layer input is sum_j A_j - A_k + W_G g(H_k + h_n) (join k) or
    sum_j A_j + W_G g(h_n) (new), plus the unassigned part W_U U_n + b shared by all options.
    Cluster sums are kept as Z_k = g_pre(H_k), so a joined cluster's term is
    net.cluster_term(Z_k + g_pre(h_n)) (SetNetwork.cluster_term).
    """
    if X.dim() == 2:
        X = X[None]
    h, q = net.encode(X)                                    # (C0, N, dh)
    fold = net.fold_cluster_head()
    z_pts = net.g_pre(h)                                    # (C0, N, hidden): additive cluster sums
    z_biased = z_pts + net.g[0].bias                        # a lone point's g pre-activation
    C0, N, dh = h.shape
    a_alone = net.cluster_term(z_pts, fold)                     # (C0, N, w): first-layer term of a lone point
    unassigned = q.sum(dim=1, keepdim=True) - q.cumsum(dim=1)
    u_term = net.head_u(unassigned)                         # (C0, N, w), points > n
    w = a_alone.shape[-1]

    C = max(selector.init_chains(), 1) if C0 == 1 else C0
    def per_chain(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return t.expand(C, *t.shape[1:]) if t.shape[0] == 1 else t[idx]

    chain = torch.arange(C)
    H = torch.zeros(C, N, z_pts.shape[-1])                      # running cluster sums, as g_pre(H_k)
    A = torch.zeros(C, N, w)                                # W_G g(H_k), cached per cluster
    H[:, 0] = per_chain(z_pts[:, 0], chain)
    A[:, 0] = per_chain(a_alone[:, 0], chain)
    total = A[:, 0].clone()                                 # sum_k A_k
    K = torch.ones(C, dtype=torch.long)
    labels = torch.zeros(C, N, dtype=torch.long)
    log_q = torch.zeros(C)
    origin = chain.clone()                                  # which input ordering a chain uses
    log_root = net.head_rest(net.head_u(q.sum(dim=1)))      # G = 0 at the root
    steps: list[StepRecord] = []

    # Chains in the same state (same order, same choices so far: common when sampling a sharp
    # policy) share one set of network rows. state[c] numbers the distinct states.
    state = origin.clone() if C0 > 1 else torch.zeros(C, dtype=torch.long)
    for n in range(1, N):
        uniq, state = torch.unique(state, return_inverse=True)
        U = uniq.shape[0]
        if U == C:                                          # all distinct: state u is chain u
            state, rep = chain, chain
        else:                                               # rep: the first chain in each state
            rep = torch.full((U,), C, dtype=torch.long).scatter_reduce(0, state, chain, "amin")
        K_r = K[rep]
        k_max = int(K_r.max())
        z_n = per_chain(z_pts[:, n], origin)                # (C, hidden)
        zb_n = per_chain(z_biased[:, n], origin)
        src = origin[rep] if C0 > 1 else torch.zeros_like(rep)   # input ordering of each state
        a_new = a_alone[src, n]                             # (U, w)
        base = total.index_select(0, rep) + u_term[src, n]  # (U, w): shared by every option
        # Only the clusters each state has (states differ in K): R = sum K rows, state-major.
        si, ki = (torch.arange(k_max) < K_r[:, None]).nonzero(as_tuple=True)
        ci = rep[si]
        # index_select on flattened rows: several times faster than 2-D advanced indexing here
        flat = ci * N + ki
        a_joined = net.cluster_term(H.view(-1, H.shape[-1]).index_select(0, flat) + zb_n.index_select(0, ci),
                                    fold, biased=True)                  # (R, w)
        flows = net.head_rest(torch.cat([base.index_select(0, si) - A.view(-1, w).index_select(0, flat) + a_joined,
                                         base + a_new]))
        R = si.shape[0]
        log_flows = torch.full((U, k_max + 1), float("-inf"))
        log_flows[si, ki] = flows[:R]
        log_flows[torch.arange(U), K_r] = flows[R:]
        log_probs = torch.log_softmax(log_flows, dim=-1)
        if U < C:
            log_flows, log_probs = log_flows[state], log_probs[state]

        parent, choice, log_q = selector.select(n, log_probs, log_q)
        if record:
            k0 = int(K[parent[0]]) + 1
            steps.append(StepRecord(log_flows[parent[0], :k0].numpy().copy(),
                                    log_probs[parent[0], :k0].exp().numpy().copy(), int(choice[0])))
        # The updated cluster's term was already computed: a_joined (join) or a_new (open).
        s_parent = state[parent]
        opened = choice == K[parent]
        row = ((K_r.cumsum(0) - K_r)[s_parent] + choice).clamp(max=R - 1)
        a_updated = torch.where(opened[:, None], a_new.index_select(0, s_parent), a_joined.index_select(0, row))
        state = s_parent * (k_max + 1) + choice
        # Re-index the chains' state by parent (beam search reorders and resizes).
        if parent.shape[0] != C or not torch.equal(parent, chain):
            H, A, total, K, labels, origin = H[parent], A[parent], total[parent], K[parent], labels[parent], origin[parent]
            z_n = z_n[parent]
            C = parent.shape[0]
            chain = torch.arange(C)
        total = total - A[chain, choice] + a_updated
        A[chain, choice] = a_updated
        H[chain, choice] += z_n
        K = K + opened.long()
        labels[:, n] = choice

    log_reward = net.head_rest(total + net.head_u(torch.zeros(1, dh)))   # nothing unassigned
    return LoopResult(labels, log_q, per_chain(log_root, origin), log_reward, steps)
