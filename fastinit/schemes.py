"""The initialisation schemes, by name (case-insensitive; aliases are names too).

A scheme turns its parameters, and for the fan schemes the shape of the whole
tensor, into a `Plan`: one of the engine's distributions (uniform, normal,
truncated normal) with its parameters rounded to the array's dtype, a
constant, or an orthogonal matrix.

Each fan scheme's scale is computed in float64 exactly as written in its
docstring (same operations, same order), then rounded once to the dtype, so
that anyone can recompute it from the shape.
"""
import difflib
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, NamedTuple, Tuple

from . import _dtypes, _engine, _params
from .fans import check_layout, compute_fans

# The std of a standard normal truncated to [-2, 2]: dividing by it keeps the
# variance of a truncated draw what the scheme's formula says (Keras, JAX).
TRUNCATED_STD = 0.87962566103423978
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
# variance_scaling's distribution= is the name of the engine's kind it draws.
DISTRIBUTIONS = tuple(_engine.KINDS)
REQUIRED = object()  # default of a parameter the caller must give


class Plan(NamedTuple):
    """What to write: kind, one of KINDS, and its args. The engine's kinds take three
    numbers already in the dtype: "uniform" (mid, half, 0), "normal" (mean, std, 0),
    "truncated_normal" (mean, std, bound); "constant" (value,); "orthogonal" (layout,
    gain)."""
    kind: str
    args: tuple


# Every kind of Plan: the engine's distributions (_engine.KINDS), which the C core
# writes, and two that _fill writes itself.
KINDS = (*_engine.KINDS, "constant", "orthogonal")


@dataclass(frozen=True)
class Scheme:
    name: str
    defaults: Dict[str, object]   # every parameter the scheme takes, with its default
    plan: Callable                # (params, dtype, shape) -> Plan
    doc: str
    aliases: Tuple[str, ...] = field(default=())


SCHEMES: Dict[str, Scheme] = {}
ALIASES: Dict[str, str] = {}


def _register(name, defaults, doc, aliases=()):
    def wrap(plan):
        SCHEMES[name] = Scheme(name, defaults, plan, doc, tuple(aliases))
        for alias in aliases:
            ALIASES[alias] = name
        return plan
    return wrap


# ---- distributions of the engine, as they are ---------------------------------

def _uniform_plan(low, high, dtype):
    return Plan("uniform", _params.uniform(low, high, dtype) + (0.0,))


def _normal_plan(std, dtype, truncated=False, mean=0.0):
    if truncated:  # the Keras/JAX form: +-2 sigma', sigma' = sigma / TRUNCATED_STD
        return Plan("truncated_normal", _params.truncated_normal(mean, std / TRUNCATED_STD, 2.0,
                                                                 dtype))
    return Plan("normal", _params.normal(mean, std, dtype) + (0.0,))


@_register("uniform", {"low": 0.0, "high": 1.0},
           "U(low, high): every value in [low, high] equally likely.")
def _uniform(p, dtype, shape):
    return _uniform_plan(_params.finite("low", p["low"]), _params.finite("high", p["high"]),
                         dtype)


@_register("normal", {"mean": 0.0, "std": 1.0}, "N(mean, std**2), by Box-Muller.")
def _normal(p, dtype, shape):
    return _normal_plan(_params.positive("std", p["std"]), dtype,
                        mean=_params.finite("mean", p["mean"]))


@_register("truncated_normal", {"mean": 0.0, "std": 1.0, "bound": 2.0},
           "N(mean, std**2) restricted to mean +- bound*std (inverse CDF, no rejection). "
           "std is that of the normal before truncation.", aliases=("trunc_normal",))
def _truncated_normal(p, dtype, shape):
    return Plan("truncated_normal", _params.truncated_normal(
        _params.finite("mean", p["mean"]), _params.positive("std", p["std"]),
        _params.positive("bound", p["bound"]), dtype))


# ---- constants: no random draws -------------------------------------------------

_SYMMETRY = ("Every unit of a layer filled with one constant computes the same output and "
             "gets the same gradient, so they stay identical and the layer learns no more "
             "than one unit would: the symmetry problem. Use constants for biases and "
             "normalisation scales, never for the weights of a layer.")


@_register("zeros", {}, "All 0. " + _SYMMETRY)
def _zeros(p, dtype, shape):
    return Plan("constant", (0.0,))


@_register("ones", {}, "All 1. " + _SYMMETRY)
def _ones(p, dtype, shape):
    return Plan("constant", (1.0,))


@_register("constant", {"value": REQUIRED}, "All `value`. " + _SYMMETRY)
def _constant(p, dtype, shape):
    return Plan("constant", (_params.constant(p["value"], dtype),))


# ---- fan schemes ------------------------------------------------------------------

FAN_PARAMS = {"gain": 1.0, "fan_in": None, "fan_out": None, "layout": "keras"}


def _fans(p, shape):
    """(fan_in, fan_out, gain): from the shape unless given; a zero-size tensor's fans
    count as 1 (nothing is written, but the parameters are still checked)."""
    fan_in, fan_out = compute_fans(shape, p["layout"])
    fan_in = max(fan_in, 1) if p["fan_in"] is None else _params.fan("fan_in", p["fan_in"])
    fan_out = max(fan_out, 1) if p["fan_out"] is None else _params.fan("fan_out", p["fan_out"])
    return fan_in, fan_out, _params.positive("gain", p["gain"])


def _fan_of_mode(mode, fan_in, fan_out):
    mode = _params.choice("mode", mode, MODES)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    return math.sqrt(fan_in * fan_out)


@_register("fan_in_uniform", FAN_PARAMS,
           "U(-b, b), b = gain / sqrt(fan_in): PyTorch's default for Linear and Conv "
           "weights and biases (kaiming_uniform_ with a=sqrt(5)).")
def _fan_in_uniform(p, dtype, shape):
    fan_in, _, gain = _fans(p, shape)
    b = gain / math.sqrt(fan_in)
    return _uniform_plan(-b, b, dtype)


@_register("glorot_uniform", FAN_PARAMS,
           "U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010); "
           "for tanh and sigmoid layers.", aliases=("xavier_uniform",))
def _glorot_uniform(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    b = gain * math.sqrt(6 / (fan_in + fan_out))
    return _uniform_plan(-b, b, dtype)


@_register("glorot_normal", {**FAN_PARAMS, "truncated": False},
           "N(0, s**2), s = gain * sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio 2010: "
           "variance 2/(fan_in+fan_out), not 1/(fan_in+fan_out)); for tanh and sigmoid. "
           "truncated=True: Keras' form, +-2 s' with s' = s / 0.8796...",
           aliases=("xavier_normal",))
def _glorot_normal(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    s = gain * math.sqrt(2 / (fan_in + fan_out))
    return _normal_plan(s, dtype, _params.flag("truncated", p["truncated"]))


@_register("he_uniform", {**FAN_PARAMS, "mode": "fan_in"},
           "U(-b, b), b = gain * sqrt(6 / fan) (He et al. 2015), fan = fan_in by default "
           "(mode: fan_in, fan_out, fan_avg, fan_geo_avg); for ReLU and leaky ReLU.",
           aliases=("kaiming_uniform",))
def _he_uniform(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    b = gain * math.sqrt(6 / _fan_of_mode(p["mode"], fan_in, fan_out))
    return _uniform_plan(-b, b, dtype)


@_register("he_normal", {**FAN_PARAMS, "mode": "fan_in", "truncated": False},
           "N(0, s**2), s = gain * sqrt(2 / fan) (He et al. 2015), fan = fan_in by default; "
           "for ReLU and leaky ReLU. truncated=True: +-2 s' with s' = s / 0.8796...",
           aliases=("kaiming_normal",))
def _he_normal(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    s = gain * math.sqrt(2 / _fan_of_mode(p["mode"], fan_in, fan_out))
    return _normal_plan(s, dtype, _params.flag("truncated", p["truncated"]))


@_register("lecun_uniform", {**FAN_PARAMS, "mode": "fan_in"},
           "U(-b, b), b = gain * sqrt(3 / fan) (LeCun et al. 1998), fan = fan_in by "
           "default; for SELU.")
def _lecun_uniform(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    b = gain * math.sqrt(3 / _fan_of_mode(p["mode"], fan_in, fan_out))
    return _uniform_plan(-b, b, dtype)


@_register("lecun_normal", {**FAN_PARAMS, "mode": "fan_in", "truncated": False},
           "N(0, s**2), s = gain * sqrt(1 / fan) (LeCun et al. 1998), fan = fan_in by "
           "default; for SELU. truncated=True: +-2 s' with s' = s / 0.8796...")
def _lecun_normal(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    s = gain * math.sqrt(1 / _fan_of_mode(p["mode"], fan_in, fan_out))
    return _normal_plan(s, dtype, _params.flag("truncated", p["truncated"]))


@_register("variance_scaling",
           {**FAN_PARAMS, "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
           "Variance scale / fan, the general form of every fan scheme (Keras, JAX). "
           "mode: fan_in, fan_out, fan_avg = (fan_in + fan_out) / 2, fan_geo_avg = "
           "sqrt(fan_in * fan_out). distribution: 'uniform' U(-b, b), b = gain * "
           "sqrt(3 * scale / fan); 'normal' N(0, s**2), s = gain * sqrt(scale / fan) "
           "(untruncated, as JAX's 'normal'); 'truncated_normal' (default) +-2 s' with "
           "s' = gain * sqrt(scale / fan) / 0.8796...")
def _variance_scaling(p, dtype, shape):
    fan_in, fan_out, gain = _fans(p, shape)
    scale = _params.positive("scale", p["scale"])
    fan = _fan_of_mode(p["mode"], fan_in, fan_out)
    distribution = _params.choice("distribution", p["distribution"], DISTRIBUTIONS)
    if distribution == "uniform":
        b = gain * math.sqrt(3 * scale / fan)
        return _uniform_plan(-b, b, dtype)
    s = gain * math.sqrt(scale / fan)
    return _normal_plan(s, dtype, truncated=distribution == "truncated_normal")


@_register("orthogonal", {"gain": 1.0, "layout": "keras"},
           "gain * Q, Q from the QR decomposition of a fastinit normal draw with the signs "
           "of R's diagonal moved into Q (Saxe et al. 2014; Mezzadri 2007), so Q is "
           "uniformly distributed. The tensor is seen as a matrix (prod(shape[:-1]), "
           "shape[-1]) in the keras layout, (shape[0], prod(shape[1:])) in the torch layout, "
           "whose rows or columns, whichever are fewer, are orthonormal. For deep and "
           "recurrent networks. The draw is exact; the QR is NumPy's LAPACK, so the last bits "
           "can differ between NumPy builds.")
def _orthogonal(p, dtype, shape):
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a tensor of rank 2 or more; got shape {tuple(shape)}")
    gain = _params.scale("gain", _params.positive("gain", p["gain"]), dtype)
    return Plan("orthogonal", (check_layout(p["layout"]), gain))


# ---- lookup -----------------------------------------------------------------------

def names() -> list[str]:
    """Every scheme name and alias."""
    return sorted(set(SCHEMES) | set(ALIASES))


def lookup(name: str) -> Scheme:
    """The scheme called `name` (case-insensitive, aliases allowed)."""
    if not isinstance(name, str):
        raise TypeError(f"scheme must be a name (str), got {type(name).__name__}")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    try:
        return SCHEMES[key]
    except KeyError:
        close = difflib.get_close_matches(key, names(), n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown scheme {name!r}.{hint} Known schemes: "
                         f"{', '.join(names())}") from None


def resolve_params(scheme: Scheme, given: dict) -> dict:
    """The scheme's defaults overridden by `given`; unknown or missing names are a TypeError."""
    unknown = sorted(set(given) - set(scheme.defaults))
    if unknown:
        takes = ", ".join(scheme.defaults) or "no parameters"
        raise TypeError(f"scheme {scheme.name!r} does not take {', '.join(unknown)}; "
                        f"it takes: {takes}")
    params = {**scheme.defaults, **given}
    missing = [k for k, v in params.items() if v is REQUIRED]
    if missing:
        raise TypeError(f"scheme {scheme.name!r} needs {', '.join(f'{k}=' for k in missing)}")
    return params


def plan(scheme, params, dtype, shape) -> Plan:
    """What `scheme` with `params` writes into a tensor of `shape` and `dtype`.

    Parameters whose values the dtype cannot hold (a scale that rounds to 0 there, or
    values past its largest finite value: _params, "what the dtype can hold") are a
    ScaleError (a ValueError) that names the arguments that made it so.
    """
    chosen = lookup(scheme)
    try:
        return chosen.plan(resolve_params(chosen, params), dtype, tuple(shape))
    except _params.ScaleError as error:
        raise _params.ScaleError(f"{chosen.name}: {error}; {_cause(chosen, params, dtype, shape)}"
                                 ) from None


def _cause(scheme, params, dtype, shape):
    """Which of the arguments the caller gave made the plan fail: each that, put back
    to its default alone, lets it pass (one without a default counts as such); all of
    them if none does."""
    def passes(changed):
        try:
            scheme.plan(resolve_params(scheme, changed), dtype, tuple(shape))
        except (TypeError, ValueError):
            return False
        return True

    def text(names):
        return ", ".join(f"{k}={_params.number_text(v) if type(v) is int else repr(v)}"
                         for k, v in ((k, params[k]) for k in names))
    culprits = [k for k in params if scheme.defaults[k] is REQUIRED
                or passes({**params, k: scheme.defaults[k]})] or list(params)
    wider = "" if _dtypes.lookup(dtype).name == "float64" else ", or fill a float64 array"
    if not culprits:
        return f"from the fans of the shape {tuple(shape)}{wider}"
    return f"from {text(culprits)}: change {'it' if len(culprits) == 1 else 'them'}{wider}"
