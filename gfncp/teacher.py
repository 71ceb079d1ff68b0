"""The teacher-forced pass over all N steps at once (docs/method.md §Teacher-forced pass).

Given a batch of sets and their (canonical) labels, compute for every step n the log-flow
(GFNCP: -E; NCP: logit) of every option k = 0..K_n, in two large batched network calls
(cluster terms, then the head) instead of N sequential steps. Cluster sums come from one
running sum per cluster (`running_cluster_sums`); the unassigned sum is a suffix sum of q.

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


def running_cluster_sums(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """S[b, m] = sum of z[b, i] over the points i <= m with labels[b, i] == labels[b, m].

    z (B, N, D), labels (B, N) -> (B, N, D). A cumulative sum over the points sorted by
    (cluster, position), restarted at every cluster (in float64: the restart subtracts the
    running total of the clusters before it). O(B N D) memory, unlike one prefix per cluster.
    """
    B, N, D = z.shape
    steps = torch.arange(N, device=z.device)
    order = (labels * N + steps).argsort(dim=1)                 # by cluster, then by position
    z_sorted = z.gather(1, order[..., None].expand(B, N, D)).double()
    running = z_sorted.cumsum(dim=1)
    lab_sorted = labels.gather(1, order)
    starts = torch.ones_like(lab_sorted, dtype=torch.bool)
    starts[:, 1:] = lab_sorted[:, 1:] != lab_sorted[:, :-1]
    first = torch.where(starts, steps, 0).cummax(dim=1).values[..., None].expand(B, N, D)
    within = running - (running.gather(1, first) - z_sorted.gather(1, first))
    return torch.empty_like(z).scatter(1, order[..., None].expand(B, N, D), within.to(z.dtype))


def option_log_flows(net: SetNetwork, h: torch.Tensor, u_term: torch.Tensor, labels: torch.Tensor,
                     point_mask: torch.Tensor) -> torch.Tensor:
    """Log-flow of every valid option at every step: (B, N, K+1), -inf at invalid options.

    h (B, N, dh) point encodings; u_term (B, N, w) = net.head_u(unassigned sum after n);
    labels (B, N) canonical. The options at step n: join each cluster k < K_n of the points
    before n, or open cluster K_n. A padded point (point_mask False) gets one dummy option, 0.

    Everything is computed on the M = sum_n K_n (step, existing cluster) pairs and the B N
    steps, never on a (B, N, K, width) grid:
    - one batched g call on "cluster k after point n joined it" (M rows) and "point n alone"
      (B N rows), with cluster sums carried as g_pre sums and g's last layer folded into the
      head (SetNetwork.cluster_term);
    - a cluster's term before step n is the term it got when its latest point m < n joined
      it, so it is gathered, not recomputed; sum_k A_k over the clusters is a cumulative sum of
      the per-step changes.
    """
    B, N, _ = h.shape
    K = int(labels.max()) + 1
    steps = torch.arange(N, device=h.device)
    clusters = torch.arange(K, device=h.device)
    fold = net.fold_cluster_head()
    z = net.g_pre(h)                                            # (B, N, hidden)
    n_prev = previous_cluster_count(labels)                     # (B, N)
    member = (labels[..., None] == clusters) & point_mask[..., None]          # (B, N, K)
    existing = (clusters < n_prev[..., None]) & point_mask[..., None]         # (B, N, K)
    latest = torch.where(member, steps[:, None], -1).cummax(dim=1).values     # latest m <= n in k
    latest = torch.cat([latest.new_full((B, 1, K), -1), latest[:, :-1]], dim=1)  # m < n
    b_i, n_i, k_i = existing.nonzero(as_tuple=True)             # the M (step, cluster) pairs
    m_i = latest[b_i, n_i, k_i]                                 # >= 0: the cluster is not empty
    M = b_i.shape[0]

    # One g call: cluster k_i (sum up to and including m_i) joined by point n_i; points alone.
    z_biased = z + net.g[0].bias                                # a lone point's pre-activation
    joined_in = running_cluster_sums(z, labels)[b_i, m_i] + z_biased[b_i, n_i]
    terms = net.cluster_term(torch.cat([joined_in, z_biased.reshape(B * N, -1)], dim=0), fold, biased=True)
    t_joined, t_alone = terms[:M], terms[M:].reshape(B, N, -1)

    # The term of point m's cluster right after m went in, and that cluster's term before.
    row_id = torch.full((B, N, K), -1, dtype=torch.long, device=h.device)
    row_id[b_i, n_i, k_i] = torch.arange(M, device=h.device)
    chosen = row_id.gather(2, labels[..., None]).squeeze(-1)   # (B, N), -1 when m opened
    opened = (chosen < 0)[..., None]
    t_after = torch.where(opened, t_alone, t_joined[chosen.clamp(min=0)])    # (B, N, w)
    t_before = t_after[b_i, m_i]                                # (M, w): cluster k_i before n_i
    t_before_chosen = t_before[chosen.clamp(min=0)] if M else torch.zeros_like(t_after)   # M = 0 iff N = 1
    t_before_chosen = torch.where(opened, 0.0, t_before_chosen)
    delta = ((t_after - t_before_chosen) * point_mask[..., None].to(t_after.dtype)).double()
    total = (delta.cumsum(dim=1) - delta).to(t_after.dtype)    # (B, N, w): sum_k A_k before n

    base = total + u_term                                       # (B, N, w): shared by a step's options
    join_rows = base[b_i, n_i] - t_before + t_joined
    open_rows = (base + t_alone).reshape(B * N, -1)
    flows = net.head_rest(torch.cat([join_rows, open_rows], dim=0))
    open_col = torch.where(point_mask, n_prev, 0)
    b_all = torch.arange(B, device=h.device)[:, None].expand(B, N).reshape(-1)
    log_flows = h.new_full((B, N, K + 1), float("-inf")).index_put(
        (torch.cat([b_i, b_all]), torch.cat([n_i, steps.repeat(B)]), torch.cat([k_i, open_col.reshape(-1)])),
        flows)
    return log_flows


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
    q_total = q.sum(dim=1)                                       # (B, dh)
    unassigned = q_total[:, None] - q.cumsum(dim=1)              # points > n, (B, N, dh)
    log_flows = option_log_flows(net, h, net.head_u(unassigned), labels, point_mask)
    log_probs = torch.log_softmax(log_flows, dim=-1)

    log_root = net.head_rest(net.head_u(q_total))                # G = 0 at the root
    step_mask = point_mask.clone()
    step_mask[:, 0] = False
    last = point_mask.sum(dim=1) - 1
    return TeacherForced(log_flows, log_probs, log_root, labels, step_mask, last)


def flow_residuals(tf: TeacherForced) -> torch.Tensor:
    """Clean log-space flow-matching residuals r_n (docs/method.md §Clean flow matching), (B, N), 0 off-steps.

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
