"""The teacher-forced pass over all N steps at once (METHOD §7.3).

Given a batch of sets and their (canonical) labels, compute for every step n the log-flow
(GFNCP: -E; NCP: logit) of every option k = 0..K_n, in two large batched network calls
instead of N sequential steps. Cluster sums before step n are exclusive prefix sums of the
one-hot labels times h; the unassigned sum is a suffix sum of q.

Everything here is row-local, so rows may differ in label pattern, order and (with a point
mask, valid points first) in N.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .network import SetNetwork


@dataclass
class TeacherForced:
    """Output of `teacher_forced`. B rows, N steps, K+1 option columns.

    log_flows:  (B, N, K+1) log-flow of every child state (-inf where the option is invalid)
    log_probs:  (B, N, K+1) log-softmax of log_flows over the valid options
    log_root:   (B,)        log-flow of the root state (nothing assigned)
    labels:     (B, N)      canonical labels (0 at padded points)
    step_mask:  (B, N)      True at the steps n >= 1 that assign a real point
    last:       (B,)        index of each row's last real point
    """

    log_flows: torch.Tensor
    log_probs: torch.Tensor
    log_root: torch.Tensor
    labels: torch.Tensor
    step_mask: torch.Tensor
    last: torch.Tensor

    @property
    def log_p_chosen(self) -> torch.Tensor:
        """(B, N) log p(c_n | c_<n, x) of the given labels; 0 where step_mask is False."""
        lp = self.log_probs.gather(-1, self.labels[..., None]).squeeze(-1)
        return torch.where(self.step_mask, lp, torch.zeros_like(lp))

    @property
    def log_q(self) -> torch.Tensor:
        """(B,) log q(c | x) of the given labels in the given order."""
        return self.log_p_chosen.sum(-1)

    @property
    def log_flow_chosen(self) -> torch.Tensor:
        """(B, N) log-flow of the state reached after each step (the ground-truth child)."""
        return self.log_flows.gather(-1, self.labels[..., None]).squeeze(-1)

    @property
    def log_reward(self) -> torch.Tensor:
        """(B,) log R(c | x) = -E(final partition): the log-flow of the terminal state."""
        return self.log_flow_chosen.gather(-1, self.last[:, None]).squeeze(-1)


def previous_cluster_count(labels: torch.Tensor) -> torch.Tensor:
    """K_n = number of clusters among points 0..n-1 (0 at n = 0). labels (B, N) -> (B, N)."""
    running_max = labels.cummax(dim=1).values
    return torch.cat([torch.zeros_like(labels[:, :1]), running_max[:, :-1] + 1], dim=1)


def candidate_summaries(net: SetNetwork, h: torch.Tensor, labels: torch.Tensor, point_mask: torch.Tensor):
    """G for every step and option. h (B, N, dh), labels (B, N) -> G (B, N, K+1, g), K_n (B, N).

    G[b, n, k] = sum over the clusters of the partial clustering "points < n as labelled,
    point n in cluster k" of g(cluster sum of h); k = K_n opens a new cluster.
    """
    B, N, _ = h.shape
    K = int(labels.max()) + 1
    one_hot = torch.nn.functional.one_hot(labels, K).to(h.dtype) * point_mask[..., None].to(h.dtype)
    contrib = one_hot[..., None] * h[:, :, None, :]             # (B, N, K, dh)
    prefix = contrib.cumsum(dim=1) - contrib                    # exclusive: points < n
    n_prev = previous_cluster_count(labels)                     # (B, N)
    existing = torch.arange(K, device=h.device) < n_prev[..., None]  # (B, N, K)

    # One batched g call for the three kinds of cluster summary, on the clusters that exist
    # at each step only (the others are empty: skipping them roughly halves the g work).
    rows = prefix[existing]                                     # (M, dh)
    h_rows = h[:, :, None, :].expand_as(prefix)[existing]
    M = rows.shape[0]
    g_all = net.g(torch.cat([rows, rows + h_rows, h.reshape(B * N, -1)], dim=0))
    g_prefix = g_all.new_zeros(B, N, K, g_all.shape[-1])
    g_joined = g_all.new_zeros(B, N, K, g_all.shape[-1])
    g_prefix[existing] = g_all[:M]
    g_joined[existing] = g_all[M:2 * M]
    g_alone = g_all[2 * M:].reshape(B, N, -1)
    total = g_prefix.sum(dim=2)                                 # (B, N, g): sum over existing clusters

    join = total[:, :, None] - g_prefix + g_joined              # (B, N, K, g)
    join = torch.cat([join, torch.zeros_like(join[:, :, :1])], dim=2)
    opens = (torch.arange(K + 1, device=h.device) == n_prev[..., None])[..., None]
    G = torch.where(opens, (total + g_alone)[:, :, None], join)
    return G, n_prev


def teacher_forced(net: SetNetwork, X: torch.Tensor, labels: torch.Tensor,
                   point_mask: torch.Tensor | None = None) -> TeacherForced:
    """Teacher-forced log-flows of every option at every step.

    X: (B, N, d) points in the order they are assigned; labels: (B, N) canonical labels;
    point_mask: (B, N) bool, True for real points (they must come first in each row).
    """
    B, N, _ = X.shape
    if point_mask is None:
        point_mask = torch.ones(B, N, dtype=torch.bool, device=X.device)
    labels = torch.where(point_mask, labels, torch.zeros_like(labels))
    h, q = net.encode(X, point_mask)
    G, n_prev = candidate_summaries(net, h, labels, point_mask)

    q_total = q.sum(dim=1)                                       # (B, dh)
    unassigned = q_total[:, None] - q.cumsum(dim=1)              # points > n, (B, N, dh)
    log_flows = net.head(G, unassigned[:, :, None, :])     # (B, N, K+1)

    cols = torch.arange(G.shape[2], device=X.device)
    valid = cols <= n_prev[..., None]
    # Padded rows keep one dummy option so their softmax stays finite; step_mask drops them.
    valid = torch.where(point_mask[..., None], valid, cols == 0)
    log_flows = log_flows.masked_fill(~valid, float("-inf"))
    log_probs = torch.log_softmax(log_flows, dim=-1)

    log_root = net.head(torch.zeros(B, net.config.g_dim, dtype=X.dtype, device=X.device), q_total)
    step_mask = point_mask.clone()
    step_mask[:, 0] = False
    last = point_mask.sum(dim=1) - 1
    return TeacherForced(log_flows, log_probs, log_root, labels, step_mask, last)


def flow_residuals(tf: TeacherForced) -> torch.Tensor:
    """Clean log-space flow-matching residuals r_n (METHOD §3.2 "Clean"), (B, N), 0 off-steps.

    r_1 = log F(root) - LSE_k log F(s_1 = k);  r_n = log F(s_{n-1}) - LSE_k log F(s_n = k).
    The edge root -> "point 0 alone" has a single child and is merged into the root.
    Summed over n: sum r_n = log q(c|x) - (log R(c|x) - log F(root)), the flow-consistency gap.
    """
    out_flow = torch.logsumexp(tf.log_flows, dim=-1)            # (B, N)
    in_flow = torch.cat([tf.log_root[:, None], tf.log_flow_chosen[:, :-1]], dim=1)
    in_flow[:, 1] = tf.log_root                                 # merged first edge
    r = in_flow - out_flow
    return torch.where(tf.step_mask, r, torch.zeros_like(r))


def log_reward(net: SetNetwork, X: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log R(c | x) = head([sum_k g(H_k) ; 0]) of complete partitions, in one call.

    X: (B, N, d), labels: (B, N) canonical -> (B,). Equal to the log-flow of the last step of
    the teacher-forced pass, without computing the other steps.
    """
    h, _ = net.encode(X)
    K = int(labels.max()) + 1
    one_hot = torch.nn.functional.one_hot(labels, K).to(h.dtype)     # (B, N, K)
    sums = one_hot.transpose(1, 2) @ h                                 # (B, K, dh)
    used = one_hot.sum(dim=1) > 0                                      # (B, K)
    G = (net.g(sums) * used[..., None]).sum(dim=1)
    return net.head(G, torch.zeros(h.shape[0], h.shape[2], dtype=h.dtype, device=h.device))
