"""Plotly animation frames in wire form: compact typed arrays, attached without re-validation.

A step-through figure carries one frame per step (hundreds). plotly.py would validate every
property of every frame and re-encode every array when the figure is serialised, which takes
seconds; the frames built here are already valid plain dicts in plotly.js's wire form.
"""
from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go


def typed_array(values) -> dict | list:
    """A numeric array as plotly.js's typed-array spec {"dtype", "bdata"} (what plotly.py
    sends for numpy arrays): compact, and already in wire form so that serialising a
    figure with hundreds of frames does not re-encode every frame."""
    a = np.asarray(values)
    if a.dtype.kind in "iub":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        a = a.astype(np.int8 if -128 <= lo and hi <= 127 else np.int16 if -32768 <= lo and hi <= 32767 else np.int32)
    elif a.dtype.kind == "f":
        a = a.astype(np.float64)
    else:
        return a.tolist()
    return {"dtype": {"int8": "i1", "int16": "i2", "int32": "i4", "float64": "f8"}[str(a.dtype)],
            "bdata": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")}


def encode(obj):
    """numpy arrays -> typed-array specs, recursively; numpy scalars -> Python numbers."""
    if isinstance(obj, np.ndarray):
        return typed_array(obj)
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def attach_frames(fig: go.Figure, frames: list[dict]) -> None:
    """Attach plain-dict frames without plotly's per-property validation (seconds for a few
    hundred frames; the dicts come from animation_frames and are valid: see the tests).
    Falls back to the validating setter if plotly's internals change."""
    try:
        objs = [go.Frame(f, _validate=False) for f in frames]
        current = getattr(fig, "_frame_objs", None)
        if not isinstance(current, (list, tuple)):
            raise AttributeError("_frame_objs")
        fig._frame_objs = type(current)(objs)
    except (AttributeError, TypeError, ValueError):
        fig.frames = [go.Frame(f) for f in frames]
