"""The public clusterer: a trained NCP or GFNCP network behind plain numpy methods.

    model = gfncp.load_pretrained("gfncp-mog2d")
    model.greedy(X)                      -> (N,) canonical labels
    model.consensus(X, n_orders, seed)   -> Consensus: the greedy answer most orders agree on
    model.sample(X, n_samples, seed)     -> Samples(labels (S, N), log_prob (S,))
    model.log_prob(X, labels)            -> float, points taken in X's row order
    model.trace(X, seed)                 -> Trace (per-step record for the animation)

Every method accepts an optional `order` (a permutation of X's rows: the order in which
points are fed to the sequential policy); labels always come back in X's row order,
canonical. Inference runs under torch.inference_mode() on float32 tensors on the model's
device (the CPU unless it was loaded elsewhere: GFNCP_DEVICE, gfncp.registry).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .inference import Beam, Greedy, Sample, run_policy
from .network import SetNetwork
from .partitions import canonical_labels, distinct_partitions
from .teacher import teacher_forced
from .trace import Trace, trace_from_run


@dataclass
class Samples:
    labels: np.ndarray      # (S, N) canonical, X's row order
    log_prob: np.ndarray    # (S,) log q(labels | X) in the order used

    def distinct(self) -> "DistinctSamples":
        """Distinct clusterings (deduplicated by label vector), most frequent first."""
        _, first, counts = distinct_partitions(self.labels)
        rank = np.lexsort((-self.log_prob[first], -counts))
        return DistinctSamples(self.labels[first[rank]], counts[rank], self.log_prob[first[rank]])


@dataclass
class DistinctSamples:
    labels: np.ndarray      # (M, N)
    counts: np.ndarray      # (M,) how many of the S samples were this clustering
    log_prob: np.ndarray    # (M,) log q of the clustering under the model


@dataclass
class Consensus:
    labels: np.ndarray      # (N,) canonical: the decode that agrees best with the others
    agreement: float        # its mean adjusted Rand index with the other decodes (1 = all the same)
    decodes: np.ndarray     # (R, N) the greedy answer under each of the R orders
    orders: np.ndarray      # (R, N) the orders


class Clusterer:
    """A trained NCP or GFNCP. `kind` is "gfncp" or "ncp"; `dim` the input dimension."""

    def __init__(self, net: SetNetwork, kind: str, name: str = "", card: dict | None = None):
        self.net = net.eval()
        self.kind = kind
        self.name = name
        self.card = card or {}
        self.dim = net.config.x_dim
        self.device = next(net.parameters()).device

    def __repr__(self):
        return f"Clusterer(name={self.name!r}, kind={self.kind!r}, dim={self.dim})"

    # -- input handling ------------------------------------------------------------------
    def points_tensor(self, X) -> torch.Tensor:
        """Validate a set (N, dim) as the model's input and return it as a float32 tensor;
        errors read like scikit-learn's."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            raise ValueError("Expected 2D array, got 1D array instead. Reshape your data with "
                             "X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) if it is one point.")
        if X.ndim != 2:
            raise ValueError(f"Expected 2D array, got {X.ndim}D array instead.")
        if X.shape[0] < 1:
            raise ValueError("Found array with 0 points; at least 1 is required.")
        if X.shape[1] != self.dim:
            raise ValueError(f"X has {X.shape[1]} features, but {self.name or self.kind} expects {self.dim}. "
                             "Map the data to the model's dimension first (gfncp.routing.fit_dimension).")
        if not np.isfinite(X).all():
            raise ValueError("Input X contains NaN or infinity.")
        return torch.as_tensor(X, dtype=torch.float32, device=self.device)

    def _generator(self, seed) -> torch.Generator:
        # On the CPU, the generator every result has always been drawn with.
        return torch.Generator(device=self.device).manual_seed(int(seed))

    @staticmethod
    def _order(order, n: int) -> np.ndarray:
        if order is None:
            return np.arange(n)
        order = np.asarray(order, dtype=np.int64)
        if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
            raise ValueError(f"order must be a permutation of 0..{n - 1}.")
        return order

    @staticmethod
    def _to_rows(step_labels: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Labels indexed by step -> canonical labels in X's row order. (S, N) or (N,)."""
        out = np.empty_like(step_labels)
        out[..., order] = step_labels
        return canonical_labels(out)

    # -- inference -----------------------------------------------------------------------
    def greedy(self, X, order=None) -> np.ndarray:
        """Most probable option at every step. -> (N,) canonical labels."""
        Xt = self.points_tensor(X)
        order = self._order(order, len(Xt))
        res = run_policy(self.net, Xt[order], Greedy())
        return self._to_rows(res.labels[0].cpu().numpy(), order)

    def greedy_orders(self, X, orders) -> tuple[np.ndarray, np.ndarray]:
        """Greedy decoding under R orders at once. orders (R, N) -> labels (R, N), log q (R,)."""
        Xt = self.points_tensor(X)
        orders = np.stack([self._order(o, len(Xt)) for o in orders])
        res = run_policy(self.net, Xt[orders], Greedy(len(orders)))
        step_labels = res.labels.cpu().numpy()
        return (np.stack([self._to_rows(l, o) for l, o in zip(step_labels, orders)]),
                res.log_q.cpu().numpy().astype(np.float64))

    def consensus(self, X, n_orders: int = 16, seed: int = 0) -> Consensus:
        """Greedy decoding under `n_orders` seeded random orders; the answer is the decode with
        the highest mean adjusted Rand index to the others (the medoid).

        Why: a greedy path depends on the order the points come in, and a table's file order is
        often sorted by class, an order the models never saw in training (every training set
        comes in a random order). Feeding random orders and keeping the decode the others agree
        with most removes that dependence. Measured on the real-data suite with gfncp-general
        (`python scripts/decoding_real.py`, docs/general-pair.md): NMI 0.29 for one greedy pass in
        file order, 0.53 in one random order, 0.64 for the medoid of 16. Cost: one batched greedy
        pass of n_orders rows and n_orders^2 / 2 label comparisons.
        """
        from .metrics import ari

        if n_orders < 1:
            raise ValueError(f"n_orders must be >= 1, got {n_orders}.")
        n = len(self.points_tensor(X))
        rng = np.random.default_rng(seed)
        orders = np.stack([rng.permutation(n) for _ in range(n_orders)])
        decodes, _ = self.greedy_orders(X, orders)
        A = np.eye(n_orders)
        for i in range(n_orders):
            for j in range(i + 1, n_orders):
                A[i, j] = A[j, i] = ari(decodes[i], decodes[j])
        best = int(np.argmax(A.sum(axis=1)))
        agreement = float((A[best].sum() - 1.0) / (n_orders - 1)) if n_orders > 1 else 1.0
        return Consensus(decodes[best].copy(), agreement, decodes, orders)

    def beam(self, X, width: int = 5, order=None) -> np.ndarray:
        Xt = self.points_tensor(X)
        order = self._order(order, len(Xt))
        res = run_policy(self.net, Xt[order], Beam(width))
        return self._to_rows(res.labels[0].cpu().numpy(), order)

    def sample(self, X, n_samples: int = 100, seed: int = 0, order=None) -> Samples:
        """Ancestral samples from q(c | X). -> Samples(labels (S, N), log_prob (S,))."""
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
        Xt = self.points_tensor(X)
        order = self._order(order, len(Xt))
        res = run_policy(self.net, Xt[order], Sample(n_samples, self._generator(seed)))
        return Samples(self._to_rows(res.labels.cpu().numpy(), order), res.log_q.cpu().numpy().astype(np.float64))

    # Sets per teacher-forced call: a few hundred points at a time keep the pass's large
    # intermediates in cache (B=50, N=100 in chunks of 5: ~30% faster, measured).
    POINTS_PER_PASS = 500

    @torch.inference_mode()
    def _teacher_forced_orders(self, X, labels, orders) -> dict:
        """Teacher-force `labels` with the points fed in each of R orders (R, N).
        -> {"log_q", "log_reward", "log_root"}: (R,) float64 arrays."""
        Xt = self.points_tensor(X)
        labels = np.asarray(labels)
        if labels.shape != (len(Xt),):
            raise ValueError(f"labels must have shape ({len(Xt)},), got {labels.shape}.")
        orders = np.stack([self._order(o, len(Xt)) for o in orders])
        ordered = torch.as_tensor(canonical_labels(labels[orders]), device=self.device)
        step = max(1, self.POINTS_PER_PASS // len(Xt))
        out: dict[str, list] = {"log_q": [], "log_reward": [], "log_root": []}
        for i in range(0, len(orders), step):
            tf = teacher_forced(self.net, Xt[orders[i:i + step]], ordered[i:i + step])
            for key in out:
                out[key].append(getattr(tf, key).cpu().numpy().astype(np.float64))
        return {key: np.concatenate(v) for key, v in out.items()}

    def log_prob_orders(self, X, labels, orders) -> np.ndarray:
        """log q(labels | X) with the points fed in each of R orders. orders (R, N) -> (R,)."""
        return self._teacher_forced_orders(X, labels, orders)["log_q"]

    def log_prob(self, X, labels, order=None) -> float:
        """log q(labels | X), points taken in X's row order (or in `order`)."""
        n = len(np.asarray(X))
        return float(self.log_prob_orders(X, labels, [self._order(order, n)])[0])

    def flow_terms(self, X, labels, orders) -> dict:
        """log q, log R(c|x) and log F(root) under R orders (GFNCP's flow-consistency check).

        For a flow-consistent GFNCP, log q = log R - log F(root) in every order.
        """
        return self._teacher_forced_orders(X, labels, orders)

    def trace(self, X, seed: int = 0, mode: str = "greedy", order=None) -> Trace:
        """Record one sequential pass (greedy, or sampled with `seed`) for the animation."""
        Xt = self.points_tensor(X)
        order = self._order(order, len(Xt))
        if mode == "greedy":
            selector = Greedy()
        elif mode == "sample":
            selector = Sample(1, self._generator(seed))
        else:
            raise ValueError(f"mode must be 'greedy' or 'sample', got {mode!r}.")
        res = run_policy(self.net, Xt[order], selector, record=True)
        return trace_from_run(self.kind, order, res.labels[0].cpu().numpy(), res)
