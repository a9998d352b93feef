"""The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain gives it.

A gain multiplies the std (or bound) of a fan scheme so that the signal keeps
its size through a layer followed by that nonlinearity.
"""
from __future__ import annotations

import math
import numbers

_LINEAR = ("linear", "identity", "conv1d", "conv2d", "conv3d",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")
NONLINEARITIES = _LINEAR + ("tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for `nonlinearity`.

    ============================ =====================================
    nonlinearity                 gain
    ============================ =====================================
    linear, identity, conv*d,    1
    conv_transpose*d, sigmoid
    tanh                         5/3
    relu                         sqrt(2)
    leaky_relu                   sqrt(2 / (1 + negative_slope**2)),
                                 negative_slope = param, default 0.01
    selu                         3/4
    ============================ =====================================

    Like PyTorch, `param` is read by leaky_relu only (so that
    ``calculate_gain("relu", 0)`` works as in ``kaiming_*(a=0)``).

    >>> calculate_gain("relu")
    1.4142135623730951
    """
    if not isinstance(nonlinearity, str) or nonlinearity.lower() not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; "
                         f"known: {', '.join(NONLINEARITIES)}")
    name = nonlinearity.lower()
    if name in _LINEAR:
        return 1.0
    if name == "tanh":
        return 5.0 / 3
    if name == "relu":
        return math.sqrt(2.0)
    if name == "selu":
        return 3.0 / 4
    slope = 0.01 if param is None else param
    if isinstance(slope, bool) or not isinstance(slope, numbers.Real) or not math.isfinite(slope):
        raise ValueError(f"leaky_relu's param is its negative slope, a finite number; "
                         f"got {param!r}")
    return math.sqrt(2.0 / (1 + slope ** 2))
