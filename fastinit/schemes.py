"""The initialisation schemes, by name.

A scheme turns the user's parameters (and, for the fan-based schemes, the
tensor's shape) into one of the engine's distributions: uniform, normal or
truncated normal. Names are case-insensitive.
"""
import difflib
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

from . import _params


@dataclass(frozen=True)
class Scheme:
    name: str
    defaults: Dict[str, object]      # every parameter the scheme takes, with its default
    distribution: Callable            # (params, dtype, shape) -> (kind, a, b, c)
    doc: str = ""


def _uniform(p, dtype, shape):
    mid, half = _params.uniform(p["low"], p["high"], dtype)
    return "uniform", mid, half, 0.0


def _normal(p, dtype, shape):
    mean, std = _params.normal(p["mean"], p["std"], dtype)
    return "normal", mean, std, 0.0


def _truncated_normal(p, dtype, shape):
    return ("truncated_normal",) + _params.truncated_normal(p["mean"], p["std"], p["bound"], dtype)


SCHEMES: Dict[str, Scheme] = {}
ALIASES: Dict[str, str] = {}


def register(scheme: Scheme, aliases: Tuple[str, ...] = ()):
    SCHEMES[scheme.name] = scheme
    for alias in aliases:
        ALIASES[alias] = scheme.name


register(Scheme("uniform", {"low": 0.0, "high": 1.0}, _uniform,
                "U(low, high): every value in [low, high] equally likely."))
register(Scheme("normal", {"mean": 0.0, "std": 1.0}, _normal,
                "N(mean, std**2), by Box-Muller."))
register(Scheme("truncated_normal", {"mean": 0.0, "std": 1.0, "bound": 2.0}, _truncated_normal,
                "N(mean, std**2) restricted to mean +- bound*std (inverse CDF, no rejection)."))


def lookup(name) -> Scheme:
    """The scheme called `name` (case-insensitive, aliases allowed)."""
    if not isinstance(name, str):
        raise TypeError(f"scheme must be a name (str), got {type(name).__name__}")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    try:
        return SCHEMES[key]
    except KeyError:
        known = sorted(set(SCHEMES) | set(ALIASES))
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown scheme {name!r}.{hint} Known schemes: {', '.join(known)}") from None


def resolve_params(scheme: Scheme, given: dict) -> dict:
    """The scheme's defaults overridden by `given`; unknown names are a TypeError."""
    unknown = sorted(set(given) - set(scheme.defaults))
    if unknown:
        takes = ", ".join(scheme.defaults) or "no parameters"
        raise TypeError(f"scheme {scheme.name!r} does not take {', '.join(unknown)}; "
                        f"it takes: {takes}")
    params = dict(scheme.defaults)
    params.update(given)
    return params
