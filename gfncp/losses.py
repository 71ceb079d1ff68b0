"""Training objectives on top of the teacher-forced pass (docs/method.md §Objectives).

- `ncp_loss`:   teacher-forced negative log-likelihood of the true labels (NCP).
- `clean_loss`: NLL + lambda_fm * sum_n r_n^2, with r_n the clean log-space flow-matching
                residual and the root flow trained (the best recipe of docs/experiments.md §Early experiments); optionally
                + lambda_order * (log q(c | order 1) - log q(c | order 2))^2 / N on batches
                that hold every set twice, in two random orders; optionally + lambda_policy *
                sum_n r_n^2 along clusterings drawn from the model's own policy (`policy_fm`).
- `swap_pairs` / `swap_balance`: the local swap-balance objective (docs/method.md §Flows and order invariance;
                results in docs/experiments/order-consistency.md): the same sets with disjoint adjacent
                pairs of positions swapped; the residual d = [log pi(a|s) + log pi(b|s+a)] - [log pi(b|s) + log pi(a|s+b)] per
                swapped pair from two teacher-forced passes; d = 0 at every state is exact order
                invariance.
- `anchor_loss`: pins log F(root) to 0 and log R(c_true) to log q(c_true) (stop-gradient), the
                flow levels at which flow matching and the policy agree.
- `paper_loss`: the published GFNCP objective: flow matching with per-step max-shifts and
                log(eps + .) as the released code computes it, the contrastive-divergence
                term on an on-policy negative sample, and the fixed-reward regulariser.

Each returns (loss, stats) where stats are floats for logging. Every loss is normalised
per assigned point, so the same learning rate works for any set size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .teacher import TeacherForced, flow_residuals

PAPER_EPS = 1e-5


@dataclass
class LossWeights:
    fm: float = 0.05           # clean: weight of sum_n r_n^2
    tb: float = 0.0            # clean: weight of (sum_n r_n)^2 / N, the trajectory-balance gap
    nll: float = 1.0           # clean / paper: weight of the teacher-forced NLL (paper code: 0)
    cd: float = 0.4            # paper: contrastive divergence lambda
    reg: float = 0.6           # paper: fixed-reward lambda
    cd_clip: float = 0.0       # paper: if > 0, clip |T - T~| (docs/experiments.md §Early experiments); 0 = as published
    order: float = 0.0         # clean: weight of (log q(c|x, order 1) - log q(c|x, order 2))^2 / N
    fm_policy: float = 0.0     # clean: weight of sum_n r_n^2 along clusterings sampled from the policy
    swap: float = 0.0          # clean or NCP: weight of the swap-balance residual d^2 (`swap_balance`)
    anchor: float = 0.0        # clean: weight of the flow-level anchor (`anchor_loss`)
    swap_policy: float = 0.0   # clean or NCP: weight of the swap balance along clusterings sampled from the policy


def _n_steps(tf: TeacherForced) -> torch.Tensor:
    return tf.step_mask.sum().clamp_min(1)


def ncp_loss(tf: TeacherForced, weights: LossWeights | None = None):
    nll = -tf.log_p_chosen.sum() / _n_steps(tf)
    return nll, {"nll": nll.item()}


def clean_loss(tf: TeacherForced, weights: LossWeights, n_pairs: int = 0):
    """n_pairs > 0: rows i and i + n_pairs (i < n_pairs) are the same set and clustering in two
    orders. Their log q must agree for the model to be order-invariant, and that is exactly
    what the order term asks, whatever the flows' absolute level (which FM and TB target)."""
    n = _n_steps(tf)
    nll = -tf.log_p_chosen.sum() / n
    r = flow_residuals(tf)
    fm = (r ** 2).sum() / n
    loss = weights.nll * nll + weights.fm * fm
    gap = r.sum(dim=1)                                           # log q - (log R - log F(root))
    if weights.tb > 0:
        # The gap is what makes log q depend on the order: drive it to 0 on every row.
        # Divided by the row's N so large sets do not dominate.
        loss = loss + weights.tb * (gap ** 2 / (tf.last + 1)).mean()
    stats = {"nll": nll.item(), "fm": fm.item(), "gap": gap.abs().mean().item()}
    if n_pairs > 0:
        log_q = tf.log_q
        diff = log_q[:n_pairs] - log_q[n_pairs:2 * n_pairs]
        if weights.order > 0:
            loss = loss + weights.order * (diff ** 2 / (tf.last[:n_pairs] + 1)).mean()
        stats["order"] = diff.abs().mean().item()
    return loss, stats


def policy_fm(tf: TeacherForced) -> torch.Tensor:
    """Summed squared flow residuals per assigned point along the paths of `tf` (teacher-forced
    on clusterings the policy sampled, not the truth): flows must match at every state the
    model visits, including the wrong or ambiguous ones the true paths never reach."""
    return (flow_residuals(tf) ** 2).sum() / _n_steps(tf)


def swap_pairs(n_points: int, offset: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Disjoint adjacent pairs of positions (2m + offset, 2m + 1 + offset) within 0..n_points-1,
    as tensors on `device` (the batch's: they index it and are compared with its tensors).

    -> (perm (n_points,) long: the swapped order as indices into the original positions,
        first (P,) long: the first position i of each swapped pair (i, i + 1)).
    """
    if offset not in (0, 1):
        raise ValueError(f"offset must be 0 or 1, got {offset}")
    first = torch.arange(offset, n_points - 1, 2, device=device)
    perm = torch.arange(n_points, device=device)
    perm[first], perm[first + 1] = first + 1, first
    return perm, first


def swap_labels(labels: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Canonical labels (B, N) of the points taken in the order `perm` (N,), re-canonicalised:
    clusters renumbered in order of first appearance."""
    z = labels[:, perm]
    B, N = z.shape
    steps = torch.arange(N, device=z.device)
    K = int(z.max()) + 1
    first_seen = torch.full((B, K), N, dtype=torch.long, device=z.device).scatter_reduce(
        1, z, steps.expand(B, N), "amin")                      # (B, K) first position of each id
    rank = first_seen.argsort(dim=1).argsort(dim=1)            # unused ids (N) sort last
    return rank.gather(1, z)


def swap_residuals(tf: TeacherForced, tf_swapped: TeacherForced, first: torch.Tensor) -> torch.Tensor:
    """The swap-balance residual of every swapped pair, (B, P).

    tf: teacher-forced pass in order rho; tf_swapped: the same sets and partitions with the
    positions (i, i + 1), i in `first` (P,), swapped. Before i the two orders hold the same
    points in the same partition (state s), and after i + 1 as well (state s + a + b), so

        d = [log pi(a | s) + log pi(b | s + a)] - [log pi(b | s) + log pi(a | s + b)]
          = (log q(s + a + b | s) along rho) - (the same along the swapped order),

    which is 0 for every pair at every state iff the policy is exchangeable (every
    permutation is a product of adjacent swaps). Step 0 has log-probability 0 in both.
    Pairs beyond a row's last real point give 0.
    """
    lp, lps = tf.log_p_chosen, tf_swapped.log_p_chosen          # (B, N), 0 off-steps
    first = first.to(lp.device)
    d = (lp[:, first] + lp[:, first + 1]) - (lps[:, first] + lps[:, first + 1])
    inside = (first + 1)[None, :] <= tf.last[:, None]
    return torch.where(inside, d, torch.zeros_like(d))


def swap_balance(tf: TeacherForced, tf_swapped: TeacherForced, first: torch.Tensor) -> torch.Tensor:
    """Mean over the batch's swapped pairs of d^2 (`swap_residuals`), a scalar."""
    d = swap_residuals(tf, tf_swapped, first)
    first = first.to(d.device)
    inside = (first + 1)[None, :] <= tf.last[:, None]
    return (d ** 2).sum() / inside.sum().clamp_min(1)


def anchor_loss(tf: TeacherForced) -> torch.Tensor:
    """The flow-level anchor, a scalar: mean over rows of

        [ log F(root)^2 + (log R(c | x) - sg[log q(c | x)])^2 ] / N,

    with c the teacher-forced (true) clustering and sg a stop-gradient. With flows equal to
    the probability of reaching a state (root flow 1, terminal flow = q), the flow of every
    state is the marginal probability of its partial clustering, so these are the levels at
    which flow matching holds without fighting the policy: the summed residual
    sum_n r_n = log q - (log R - log F(root)) is then 0. The stop-gradient makes the term
    move the flows to the policy, not the policy to the flows. Divided by each row's N like
    every other loss here.
    """
    n_points = (tf.last + 1).to(tf.log_root.dtype)
    per_row = tf.log_root ** 2 + (tf.log_reward - tf.log_q.detach()) ** 2
    return (per_row / n_points).mean()


def paper_fm_terms(tf: TeacherForced) -> tuple[torch.Tensor, torch.Tensor]:
    """The released code's in-flow a_n and out-flow b_n exponents, (B, N), 0 off-steps.

    a_1 = 0; a_n = l_{n-1}(c_{n-1}) - max_k l_{n-1}(k);
    b_n = log sum_k exp(l_n(k) - max_k l_n(k)) for n < last; b_last = log sum_k exp(l_last(k)).
    """
    lf = tf.log_flows
    shift = lf.max(dim=-1).values                                # (B, N)
    shifted_chosen = tf.log_flow_chosen - shift
    a = torch.cat([torch.zeros_like(shift[:, :1]), shifted_chosen[:, :-1]], dim=1)
    a[:, 1] = 0.0
    b = torch.logsumexp(lf - shift[..., None], dim=-1)
    is_last = torch.arange(lf.shape[1], device=lf.device)[None] == tf.last[:, None]
    b = torch.where(is_last, torch.logsumexp(lf, dim=-1), b)
    zero = torch.zeros_like(a)
    return torch.where(tf.step_mask, a, zero), torch.where(tf.step_mask, b, zero)


def paper_loss(tf: TeacherForced, weights: LossWeights, log_reward_sample: torch.Tensor | None,
               explore: bool = False):
    """Published objective. log_reward_sample: (B,) log R of on-policy sampled partitions
    (-T~), with gradient; None or explore=True drops the CD and fixed-reward terms."""
    eps = PAPER_EPS
    a, b = paper_fm_terms(tf)
    fm_steps = (torch.log(eps + a.exp()) - torch.log(eps + b.exp())) ** 2
    fm_steps = torch.where(tf.step_mask, fm_steps, torch.zeros_like(fm_steps))
    n_points = (tf.last + 1).to(fm_steps.dtype)                  # per-row N
    per_row = fm_steps.sum(dim=1)
    T = -tf.log_reward
    stats = {"fm": (per_row / n_points).mean().item(), "T": T.mean().item()}
    if not explore and log_reward_sample is not None:
        cd = T - (-log_reward_sample)
        if weights.cd_clip > 0:
            cd = cd.clamp(-weights.cd_clip, weights.cd_clip)
        reg = (torch.log(eps + torch.exp(-T)) - torch.log(torch.tensor(eps + 1.0, device=T.device))) ** 2
        per_row = per_row + weights.cd * cd + weights.reg * reg
        stats.update(cd=cd.mean().item(), reg=reg.mean().item(), T_sample=(-log_reward_sample).mean().item())
    loss = (per_row / n_points).mean()
    nll = -tf.log_p_chosen.sum() / _n_steps(tf)
    if weights.nll > 0:
        loss = loss + weights.nll * nll
    stats["nll"] = nll.item()
    return loss, stats
