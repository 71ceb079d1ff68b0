"""A model's exact q(c | X) over every partition of a tiny set (N <= MAX_EXACT_N).

The Uncertainty page and the evaluation compare it with the exact Bayesian posterior
(references.exact_posterior) by total variation; this module is the only one outside the
clusterer that drives a network for it.
"""
from __future__ import annotations

import numpy as np
import torch

from .metrics import PartitionDistribution
from .partitions import MAX_EXACT_N, all_partitions
from .teacher import teacher_forced


def model_partition_distribution(model, X, batch_size: int = 1024) -> PartitionDistribution:
    """A model's q(c | X) over all Bell(N) partitions of X (N <= 9), points in row order.

    The policy's choice at step n depends only on the labels of the points before n, so one
    teacher-forced row per partition of the first N - 1 points (Bell(N - 1) rows, the last
    point opening a new cluster) gives log q of the prefix and the probability of every
    option for the last point: log q of all its children at once, Bell(N) in total.

    The returned log-probabilities are q itself (not renormalised), sorted most probable
    first, so `probs.sum()` is 1 up to floating-point error for a proper sequential policy.
    """
    Xt = model.points_tensor(X)
    N = len(Xt)
    if N > MAX_EXACT_N:
        raise ValueError(f"model_partition_distribution enumerates all partitions; N <= {MAX_EXACT_N}, got {N}")
    if N == 1:
        return PartitionDistribution(labels=np.zeros((1, 1), dtype=np.int64), log_probs=np.zeros(1))
    prefixes = all_partitions(N - 1)                               # (Bell(N-1), N-1)
    k_prev = prefixes.max(axis=1) + 1                              # clusters among the first N-1 points
    rows = np.hstack([prefixes, k_prev[:, None]])                  # last point opens a new cluster
    base = np.empty(len(rows))
    last = np.full((len(rows), N + 1), -np.inf)                    # log p(option k) for the last point
    # Batches of equal K: the pass costs O(K) per row, with K the batch's largest cluster id.
    by_k = np.argsort(k_prev, kind="stable")
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            idx = by_k[start:start + batch_size]
            lab = torch.as_tensor(rows[idx])
            tf = teacher_forced(model.net, Xt[None].expand(len(idx), N, Xt.shape[1]), lab)
            base[idx] = tf.log_p_chosen[:, :N - 1].sum(-1).double().numpy()
            lp = tf.log_probs[:, N - 1].double().numpy()             # (B, K_batch + 1)
            last[idx, :lp.shape[1]] = lp
    parent = np.repeat(np.arange(len(rows)), k_prev + 1)
    option = np.concatenate([np.arange(k + 1) for k in k_prev])
    labels = np.hstack([prefixes[parent], option[:, None]])
    log_q = base[parent] + last[parent, option]
    order = np.argsort(-log_q, kind="stable")
    return PartitionDistribution(labels=labels[order], log_probs=log_q[order])
