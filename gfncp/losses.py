"""Training objectives on top of the teacher-forced pass (METHOD §3).

- `ncp_loss`:   teacher-forced negative log-likelihood of the true labels (NCP).
- `clean_loss`: NLL + lambda_fm * sum_n r_n^2, with r_n the clean log-space flow-matching
                residual and the root flow trained (EXPERIMENTS.md's best recipe); optionally
                + lambda_order * (log q(c | order 1) - log q(c | order 2))^2 / N on batches
                that hold every set twice, in two random orders; optionally + lambda_policy *
                sum_n r_n^2 along clusterings drawn from the model's own policy (`policy_fm`).
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
    cd_clip: float = 0.0       # paper: if > 0, clip |T - T~| (EXPERIMENTS.md); 0 = as published
    order: float = 0.0         # clean: weight of (log q(c|x, order 1) - log q(c|x, order 2))^2 / N
    fm_policy: float = 0.0     # clean: weight of sum_n r_n^2 along clusterings sampled from the policy


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
