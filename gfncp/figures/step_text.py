"""The step-through page's words: captions, option names and flow numbers of a Trace step.

Plain strings from plain data; the figure (step_through.py) and the page both use them.
"""
from __future__ import annotations

import math

import numpy as np

from ..trace import Trace, logsumexp

MODEL_LABEL = {"gfncp": "GFNCP", "ncp": "NCP"}
FLOW_EXPLANATION = (
    "In a GFlowNet every partial clustering s passes on exactly the flow "
    "F(s) = exp(−E(s)) it receives to its children (Σ F(children) = F(s)); when that holds at "
    "every step, the product of the policy's probabilities telescopes to R(c|x) / F(∅), so "
    "the probability of the final clustering cannot depend on the order of the points "
    "(docs/method.md §Flows and order invariance)."
)


def n_clusters_before(trace: Trace, n: int) -> int:
    """K_n: clusters that exist when step n starts (the options are 0..K_n-1 and "new")."""
    return len(trace.probs[n]) - 1


def option_name(k: int, n_existing: int) -> str:
    return "new cluster" if k == n_existing else f"cluster {k}"


def chosen_text(trace: Trace, n: int) -> str:
    k, K = int(trace.choice[n]), n_clusters_before(trace, n)
    return f"new cluster {k}" if k == K else f"cluster {k}"


def fmt_prob(p: float) -> str:
    if p >= 0.995:
        return "1.00" if p >= 0.9995 else f"{p:.3f}"
    if p < 0.005:
        return "<0.01" if p > 0 else "0"
    return f"{p:.2f}"


def fmt_flow(log_value: float) -> str:
    """exp(log_value) written as 3.2e-4, even far outside float range."""
    if not np.isfinite(log_value):
        return "0" if log_value < 0 else "inf"
    e10 = log_value / math.log(10.0)
    exp = math.floor(e10)
    mant = 10 ** (e10 - exp)
    if mant >= 9.95:
        mant, exp = mant / 10, exp + 1
    return f"{mant:.1f}e{exp:+d}" if abs(exp) >= 3 else f"{math.exp(log_value):.3g}"


def fmt_ratio(log_ratio: float) -> str:
    """exp(log_ratio) with two decimals near 1, else as fmt_flow writes it (a set far outside
    the training data can put flows e^1000 apart: no overflow)."""
    return f"{math.exp(log_ratio):.2f}" if abs(log_ratio) < math.log(100.0) else fmt_flow(log_ratio)


def flow_values(trace: Trace, n: int) -> dict | None:
    """{"log_in", "log_out", "log_ratio"} at step n for a GFNCP trace (None for NCP: logits)."""
    if trace.kind != "gfncp":
        return None
    li, lo = float(trace.log_flow_in[n]), logsumexp(trace.log_flows[n])
    return {"log_in": li, "log_out": lo, "log_ratio": lo - li}


def flow_line(trace: Trace, n: int) -> str:
    """One line: flow in vs flow out at step n in log units relative to the root (never raw
    magnitudes: a set far from the training data puts flows e^1000 apart), and the running log q."""
    fv = flow_values(trace, n)
    logq = f"log q(partial clustering) = {trace.log_q[n]:.2f}"
    if fv is None:
        return f"{logq} · NCP scores options with logits, not flows"
    rel = "≈" if abs(fv["log_ratio"]) < 0.05 else "≠"
    root = float(trace.log_root)
    return (f"log flow in {fv['log_in'] - root:+.2f} {rel} log flow out {fv['log_out'] - root:+.2f} "
            f"(relative to the root; out − in = {fv['log_ratio']:+.2f}) · {logq}")


def step_caption(trace: Trace, n: int, other: Trace | None = None) -> str:
    """Plain text: "Step 18 of 100: point #42 → cluster 2 (p = 0.62)" (+ the other model)."""
    k = int(trace.choice[n])
    text = (f"Step {n + 1} of {trace.n_steps}: point #{int(trace.order[n])} → {chosen_text(trace, n)} "
            f"(p = {fmt_prob(float(trace.probs[n][k]))})")
    if other is not None:
        q = np.asarray(other.probs[n])
        best = int(np.argmax(q))
        name = MODEL_LABEL.get(other.kind, other.kind)
        text += f"; {name} gives it {fmt_prob(float(q[k]))}"
        if best != k:
            text += f" and prefers {option_name(best, len(q) - 1)} ({fmt_prob(float(q[best]))})"
    return text
