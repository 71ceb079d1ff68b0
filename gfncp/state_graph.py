"""The whole GFlowNet state graph of a tiny set (N <= 5 points), computed from a model.

A state is a partial clustering of a subset of the points: which points are assigned so far
and how they are grouped. The root assigns nothing; a terminal state assigns every point. An
edge adds one point, to one of the state's clusters or as a new cluster. The model gives every
state a log-flow, log F(s) = -E(s) (NCP: its logit), from set-level summaries only
(docs/method.md): the clusters formed so far and the points still waiting, not how the state
was reached. So the graph below is the same for every input order; an order only picks which
point each step adds.

    g = state_graph(model, X)            # X: (N, model.dim), N <= MAX_POINTS
    g.n_states                           # sum_k C(N, k) Bell(k): 52 for N = 4, 203 for N = 5
    g.log_flow[i]                        # log F(state i) - log F(root): log units, relative to the root
    g.edge_prob(parent, child)           # the policy's probability of that edge, given the point it adds
    g.residual[i, p]                     # flow-matching residual of state i when point p comes next:
                                         #   log F(i) - log sum_{children adding p} F(child)
    g.path(order, labels)                # the states an order and a clustering pass through
    g.path_log_q(order, labels)          # sum of log edge probabilities along that path
    g.path_log_q_from_flows(order, labels)   # log F(terminal) - log F(root) + sum of residuals
    g.terminal_log_q(orders)             # (terminals, orders) log q of every clustering in every order

The last two agree exactly (it is an identity: each step's log-probability is its child's log
flow minus the log of the flows offered, and the residual is the parent's log-flow minus the
same). When every residual is 0 (flow matching), log q = log F(terminal) - log F(root) in every
order: the order-invariance that GFNCP is trained for. The model's own log q of a path (its
sequential loop, gfncp.inference) equals path_log_q to float32 rounding (tests/test_state_graph.py).

Edge probabilities and residuals are conditional on the point that comes next: in a given order
that point is fixed, so given the order the graph is a tree (one parent per state); over all
orders a state has one parent per point it holds.
"""
from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .partitions import canonical_labels

MAX_POINTS = 5            # Bell(6) = 203 states and 120 orders; 6 points would be 877 and 720


Blocks = tuple  # tuple of sorted tuples of point indices, ordered by their smallest point


def blocks_of(labels, points=None) -> Blocks:
    """The clusters of `labels` (cluster id per point of `points`, default 0..n-1) as a canonical
    tuple of sorted tuples, ordered by smallest point."""
    labels = np.asarray(labels)
    points = np.arange(len(labels)) if points is None else np.asarray(points)
    groups: dict = {}
    for p, c in zip(points.tolist(), labels.tolist()):
        groups.setdefault(c, []).append(int(p))
    return tuple(sorted(tuple(sorted(g)) for g in groups.values()))


def _set_partitions(items: tuple) -> list[Blocks]:
    """Every partition of `items` (a sorted tuple) as canonical Blocks."""
    if not items:
        return [()]
    first, rest = items[0], items[1:]
    out = []
    for part in _set_partitions(rest):
        out.append(tuple(sorted(((first,),) + part)))
        for j in range(len(part)):
            joined = part[:j] + (tuple(sorted((first,) + part[j])),) + part[j + 1:]
            out.append(tuple(sorted(joined)))
    return out


def block_text(blocks: Blocks, names=None) -> str:
    """'{0 1}{2}' (or with point names); '∅' for the root."""
    if not blocks:
        return "∅"
    name = (lambda p: str(p)) if names is None else (lambda p: str(names[p]))
    return "".join("{" + " ".join(name(p) for p in b) + "}" for b in blocks)


@dataclass
class StateGraph:
    """The state graph of one set under one model (see the module docstring)."""

    kind: str                       # "gfncp" or "ncp" (NCP's "flows" are logits: no flow matching)
    n_points: int
    states: list                    # Blocks of every state, by layer (number of assigned points), then order
    layer: np.ndarray               # (M,) number of assigned points
    log_flow: np.ndarray            # (M,) log F(s) - log F(root)
    log_root: float                 # log F(root) itself (the model's scale; shown nowhere as a magnitude)
    children: dict                  # (state, point) -> list of child states (each cluster, then new)
    edge_logp: dict                 # (parent, child) -> log P(child | parent, the point it adds)
    residual: np.ndarray            # (M, N) log F(s) - LSE children adding point p; nan if p is assigned / terminal
    index: dict = field(default_factory=dict)   # Blocks -> state number

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def root(self) -> int:
        return 0

    @property
    def terminals(self) -> np.ndarray:
        return np.flatnonzero(self.layer == self.n_points)

    @property
    def edges(self) -> list[tuple[int, int, int]]:
        """(parent, child, point added) of every edge."""
        return [(s, c, p) for (s, p), kids in self.children.items() for c in kids]

    def edge_prob(self, parent: int, child: int) -> float:
        return math.exp(self.edge_logp[(parent, child)])

    def labels_of(self, state: int) -> np.ndarray:
        """(N,) canonical labels of a state's clustering in row order (-1 = not yet assigned;
        clusters numbered by smallest point)."""
        out = np.full(self.n_points, -1, dtype=np.int64)
        for k, b in enumerate(self.states[state]):
            out[list(b)] = k
        return out

    def text(self, state: int, names=None) -> str:
        return block_text(self.states[state], names)

    def terminal_of(self, labels) -> int:
        return self.index[blocks_of(labels)]

    # -- paths --------------------------------------------------------------------------------
    def _check_order(self, order) -> np.ndarray:
        order = np.asarray(order, dtype=np.int64).reshape(-1)
        if order.shape != (self.n_points,) or not np.array_equal(np.sort(order), np.arange(self.n_points)):
            raise ValueError(f"order must be a permutation of 0..{self.n_points - 1}, got {order.tolist()}.")
        return order

    def path(self, order, labels) -> list[int]:
        """The states visited when the points come in `order` and end in clustering `labels`
        (row order): root, then the state after each step (N + 1 states)."""
        order = self._check_order(order)
        labels = np.asarray(labels).reshape(-1)
        if labels.shape != (self.n_points,):
            raise ValueError(f"labels must have shape ({self.n_points},), got {labels.shape}.")
        out = [self.root]
        for n in range(1, self.n_points + 1):
            pts = order[:n]
            out.append(self.index[blocks_of(labels[pts], pts)])
        return out

    def path_log_q(self, order, labels) -> float:
        """log q(labels | X) in `order`: the sum of the log edge probabilities along the path."""
        p = self.path(order, labels)
        return float(sum(self.edge_logp[(a, b)] for a, b in zip(p[:-1], p[1:])))

    def path_residuals(self, order, labels) -> np.ndarray:
        """(N,) the residual of every non-terminal state on the path, for the point the order adds next."""
        order = self._check_order(order)
        p = self.path(order, labels)
        return np.array([self.residual[s, int(order[n])] for n, s in enumerate(p[:-1])])

    def path_log_q_from_flows(self, order, labels) -> float:
        """The same log q from flows: log F(terminal) - log F(root) + the residuals on the path."""
        p = self.path(order, labels)
        return float(self.log_flow[p[-1]] - self.log_flow[p[0]] + self.path_residuals(order, labels).sum())

    def terminal_log_q(self, orders=None) -> tuple[np.ndarray, np.ndarray]:
        """log q of every terminal clustering under every order.

        orders: (R, N) permutations; default all N! orders (at most 120). Returns (orders (R, N),
        log q (T, R)) with rows in the order of `self.terminals`."""
        if orders is None:
            orders = np.array(list(itertools.permutations(range(self.n_points))), dtype=np.int64)
        orders = np.stack([self._check_order(o) for o in orders])
        out = np.empty((len(self.terminals), len(orders)))
        for t, s in enumerate(self.terminals):
            labels = self.labels_of(int(s))
            for r, o in enumerate(orders):
                out[t, r] = self.path_log_q(o, labels)
        return orders, out

    def max_abs_residual(self) -> np.ndarray:
        """(M,) each state's largest |residual| over the points that could come next (0 for terminals)."""
        r = np.abs(self.residual)
        return np.where(np.isnan(r).all(axis=1), 0.0, np.nan_to_num(r, nan=0.0).max(axis=1))


def enumerate_states(n: int) -> list[Blocks]:
    """Every partial clustering of every subset of n points, by layer (subset size), then subset."""
    states: list[Blocks] = []
    for k in range(n + 1):
        for subset in itertools.combinations(range(n), k):
            states.extend(_set_partitions(subset))
    return states


def n_states(n: int) -> int:
    """sum_k C(n, k) Bell(k) = Bell(n + 1)."""
    bell = [1]
    for m in range(n + 1):               # Bell triangle
        row = [bell[-1]]
        for b in bell:
            row.append(row[-1] + b)
        bell = row
    return bell[0]


@torch.inference_mode()
def _log_flows(net, X: np.ndarray, states: list[Blocks]) -> np.ndarray:
    """log F of every state from the network, in float64: head([sum_C g(sum_{i in C} h_i) ; sum_unassigned q_i])."""
    net64 = copy.deepcopy(net).double().eval()
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float64))[None]
    h, q = net64.encode(Xt)
    h, q = h[0], q[0]
    n = h.shape[0]
    g_dim = net64.config.g_dim
    G = torch.zeros(len(states), g_dim, dtype=torch.float64)
    U = torch.zeros(len(states), h.shape[1], dtype=torch.float64)
    # every cluster that occurs, once
    clusters = sorted({b for s in states for b in s})
    cidx = {b: i for i, b in enumerate(clusters)}
    if clusters:
        member = torch.zeros(len(clusters), n, dtype=torch.float64)
        for b, i in cidx.items():
            member[i, list(b)] = 1.0
        gH = net64.g(member @ h)                                 # (C, g_dim)
    for i, s in enumerate(states):
        assigned = [p for b in s for p in b]
        for b in s:
            G[i] += gH[cidx[b]]
        waiting = [p for p in range(n) if p not in assigned]
        if waiting:
            U[i] = q[waiting].sum(dim=0)
    return net64.head(G, U).numpy().astype(np.float64)


def _lse(v) -> float:
    v = np.asarray(v, dtype=np.float64)
    m = float(np.max(v))
    return m + math.log(float(np.sum(np.exp(v - m))))


def state_graph(model, X) -> StateGraph:
    """The whole state graph of the set X (N <= MAX_POINTS, in the model's input space) under a
    gfncp.Clusterer (its network, read in float64)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != model.dim:
        raise ValueError(f"X must have shape (N, {model.dim}) for {model.name or model.kind}, got {X.shape}.")
    n = len(X)
    if not 1 <= n <= MAX_POINTS:
        raise ValueError(f"The state graph is drawn for sets of 1 to {MAX_POINTS} points "
                         f"({n_states(MAX_POINTS)} states); this set has {n}.")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity.")
    states = enumerate_states(n)
    return graph_from_log_flows(model.kind, n, _log_flows(model.net, X, states))


def graph_from_log_flows(kind: str, n: int, raw) -> StateGraph:
    """The graph for given log-flows `raw` (one per state of enumerate_states(n), in that order):
    edge probabilities, residuals and everything else follow from them."""
    states = enumerate_states(n)
    raw = np.asarray(raw, dtype=np.float64)
    if raw.shape != (len(states),):
        raise ValueError(f"need one log-flow per state ({len(states)}), got shape {raw.shape}.")
    index = {s: i for i, s in enumerate(states)}
    log_root = float(raw[0])
    log_flow = raw - log_root
    layer = np.array([sum(len(b) for b in s) for s in states], dtype=np.int64)
    children: dict = {}
    edge_logp: dict = {}
    residual = np.full((len(states), n), np.nan)
    for i, s in enumerate(states):
        assigned = {p for b in s for p in b}
        for p in range(n):
            if p in assigned:
                continue
            kids = [index[tuple(sorted(s[:j] + (tuple(sorted(b + (p,))),) + s[j + 1:]))] for j, b in enumerate(s)]
            kids.append(index[tuple(sorted(s + ((p,),)))])
            children[(i, p)] = kids
            lse = _lse(raw[kids])
            for c in kids:
                edge_logp[(i, c)] = float(raw[c] - lse)
            residual[i, p] = float(raw[i] - lse)
    return StateGraph(kind, n, states, layer, log_flow, log_root, children, edge_logp, residual, index)


def exact_terminal_log_probs(graph: StateGraph, distribution) -> np.ndarray:
    """(T,) log-probabilities of the graph's terminal clusterings under a
    gfncp.metrics.PartitionDistribution over all partitions (e.g. references.exact_posterior)."""
    lookup = {blocks_of(canonical_labels(l)): float(lp) for l, lp in zip(distribution.labels, distribution.log_probs)}
    return np.array([lookup.get(graph.states[int(s)], -np.inf) for s in graph.terminals])
