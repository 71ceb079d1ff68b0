"""A step trace: the record of one sequential pass, as plain data, and the flow check on it.

    trace = trace_from_run(kind, order, choice, run)   # the one builder, from a run_policy result
    flows_of(trace, other)                             # which of two traces carries GFNCP's flows
    flow_mismatch(trace)                               # (N,) log(flow out / flow in) per step

A GFNCP's option scores are log-flows -E(s') of the states each option leads to; a
flow-consistent GFNCP passes on exactly the flow a state receives (docs/method.md §Flows and
order invariance), so flow in = flow out at every step. NCP's scores are logits: no flows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .partitions import canonical_labels


@dataclass
class Trace:
    """Per-step record of one sequential pass, for the step-through animation.

    Step n assigns point `order[n]` (a row of X). options at step n: existing clusters
    0..K_n-1 (numbered by creation) and "new" = K_n.
    """

    kind: str
    order: np.ndarray            # (N,) row index assigned at each step
    choice: np.ndarray           # (N,) cluster chosen at each step (creation numbering)
    probs: list                  # N arrays (K_n + 1,): policy probabilities (step 0: [1.0])
    log_flows: list              # N arrays (K_n + 1,): log-flow (-E) or logit of each option
    log_flow_in: np.ndarray      # (N,) log-flow of the state before step n (root for n <= 1)
    log_q: np.ndarray            # (N,) log q of the partial clustering after step n
    log_root: float

    @property
    def n_steps(self) -> int:
        return len(self.order)

    def labels_at(self, n: int) -> np.ndarray:
        """(N,) cluster of every row of X after step n (-1 = not yet assigned)."""
        out = np.full(len(self.order), -1, dtype=np.int64)
        out[self.order[: n + 1]] = self.choice[: n + 1]
        return out

    def sizes_at(self, n: int) -> np.ndarray:
        return np.bincount(self.choice[: n + 1])

    @property
    def labels(self) -> np.ndarray:
        """Final labels in X's row order, canonical."""
        return canonical_labels(self.labels_at(self.n_steps - 1))

    def to_rows(self) -> list[dict]:
        """One flat record per step (export as JSON or CSV)."""
        rows = []
        for n in range(self.n_steps):
            rows.append({"step": n, "point": int(self.order[n]), "n_options": len(self.probs[n]),
                         "options": ["cluster %d" % k for k in range(len(self.probs[n]) - 1)] + ["new"],
                         "probabilities": [float(p) for p in self.probs[n]],
                         "log_flows": [float(v) for v in self.log_flows[n]],
                         "choice": int(self.choice[n]), "log_q": float(self.log_q[n])})
        return rows


def trace_from_run(kind: str, order: np.ndarray, choice: np.ndarray, run) -> Trace:
    """A Trace from a recorded single-chain `inference.run_policy(..., record=True)` result.

    order (N,): the rows of X in the order they were fed; choice (N,): the cluster taken at
    every step (the run's labels, or the labels it was forced along).
    """
    log_root = float(run.log_root[0])
    probs = [np.ones(1)] + [s.probs.astype(np.float64) for s in run.steps]
    log_flows = [np.array([log_root])] + [s.log_flows.astype(np.float64) for s in run.steps]
    chosen_flow = np.array([lf[c] for lf, c in zip(log_flows, choice)])
    # the state before step n is the one step n-1 chose; steps 0 and 1 start from the root
    log_flow_in = np.concatenate([[log_root, log_root], chosen_flow[1:-1]])[: len(order)]
    with np.errstate(divide="ignore"):             # a forced path may take a 0-probability option
        step_logp = np.array([np.log(p[c]) for p, c in zip(probs, choice)])
    return Trace(kind, order, choice, probs, log_flows, log_flow_in, np.cumsum(step_logp), log_root)


def logsumexp(v: np.ndarray) -> float:
    v = np.asarray(v, dtype=np.float64)
    m = float(np.max(v))
    if not np.isfinite(m):
        return m
    return m + float(np.log(np.sum(np.exp(v - m))))


def flow_check(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """(log flow in, log flow out) per step, (N,) each: log F(s) of the state before step n
    and log sum_children F(s'). Equal at every step for a flow-consistent GFNCP."""
    log_out = np.array([logsumexp(v) for v in trace.log_flows])
    return np.asarray(trace.log_flow_in, dtype=np.float64), log_out


def flow_mismatch(trace: Trace) -> np.ndarray:
    """(N,) log(flow out / flow in) at every step: 0 where the flows match."""
    log_in, log_out = flow_check(trace)
    return log_out - log_in


def flows_of(trace: Trace, other: Trace | None = None) -> Trace | None:
    """The GFNCP one of `trace` and `other` (trace first): the one whose scores are flows;
    None when neither is a GFNCP."""
    for t in (trace, other):
        if t is not None and t.kind == "gfncp":
            return t
    return None
