"""Order invariance: how much a sequential clusterer's answer depends on the input order.

Pure statistics on what the models return under R random orders (no Streamlit, no torch):

- `random_orders(n, n_orders, seed)`: R permutations of 0..n-1 from a numpy Generator.
- `spread_summary(log_q)` / `describe_spread(name, summary)`: the spread of log q of ONE
  fixed clustering over orders, in nats and as a probability ratio (max/min).
- `agreement_stats(label_sets, truth)`: how much the clusterings a model outputs under
  different orders agree (distinct clusterings, mean pairwise ARI, NMI to the truth).
- `match_labels(reference, labels)` / `differences(reference, labels)`: optimal one-to-one
  matching of clusters (matching.py), the points that differ.
- `flow_gap(log_q, log_reward, log_root)`: |log q - (log R - log F(root))| per order, the
  flow-consistency gap of a GFNCP (zero for perfectly matched flows; docs/method.md §Flows
  and order invariance).
- `run_task(model, task, X, orders, labels)`: the model calls the page makes, one task at
  a time (so the page can cache each and show progress between them).
"""
from __future__ import annotations

import math

import numpy as np

from .matching import match_to_reference
from .metrics import ari, nmi
from .partitions import canonical_labels, distinct_partitions

# A GFNCP whose flows match to within this many nats in every order is "consistent".
CONSISTENT_GAP_NATS = 0.05
# The networks run in float32 (epsilon 1.2e-7): a log q that moves by less than this fraction of
# its size (of 1 nat when smaller) is rounding, not order dependence. On a two-point set GFNCP's
# log q of -0.07 nats moved by 1e-7 over 50 orders, and the page called it "infinitely" less
# invariant than NCP's, which happened to round identically.
ROUNDING_REL = 1e-5


# -- orders ------------------------------------------------------------------------------

def random_orders(n: int, n_orders: int, seed: int) -> np.ndarray:
    """(n_orders, n) int64: independent uniform permutations of 0..n-1 (numpy Generator)."""
    if n < 1 or n_orders < 1:
        raise ValueError(f"need n >= 1 and n_orders >= 1, got n={n}, n_orders={n_orders}.")
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n) for _ in range(n_orders)]).astype(np.int64)


def one_order(n: int, seed: int, index: int) -> np.ndarray:
    """The `index`-th extra order of a session ("Shuffle once"), reproducible from (seed, index)."""
    return np.random.default_rng([int(seed), 1_000_003, int(index)]).permutation(n).astype(np.int64)


# -- spread of log q of one clustering ---------------------------------------------------

def spread_summary(log_q) -> dict:
    """Spread over R orders of log q(c | x) of one clustering c.

    Returns n, mean, median, min, max, std (population, nats), range (max - min, nats),
    ratio = exp(range) (max/min of the probability; inf when it overflows), log10_ratio,
    pct = (ratio - 1) * 100, cv = std/mean of the probability exp(log q) itself, and
    rounding: True when the range is within float32 rounding of log q (ROUNDING_REL).
    """
    lq = np.asarray(log_q, dtype=np.float64).reshape(-1)
    if lq.size == 0:
        raise ValueError("log_q is empty.")
    if not np.isfinite(lq).all():
        raise ValueError("log_q contains NaN or infinity.")
    rng_nats = float(lq.max() - lq.min())
    p = np.exp(lq - lq.max())                 # scale-free: cv does not depend on the shift
    ratio = math.exp(rng_nats) if rng_nats < 700 else math.inf
    return {
        "n": int(lq.size), "mean": float(lq.mean()), "median": float(np.median(lq)),
        "min": float(lq.min()), "max": float(lq.max()), "std": float((lq - lq[0]).std()),
        "range": rng_nats, "ratio": ratio, "log10_ratio": rng_nats / math.log(10),
        "pct": (ratio - 1.0) * 100.0 if ratio != math.inf else math.inf,
        "cv": float(p.std() / p.mean()),
        "rounding": rng_nats <= ROUNDING_REL * max(1.0, float(np.abs(lq).max())),
    }


def _sig(x: float, digits: int = 2) -> str:
    """x with `digits` significant figures, no exponent for ordinary sizes."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_nats(x: float) -> str:
    """A quantity in nats for display: 3 significant figures, no exponent below a million."""
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.2e} nats"
    return f"{_sig(x, 3)} nats"


def format_ratio(summary: dict) -> str:
    """The max/min probability ratio as words: 'by 3%', '40-fold', 'by a factor of about 10^12'."""
    r = summary["range"]
    if r == 0:
        return "not at all"
    if summary["rounding"]:
        return "not beyond float rounding"
    if summary["ratio"] < 2:
        return f"by {_sig(summary['pct'])}%"
    if summary["ratio"] < 1e4:
        return f"{_sig(summary['ratio'])}-fold"
    return f"by a factor of about 10^{summary['log10_ratio']:.0f}"


def describe_spread(name: str, summary: dict) -> str:
    """One sentence a person understands, e.g. "NCP's probability for the same clustering
    varies 40-fold with the order (max/min over 50 orders; std 1.2 nats, range 3.7 nats)."."""
    n = summary["n"]
    nats = f"std {_sig(summary['std'], 2)} nats, range {_sig(summary['range'], 2)} nats"
    if summary["range"] == 0:
        return f"{name}'s probability for the same clustering is identical under all {n} orders."
    if summary["rounding"]:
        return (f"{name}'s probability for the same clustering is the same under all {n} orders, up to float "
                f"rounding (range {summary['range']:.1e} nats).")
    return (f"{name}'s probability for the same clustering varies {format_ratio(summary)} with the order "
            f"(max/min over {n} orders; {nats}).")


def compare_spreads(name_a: str, a: dict, name_b: str, b: dict) -> str:
    """A verdict comparing two spreads (std in nats) that says what the numbers say; a spread
    within float rounding counts as none."""
    sa, sb = (0.0 if s["rounding"] else s["std"] for s in (a, b))
    if sa == 0 and sb == 0:
        rounding = " (beyond float rounding)" if a["range"] > 0 or b["range"] > 0 else ""
        return f"Neither {name_a} nor {name_b} changes with the order here{rounding}."
    if sa < sb:
        factor = math.inf if sa == 0 else sb / sa
        if factor < 1.5:
            return (f"{name_a} and {name_b} are about equally sensitive to the order on this data "
                    f"(std {_sig(sa)} vs {_sig(sb)} nats).")
        times = "infinitely" if factor == math.inf else f"{_sig(factor)} times"
        return f"{name_a}'s log q varies {times} less with the order than {name_b}'s (std in nats)."
    factor = math.inf if sb == 0 else sa / sb
    if factor < 1.5:
        return (f"{name_a} and {name_b} are about equally sensitive to the order on this data "
                f"(std {_sig(sa)} vs {_sig(sb)} nats).")
    times = "infinitely" if factor == math.inf else f"{_sig(factor)} times"
    return (f"On this data {name_a} is NOT more order-invariant than {name_b}: its log q varies "
            f"{times} more with the order (std in nats).")


# -- agreement of clusterings across orders ----------------------------------------------

def distinct(label_sets) -> tuple[np.ndarray, np.ndarray]:
    """Distinct clusterings among R label vectors: (labels (M, N) canonical, counts (M,)),
    in order of first appearance."""
    z = canonical_labels(np.asarray(label_sets))
    if z.ndim != 2 or len(z) == 0:
        raise ValueError(f"label_sets must have shape (R, N) with R >= 1, got {np.shape(label_sets)}.")
    unique, _, counts = distinct_partitions(z)
    return unique, counts


def pairwise_ari(label_sets) -> np.ndarray:
    """ARI of every pair of M clusterings (M, N) -> (M, M), same values as `ari`.

    Pair counting in one matrix product: with C_m the N x N co-membership matrix of
    clustering m, the number of point pairs together in both m and m' is (C_m . C_m' - N) / 2.
    Memory M * N^2; for large N it falls back to one `ari` call per pair.
    """
    z = np.asarray(label_sets)
    M, N = z.shape
    if N < 2 or M * N * N > 50_000_000 or N * N >= 2 ** 24:
        return np.array([[ari(z[i], z[j]) for j in range(M)] for i in range(M)])
    C = (z[:, :, None] == z[:, None, :]).reshape(M, N * N).astype(np.float32)
    # integer counts below 2^24 are exact in float32; the ratios below are taken in float64
    both = ((C @ C.T).astype(np.float64) - N) / 2.0              # pairs together in both
    together = np.diag(both).copy()                              # pairs together in each
    pairs = N * (N - 1) / 2.0
    expected = np.outer(together, together) / pairs
    maximum = (together[:, None] + together[None, :]) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (both - expected) / (maximum - expected)
    return np.where(np.isclose(maximum, expected), 1.0, out)


def agreement_stats(label_sets, truth=None) -> dict:
    """How much R clusterings of the same points agree.

    label_sets (R, N); truth (N,) or None. Returns
      n_orders, n_distinct, modal_share (share of orders giving the most common clustering),
      mean_pairwise_ari (over all R(R-1)/2 pairs of orders; nan when R == 1),
      k_mean, k_min, k_max (number of clusters),
      and with truth: nmi_truth_mean, ari_truth_mean (averaged over the R orders).
    """
    uniq, counts = distinct(label_sets)
    R = int(counts.sum())
    pairs = R * (R - 1) / 2
    if pairs == 0:
        mean_ari = math.nan
    else:
        A = pairwise_ari(uniq)                                    # (M, M), diagonal 1
        w = counts.astype(np.float64)
        total = float(w @ A @ w - w.sum()) / 2                   # every pair of orders once
        mean_ari = total / pairs
    ks = uniq.max(axis=1) + 1
    out = {
        "n_orders": R, "n_distinct": int(len(uniq)), "modal_share": float(counts.max() / R),
        "mean_pairwise_ari": float(mean_ari),
        "k_mean": float((ks * counts).sum() / R), "k_min": int(ks.min()), "k_max": int(ks.max()),
    }
    if truth is not None:
        truth = np.asarray(truth)
        if truth.shape != (uniq.shape[1],):
            raise ValueError(f"truth must have shape ({uniq.shape[1]},), got {truth.shape}.")
        out["nmi_truth_mean"] = float(sum(c * nmi(truth, u) for u, c in zip(uniq, counts)) / R)
        out["ari_truth_mean"] = float(sum(c * ari(truth, u) for u, c in zip(uniq, counts)) / R)
    return out


# -- matching two clusterings ------------------------------------------------------------

def match_labels(reference, labels) -> np.ndarray:
    """`labels` (N,) in the id space of `reference` (N,): matched clusters take their
    partner's id, unmatched ones fresh ids max(reference)+1, +2, ... in order of first
    appearance (matching.match_to_reference)."""
    return match_to_reference(labels, reference, fresh_unmatched=True)


def differences(reference, labels) -> np.ndarray:
    """(N,) bool: points whose cluster differs from the reference after optimal matching."""
    return match_labels(reference, labels) != np.asarray(reference)


# -- flow consistency --------------------------------------------------------------------

def flow_gap(log_q, log_reward, log_root) -> dict:
    """|log q - (log R(c|x) - log F(root))| per order; mean and max over orders (nats)."""
    gap = np.abs(np.asarray(log_q, float) - (np.asarray(log_reward, float) - np.asarray(log_root, float)))
    return {"gap": gap, "mean": float(gap.mean()), "max": float(gap.max())}


def describe_flow_gap(summary: dict, n_orders: int) -> str:
    """What the measured gap means, in words (three tiers: consistent, approximate, broken)."""
    mean, mx = summary["mean"], summary["max"]
    head = f"Over {n_orders} orders: mean gap {format_nats(mean)}, max {format_nats(mx)}."
    if mx <= CONSISTENT_GAP_NATS:
        return head + (f" Below {CONSISTENT_GAP_NATS} nats (the probability is off by at most "
                       f"{_sig((math.exp(mx) - 1) * 100, 2)}%): the flows match here, so GFNCP's answer "
                       "cannot depend much on the order.")
    if mx <= 1.0:
        return head + (f" The flows match only approximately (the probability is off by up to "
                       f"{_sig((math.exp(mx) - 1) * 100, 2)}% from the order-free value R(c|x)/F(root)), "
                       "so the guarantee holds only approximately.")
    factor = f"{_sig(math.exp(mx))}-fold" if mx < math.log(1e4) else f"about 10^{mx / math.log(10):.0f}-fold"
    return head + (f" The flows do NOT match on this data (off by up to {factor} from the order-free value "
                   "R(c|x)/F(root)): the identity does not hold, so whatever order invariance the plot above "
                   "shows comes from training, not from the guarantee.")


# -- the model calls ---------------------------------------------------------------------

def run_task(model, task: str, X, orders, labels=None) -> dict:
    """One batch of model calls for the order study (all orders in one call).

    task "greedy": {"labels" (R, N), "log_q" (R,)} greedy decoding under every order;
    task "fixed":  {"log_q" (R,)} log q of `labels` under every order; for a GFNCP also
                   "log_reward" and "log_root" (one teacher-forced pass gives all three).
    """
    orders = np.asarray(orders)
    if task == "greedy":
        lab, lq = model.greedy_orders(X, orders)
        return {"labels": lab, "log_q": lq}
    if task == "fixed":
        if labels is None:
            raise ValueError("task 'fixed' needs labels.")
        if model.kind == "gfncp":
            return model.flow_terms(X, labels, orders)
        return {"log_q": model.log_prob_orders(X, labels, orders)}
    raise ValueError(f"task must be 'greedy' or 'fixed', got {task!r}.")
