"""Step traces as plain data: input orders, another model's policy along a trace's path,
per-step comparisons, and JSON / CSV export.

    order = make_order(n, order_seed)                  # 0 = the data's row order
    trace = model.trace(X, order=order)                # gfncp.Clusterer.trace
    other = forced_trace(ncp_model, X, trace)          # NCP's policy on GFNCP's states
    policy_gap(trace, other)                           # (N,) max |p_a - p_b| per step
    trace_json_bytes(trace), trace_csv_bytes(trace)    # downloads
    trace_from_dict(json.loads(...))                   # round trip
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import torch

from .inference import Forced, run_policy
from .trace import Trace, flow_check, trace_from_run


# -- input orders -----------------------------------------------------------------------------

def make_order(n: int, order_seed: int = 0) -> np.ndarray:
    """The order in which the n points are fed: seed 0 = the data's row order, any other seed
    a random permutation drawn from numpy.random.default_rng(seed)."""
    if int(order_seed) == 0:
        return np.arange(n)
    return np.random.default_rng(int(order_seed)).permutation(n)


# -- another model along the same path --------------------------------------------------------

def forced_trace(model, X, trace: Trace) -> Trace:
    """`model`'s policy at every state of `trace`'s path (teacher forcing on its choices).

    The result has the same order and choices as `trace`, so its options line up with
    `trace`'s option for option; probabilities, log-flows, flow-in and log q are `model`'s.
    """
    Xt = model.points_tensor(X)
    order = np.asarray(trace.order, dtype=np.int64)
    labels = torch.as_tensor(np.asarray(trace.choice, dtype=np.int64))[None]
    res = run_policy(model.net, Xt[order], Forced(labels), record=True)
    return trace_from_run(model.kind, order.copy(), np.asarray(trace.choice, dtype=np.int64).copy(), res)


def policy_gap(a: Trace, b: Trace) -> np.ndarray:
    """(N,) largest |p_a - p_b| over the options at every step. The traces must share a path
    (one made with `forced_trace` on the other)."""
    if not np.array_equal(a.order, b.order) or not np.array_equal(a.choice, b.choice):
        raise ValueError("policy_gap needs two traces on the same path (use forced_trace).")
    return np.array([float(np.max(np.abs(pa - pb))) for pa, pb in zip(a.probs, b.probs)])


def preferred_options(trace: Trace) -> np.ndarray:
    """(N,) the option with the highest probability at every step (what greedy would pick)."""
    return np.array([int(np.argmax(p)) for p in trace.probs])


# -- plain data, JSON, CSV ------------------------------------------------------------------

def _num(x: float):
    """JSON has no inf / nan: write them as strings."""
    x = float(x)
    return x if np.isfinite(x) else str(x)


def trace_to_dict(trace: Trace, meta: dict | None = None) -> dict:
    """Everything in a Trace as JSON-able plain data (plus optional metadata)."""
    log_in, log_out = flow_check(trace)
    steps = []
    for row, fin, fout in zip(trace.to_rows(), log_in, log_out):
        row = dict(row)
        row["log_flows"] = [_num(v) for v in row["log_flows"]]
        row["log_q"] = _num(row["log_q"])
        row["chosen_option"] = row["options"][row["choice"]]
        row["p_chosen"] = row["probabilities"][row["choice"]]
        row["log_flow_in"] = _num(fin)
        row["log_flow_out"] = _num(fout)
        steps.append(row)
    return {"format": "gfncp-trace/1", "kind": trace.kind, "n_points": int(trace.n_steps),
            "log_root": _num(trace.log_root), "order": [int(i) for i in trace.order],
            "final_labels": [int(k) for k in trace.labels], "meta": dict(meta or {}), "steps": steps}


def trace_from_dict(d: dict) -> Trace:
    """Inverse of trace_to_dict."""
    steps = d["steps"]
    return Trace(
        kind=d["kind"],
        order=np.array([s["point"] for s in steps], dtype=np.int64),
        choice=np.array([s["choice"] for s in steps], dtype=np.int64),
        probs=[np.array(s["probabilities"], dtype=np.float64) for s in steps],
        log_flows=[np.array([float(v) for v in s["log_flows"]], dtype=np.float64) for s in steps],
        log_flow_in=np.array([float(s["log_flow_in"]) for s in steps], dtype=np.float64),
        log_q=np.array([float(s["log_q"]) for s in steps], dtype=np.float64),
        log_root=float(d["log_root"]),
    )


def trace_json_bytes(trace: Trace, meta: dict | None = None) -> bytes:
    return (json.dumps(trace_to_dict(trace, meta), indent=1) + "\n").encode("utf-8")


CSV_COLUMNS = ["step", "point", "n_options", "options", "probabilities", "log_flows", "choice",
               "chosen_option", "p_chosen", "log_flow_in", "log_flow_out", "log_q"]


def trace_csv_bytes(trace: Trace) -> bytes:
    """One row per step; list-valued columns are ';'-separated."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for s in trace_to_dict(trace)["steps"]:
        w.writerow([s["step"], s["point"], s["n_options"], ";".join(s["options"]),
                    ";".join(f"{p:.6g}" for p in s["probabilities"]),
                    ";".join(f"{v:.6g}" if isinstance(v, float) else v for v in s["log_flows"]),
                    s["choice"], s["chosen_option"], f"{s['p_chosen']:.6g}",
                    _fmt(s["log_flow_in"]), _fmt(s["log_flow_out"]), _fmt(s["log_q"])])
    return buf.getvalue().encode("utf-8")


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)
