"""Scheme parameters: checked, then rounded to the target dtype as docs/stream.md says.

The C core takes each parameter already rounded once to float32 or float64
(the dtype that the array's dtype draws: float32 for bfloat16 and float16);
doing it here, in exact rational arithmetic, keeps the C side free of
double-rounding questions. `dtype` below is anything _dtypes.lookup takes.
"""
import math
import operator
from fractions import Fraction

import numpy as np

from . import _dtypes


def round_to(q, dtype):
    """The float nearest to the rational q (ties to even) in the dtype that dtype's
    parameters are rounded to (float32 or float64), as a Python float."""
    x = float(q)  # correctly rounded to float64
    if _dtypes.lookup(dtype).params == "float64":
        return x
    with np.errstate(over="ignore"):
        f = np.float32(x)
    if not np.isfinite(f) or Fraction(float(f)) == q:
        return float(f)
    # Rounding twice (to float64, then float32) can miss when q sits near the
    # midpoint of two float32s: pick the nearer neighbour of q exactly.
    if Fraction(float(f)) > q:
        lo, hi = np.nextafter(f, np.float32(-np.inf)), f
    else:
        lo, hi = f, np.nextafter(f, np.float32(np.inf))
    d_lo, d_hi = q - Fraction(float(lo)), Fraction(float(hi)) - q
    if d_lo != d_hi:
        return float(lo if d_lo < d_hi else hi)
    return float(lo if int(lo.view(np.uint32)) % 2 == 0 else hi)


def finite(name, value):
    """value as a finite Python float, or a TypeError/ValueError naming `name`."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def positive(name, value):
    """value as a float > 0 (NaN and infinities refused)."""
    v = finite(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


def fan(name, value):
    """A fan given by the user: an int >= 1."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a positive int, got a bool")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a positive int, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return n


def flag(name, value):
    """A True/False switch; anything else is refused rather than guessed."""
    if value is not True and value is not False:
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def choice(name, value, choices):
    """value (lower-cased) if it is one of `choices`, else a ValueError listing them."""
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def _fits(name, value, dtype):
    if not math.isfinite(value):
        raise ValueError(f"{name} = {value!r} overflows {_dtypes.lookup(dtype).params}; "
                         f"use smaller parameters or float64")
    return value


def constant(value, dtype):
    """value in dtype, refused if it is not a finite number there. A zero keeps its
    sign, as NumPy's np.full does (a Fraction has none)."""
    v = finite("value", value)
    return _fits("value", round_to(Fraction(v), dtype) if v != 0 else v, dtype)


def uniform(low, high, dtype):
    """(mid, half) of uniform(low, high) in dtype."""
    low, high = finite("low", low), finite("high", high)
    if not low <= high:
        raise ValueError(f"uniform needs low <= high, got low={low}, high={high}")
    mid = round_to((Fraction(low) + Fraction(high)) / 2, dtype)
    half = round_to((Fraction(high) - Fraction(low)) / 2, dtype)
    return _fits("(low + high) / 2", mid, dtype), _fits("(high - low) / 2", half, dtype)


def normal(mean, std, dtype):
    """(mean, std) of normal(mean, std) in dtype."""
    mean, std = finite("mean", mean), positive("std", std)
    rounded = _fits("std", round_to(Fraction(std), dtype), dtype)
    if rounded == 0:
        raise ValueError(f"std = {std!r} is 0 in {_dtypes.lookup(dtype).params}; use a larger "
                         f"std or float64")
    return _fits("mean", round_to(Fraction(mean), dtype), dtype), rounded


def truncated_normal(mean, std, bound, dtype):
    """(mean, std, bound) of the normal truncated at mean +- bound * std, in dtype."""
    mean, std = normal(mean, std, dtype)
    bound = _fits("bound", round_to(Fraction(positive("bound", bound)), dtype), dtype)
    return mean, std, bound
