"""Argument checks shared by the data generators: a bad argument is a ValueError that names it."""
from __future__ import annotations

import math
import numbers


def check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float(name: str, value, strictly_positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (strictly_positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if strictly_positive else '>= 0'}, got {value}")
    return float(value)
