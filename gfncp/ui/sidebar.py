"""The sidebar every page shows: the current data set, the model pair that serves it, and a
choice of pair when more than one fits.

`render_sidebar()` is called once per run by app.py. The card helpers (`card_summary`,
`card_metrics`, `model_table_rows`) are plain functions, also used by the About page.
"""
from __future__ import annotations

import math

import streamlit as st

from .. import routing
from ..registry import list_pretrained, read_card
from .state import current_pair, get_dataset

PAIR_TITLES = {
    "mog2d": "2-D Gaussian mixtures",
    "mog16d": "16-D Gaussian mixtures (other dimensions are padded or projected)",
    "digits": "8x8 digits (64-D pixels)",
    "general": "real tables, any units (broad prior)",
}
OBJECTIVES = {
    "clean": "flow matching + likelihood",
    "paper": "published GFNCP objective (flow matching + contrastive divergence)",
    "nll": "teacher-forced likelihood",
}
SOURCES = {"generated": "generated from the CRP prior", "digits": "scikit-learn digits", "upload": "uploaded file",
           "real": "bundled real data set"}


def _num(x) -> str:
    """Compact number without trailing zeros: 1.0 -> '1', 0.70 -> '0.7'."""
    try:
        return f"{float(x):g}"
    except (TypeError, ValueError):
        return str(x)


def training_data_short(card: dict) -> str:
    """One short phrase for the card's training data."""
    t = card.get("training") or {}
    if t.get("dataset") == "digits":
        return (f"digits tasks from the train split, K ≤ {t.get('k_max', 10)}, "
                f"N {t.get('n_min', '?')}–{t.get('n_max', '?')}")
    if t:
        return (f"CRP(α={_num(t.get('alpha', '?'))}) Gaussian mixtures in {t.get('dim', card.get('dim', '?'))}-D, "
                f"σ={_num(t.get('sigma', '?'))}, λ={_num(t.get('lam', '?'))}, "
                f"N {t.get('n_min', '?')}–{t.get('n_max', '?')}")
    return str(card.get("training_data", "unknown training data"))


def training_data_brief(card: dict) -> str:
    """A few words for a table cell: which data, which set sizes."""
    t = card.get("training") or {}
    sizes = f"N {t.get('n_min', '?')}–{t.get('n_max', '?')}"
    if t.get("dataset") == "digits":
        return f"digits, train split; {sizes}"
    if t:
        return f"{t.get('dim', card.get('dim', '?'))}-D CRP Gaussian mixtures; {sizes}"
    return str(card.get("training_data", "?"))[:60]


def card_summary(card: dict) -> str:
    """One line: objective and training data."""
    objective = OBJECTIVES.get(card.get("objective"), str(card.get("objective", "?")))
    return f"{objective}; trained on {training_data_short(card)}"


def _get(d, *path):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _finite(x) -> float | None:
    if isinstance(x, dict):
        x = x.get("mean", x.get("median"))
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def card_metrics(card: dict) -> dict[str, float]:
    """The evaluation numbers a card holds (only those present): NMI / ARI of greedy
    clustering on held-out sets, std of log q across input orders, validation NMI."""
    ev = card.get("evaluation") or {}
    found = {
        "NMI": _finite(_get(ev, "accuracy", "nmi")),
        "ARI": _finite(_get(ev, "accuracy", "ari")),
        "std log q over orders": _finite(_get(ev, "order_invariance_std_log_q", "median")
                                         or _get(ev, "order_invariance_std_log_q")),
        "validation NMI": _finite(card.get("final_validation_nmi")),
    }
    return {k: v for k, v in found.items() if v is not None}


METRIC_COLUMNS = ("NMI", "ARI", "std log q over orders", "validation NMI")


def _model_order(name: str) -> tuple:
    kind, _, pair = name.partition("-")
    pairs = list(routing.PAIRS)
    return (pairs.index(pair) if pair in pairs else len(pairs), pair, kind != "gfncp", name)


def model_table_rows(names: list[str] | None = None) -> list[dict]:
    """One row per installed model for the About page's table (pairs together, GFNCP first):
    name, kind, objective, training data, parameters, training minutes and one column per
    evaluation number (None where a card lacks it; columns no card has are left out)."""
    rows = []
    for name in sorted(names if names is not None else list_pretrained(), key=_model_order):
        try:
            card = read_card(name)
        except (KeyError, OSError, ValueError):
            continue
        metrics = card_metrics(card)
        seconds = _finite(card.get("training_seconds"))
        rows.append({
            "model": name,
            "kind": str(card.get("kind", "?")).upper(),
            "objective": OBJECTIVES.get(card.get("objective"), str(card.get("objective", "?"))),
            "training data": training_data_brief(card),
            "parameters": card.get("n_parameters"),
            "training (min)": None if seconds is None else seconds / 60.0,
            **{k: metrics.get(k) for k in METRIC_COLUMNS},
        })
    # evaluation columns no model has are left out
    empty = [k for k in METRIC_COLUMNS if all(r[k] is None for r in rows)]
    return [{k: v for k, v in r.items() if k not in empty} for r in rows]


def _pair_label(pair: str) -> str:
    return f"{pair} — {PAIR_TITLES.get(pair, pair)}"


def render_sidebar() -> None:
    """Current data set, serving models and the pair override, in st.sidebar."""
    ds = get_dataset()
    sb = st.sidebar
    sb.markdown("#### Current data set")
    sb.markdown(f"**{ds.name}**")
    facts = [f"N = **{ds.n}** points", f"dimension **{ds.dim}**"]
    facts.append(f"true K = **{ds.true_k}**" if ds.true_k is not None else "true K unknown")
    sb.caption(" · ".join(facts) + f"  \nsource: {SOURCES.get(ds.source, ds.source)}")

    sb.markdown("#### Models")
    options = routing.fitting_pairs(ds.dim, ds.source)
    if len(options) > 1:
        sb.selectbox("Model pair", options, key="pair_override", format_func=_pair_label,
                     help="Every pair that can take a set of this dimension; the first is the default.")
    pair = current_pair(ds)
    sb.caption(f"Serving this set: the {routing.why_pair(pair, ds.source)}.")
    available = set(list_pretrained())
    missing = [name for name in routing.pair_names(pair) if name not in available]
    for name in routing.pair_names(pair):
        if name in missing:
            continue
        try:
            card = read_card(name)
        except (KeyError, OSError, ValueError):
            missing.append(name)
            continue
        sb.markdown(f"**{name}**")
        sb.caption(card_summary(card))
    if missing:
        sb.warning(f"Model(s) {', '.join(missing)} not installed: put the checkpoints in "
                   "`assets/models/` (or point `GFNCP_MODELS_DIR` at them). The Data and About "
                   "pages work without them.", icon=":material/warning:")
    elif ds.dim not in (routing.PAIRS[pair],) or pair == routing.GENERAL:
        how = "zero-padded" if ds.dim < routing.PAIRS[pair] else "projected onto its first principal axes"
        if ds.dim == routing.PAIRS[pair]:
            how = "kept at its dimension"
        standardised = "standardised per feature, then " if pair == routing.GENERAL else ""
        sb.caption(f"The {ds.dim}-D set is {standardised}{how} to {routing.PAIRS[pair]}-D for these models.")
