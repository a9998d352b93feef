"""What the JAX, Flax and Keras integrations share, without importing any of them:
what a scheme name means there, shape checks, and rules that pick a scheme by path.
"""
from __future__ import annotations

import fnmatch
import math
import operator
from typing import Any, NamedTuple, Sequence

import numpy as np

from . import _dtypes, _params, schemes

# JAX's and Keras' glorot_normal, he_normal and lecun_normal draw a normal cut at +-2
# sigma' with sigma' = sigma / 0.8796...; fastinit's own default is PyTorch's untruncated
# form. In the integrations a name means what it means in the framework.
TRUNCATED_THERE = ("glorot_normal", "he_normal", "lecun_normal")


def framework_params(scheme: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with truncated=True for the schemes that JAX and Keras truncate, unless
    the caller says otherwise."""
    if schemes.lookup(scheme).name in TRUNCATED_THERE and "truncated" not in params:
        return {**params, "truncated": True}
    return params


# The plain schemes as initializers there. fastinit's own defaults are jax.random's and
# NumPy's (std 1, U[0, 1)), which fastinit.jax.sample keeps; but jax.nn.initializers.normal()
# has stddev 0.01 and Keras' "normal" (RandomNormal) 0.05, and an initializer that stands in
# for one must draw what it replaces. The caller's own parameters win.
INITIALIZER_DEFAULTS = {
    "jax": {"normal": {"std": 0.01}, "uniform": {"high": 0.01},
            "truncated_normal": {"std": 0.01}},
    "keras": {"normal": {"std": 0.05}, "uniform": {"low": -0.05, "high": 0.05},
              "truncated_normal": {"std": 0.05}},
}


def initializer_params(framework: str, scheme: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with the framework's initializer defaults for the parameters not given."""
    return {**INITIALIZER_DEFAULTS[framework].get(schemes.lookup(scheme).name, {}), **params}


def is_fan_scheme(scheme: str) -> bool:
    """Whether the scheme's scale comes from the fans of the tensor's shape."""
    return "fan_in" in schemes.lookup(scheme).defaults


def require_seed(seed: Any) -> Any:
    """seed, refused if None: fastinit.fill would take the default generator's seed, and
    an initializer that a model stores must give the same values every time."""
    if seed is None:
        raise TypeError("seed= must be an int in [0, 2**64), so that the values can be "
                        "made again")
    return seed


def int_list(value: Any, what: str) -> list[int]:
    """An int or a sequence of ints as a list of Python ints, or a TypeError naming `what`."""
    items = list(value) if isinstance(value, (tuple, list)) or hasattr(value, "__array__") \
        else [value]
    try:
        if any(isinstance(n, bool) for n in items):
            raise TypeError
        return [operator.index(n) for n in items]
    except TypeError:
        raise TypeError(f"{what} must be an int or a tuple of ints, got {value!r}") from None


def check_shape(shape: Any) -> tuple[int, ...]:
    """shape as a tuple of ints >= 0 (an int is a 1-D shape), or an error naming it."""
    return _params.shape(tuple(shape) if isinstance(shape, Sequence) else shape)


def aligned_empty(shape: tuple[int, ...], dtype: Any, align: int = 64) -> np.ndarray:
    """np.empty(shape, dtype) for a dtype fastinit writes, with the data on a 64-byte
    boundary: JAX's CPU backend (and Keras' jax backend) then uses the memory as it is
    instead of copying it."""
    dtype = _dtypes.lookup(dtype).numpy()
    raw = np.empty(math.prod(shape) * dtype.itemsize + align, np.uint8)
    start = -raw.ctypes.data % align
    return raw[start:start + math.prod(shape) * dtype.itemsize].view(dtype).reshape(shape)


class Rule(NamedTuple):
    """Leaves whose path matches `pattern` get `scheme` with `params`; scheme None keeps
    the leaf as it is."""
    pattern: str
    scheme: str | None
    params: dict


def parse_rules(rules: Any, framework: str) -> list[Rule]:
    """Rules as (pattern, spec) pairs, in order, from a dict or a sequence of pairs.

    A spec is a scheme name, a (scheme name, params dict) pair, or None (keep the
    leaf). Scheme names are checked here, so that a typo fails before anything is filled;
    a rule's scheme is an initializer of `framework` ("jax" or "keras"), with its defaults.
    """
    if rules is None:
        return []
    pairs = list(rules.items()) if isinstance(rules, dict) else list(rules)
    parsed = []
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not isinstance(pair[0], str):
            raise TypeError(f"rules must be a dict {{pattern: spec}} or a sequence of "
                            f"(pattern, spec) pairs, pattern a str; got the entry {pair!r}")
        pattern, spec = pair
        if spec is None:
            parsed.append(Rule(pattern, None, {}))
            continue
        scheme, params = (spec, {}) if isinstance(spec, str) else _scheme_and_params(spec)
        schemes.lookup(scheme)
        parsed.append(Rule(pattern, scheme, initializer_params(framework, scheme, params)))
    return parsed


def _scheme_and_params(spec):
    if (isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str)
            and isinstance(spec[1], dict)):
        return spec
    raise TypeError(f"a rule's spec is a scheme name, a (scheme name, params dict) pair, or "
                    f"None to keep the leaf; got {spec!r}")


def first_match(rules: list[Rule], path: str) -> Rule | None:
    """The first rule whose glob pattern matches the whole path (`*` crosses '/')."""
    for rule in rules:
        if fnmatch.fnmatchcase(path, rule.pattern):
            return rule
    return None


def unmatched_error(paths: list[str], rules: list[Rule]) -> ValueError:
    """The error for leaves that no rule covers, naming them and the fix."""
    shown = ", ".join(repr(p) for p in paths[:10]) + (" ..." if len(paths) > 10 else "")
    patterns = ", ".join(repr(r.pattern) for r in rules) or "none"
    return ValueError(f"no rule matches {len(paths)} path(s): {shown} (rule patterns: "
                      f"{patterns}). Add a rule for them, e.g. ('*/bias', 'zeros'), or "
                      f"('*', None) last to keep leaves no other rule matches.")
