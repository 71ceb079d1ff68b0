"""The reward's order-free posterior p_R(c | x) = R(c | x) / Z(x) of a GFNCP.

A GFNCP's terminal log-flow log R(c | x) = head([sum_k g(H_k) ; 0]) depends on the finished
partition's cluster sums only, never on the order in which the points were assigned, so
normalising it over partitions gives a distribution over clusterings that is order-invariant
by construction, whatever the policy q does. (NCP has no reward: its logits are not flows.)

- `reward_log_weights(model, X, labels)`: log R of many partitions (M, N) in batched calls.
- `exact_reward_posterior(model, X)`: N <= 9, enumerating all Bell(N) partitions (21,147 at N = 9).
- `sampled_reward_posterior(model, X, n_samples, seed)`: self-normalised importance sampling
  with the policy q as proposal: weights w_s = R(c_s) / q(c_s), with the effective sample size
  (sum w)^2 / sum w^2 and the estimate log Z = log mean w.
- `reward_posterior(model, X, ...)`: exact when N <= MAX_EXACT_N, else sampled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import PartitionDistribution, logsumexp
from .partitions import MAX_EXACT_N, all_partitions, canonical_labels, distinct_partitions


@dataclass(frozen=True)
class RewardPosterior:
    """p_R over partitions of X's rows (canonical labels, X's row order).

    distribution: PartitionDistribution (exact: all partitions; sampled: the distinct samples
        with their self-normalised weights).
    method: "exact" or "importance".
    log_z: log Z(x) = log sum_c R(c | x) (exact), or its importance-sampling estimate.
    ess: effective sample size of the importance weights (exact: None).
    n_samples: proposal draws (exact: None).
    """

    distribution: PartitionDistribution
    method: str
    log_z: float
    ess: float | None = None
    n_samples: int | None = None

    def log_prob(self, model, X, labels) -> float:
        """log p_R(labels | X) = log R(labels | X) - log Z: one number, whatever the order."""
        return float(reward_log_weights(model, X, np.asarray(labels)[None])[0] - self.log_z)


def _require_gfncp(model) -> None:
    if getattr(model, "kind", None) != "gfncp":
        raise ValueError("Only a GFNCP has a reward R(c | x): NCP's scores are logits, not flows.")


def reward_log_weights(model, X, labels, batch_size: int = 4096) -> np.ndarray:
    """log R(c | X) of partitions labels (M, N) (any cluster ids; rows of X), float64 (M,).

    Terminal log-flows in batches of `batch_size` partitions; X is encoded once per batch.
    """
    import torch

    _require_gfncp(model)
    Xt = model.points_tensor(X)
    lab = canonical_labels(np.atleast_2d(np.asarray(labels)))
    if lab.shape[1] != len(Xt):
        raise ValueError(f"labels must have {len(Xt)} columns (one per point), got {lab.shape[1]}.")
    net = model.net
    out = np.empty(len(lab))
    with torch.inference_mode():
        h, _ = net.encode(Xt[None])                                   # (1, N, dh): encoded once
        zero_u = torch.zeros(1, h.shape[2], dtype=h.dtype)
        for start in range(0, len(lab), batch_size):
            chunk = torch.as_tensor(lab[start:start + batch_size])
            one_hot = torch.nn.functional.one_hot(chunk, int(chunk.max()) + 1).to(h.dtype)   # (B, N, K)
            sums = one_hot.transpose(1, 2) @ h[0]                     # (B, K, dh) cluster sums
            used = one_hot.sum(dim=1) > 0
            G = (net.g(sums) * used[..., None]).sum(dim=1)            # (B, g_dim)
            out[start:start + len(chunk)] = net.head(G, zero_u.expand(len(chunk), -1)).reshape(-1).double().numpy()
    return out


def exact_reward_posterior(model, X, batch_size: int = 4096) -> RewardPosterior:
    """p_R over all Bell(N) partitions of the N <= 9 rows of X."""
    _require_gfncp(model)
    N = len(np.asarray(X))
    if N > MAX_EXACT_N:
        raise ValueError(f"exact_reward_posterior enumerates all partitions; N <= {MAX_EXACT_N}, got {N}. "
                         "Use sampled_reward_posterior.")
    labels = all_partitions(N)
    log_r = reward_log_weights(model, X, labels, batch_size)
    return RewardPosterior(PartitionDistribution.from_log_weights(labels, log_r), "exact", float(logsumexp(log_r)))


def importance_weights(log_reward, log_q) -> tuple[np.ndarray, float, float]:
    """Self-normalised importance weights of S draws from q for the target R / Z.

    log_reward, log_q (S,) -> (weights (S,) summing to 1, ESS = 1 / sum w^2 in [1, S],
    log Z estimate = log mean exp(log R - log q)).
    """
    log_w = np.asarray(log_reward, float) - np.asarray(log_q, float)
    if log_w.ndim != 1 or len(log_w) == 0 or not np.isfinite(log_w).all():
        raise ValueError("log_reward and log_q must be finite (S,) arrays with S >= 1.")
    lse = float(logsumexp(log_w))
    w = np.exp(log_w - lse)
    return w, float(1.0 / np.sum(w ** 2)), lse - float(np.log(len(log_w)))


def sampled_reward_posterior(model, X, n_samples: int = 500, seed: int = 0, order=None) -> RewardPosterior:
    """p_R estimated by self-normalised importance sampling, proposal q (in `order`).

    The target does not depend on the order; the estimate's noise does (through q), and
    shrinks as the effective sample size grows.
    """
    _require_gfncp(model)
    s = model.sample(X, n_samples=n_samples, seed=seed, order=order)
    uniq, first, _ = distinct_partitions(s.labels)
    index = {row.tobytes(): i for i, row in enumerate(uniq)}
    inverse = np.array([index[row.tobytes()] for row in np.ascontiguousarray(s.labels)])
    log_r = reward_log_weights(model, X, uniq)
    w, ess, log_z = importance_weights(log_r[inverse], s.log_prob)
    mass = np.bincount(inverse, weights=w, minlength=len(uniq))
    with np.errstate(divide="ignore"):
        dist = PartitionDistribution.from_log_weights(uniq, np.log(mass))
    return RewardPosterior(dist, "importance", log_z, ess, n_samples)


def reward_posterior(model, X, n_samples: int = 500, seed: int = 0, order=None) -> RewardPosterior:
    """Exact p_R for N <= MAX_EXACT_N points, importance-sampled (proposal q) beyond."""
    if len(np.asarray(X)) <= MAX_EXACT_N:
        return exact_reward_posterior(model, X)
    return sampled_reward_posterior(model, X, n_samples, seed, order)
