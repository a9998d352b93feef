"""The activations that propagate() puts between layers and that audit() judges
schemes against: each one's function, its derivative, and the fan scheme that
suits it.

The functions keep their input's dtype (float32 in, float32 out), as a
framework's would.
"""
import math

import numpy as np

LEAKY_SLOPE = 0.01  # PyTorch's default negative_slope
# SELU's constants (Klambauer et al. 2017), as PyTorch and JAX write them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _erf(x):
    """erf by Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, under float32's resolution
    near 1 (NumPy has no erf, and fastinit does not depend on SciPy)."""
    t = 1 / (1 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                                                      + t * (-1.453152027 + t * 1.061405429))))
    return np.copysign(1 - poly * np.exp(-x * x), x)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _gelu_cdf(z):
    return 0.5 * (1 + _erf(z * math.sqrt(0.5)))


# name: (f(z), f'(z)). GELU is the exact form x * Phi(x) (PyTorch's default), not the
# tanh approximation.
FUNCTIONS = {
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "leaky_relu": (lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
                   lambda z: np.where(z > 0, 1, LEAKY_SLOPE).astype(z.dtype)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "selu": (lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0))),
             lambda z: SELU_SCALE * np.where(z > 0, 1, SELU_ALPHA * np.exp(np.minimum(z, 0)))
             .astype(z.dtype)),
    "gelu": (lambda z: z * _gelu_cdf(z),
             lambda z: _gelu_cdf(z) + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)),
}
NAMES = tuple(FUNCTIONS)

# The family of fan schemes each activation wants: He doubles the variance to make up
# for the half of the signal that a rectifier zeroes; Glorot keeps it for functions close
# to the identity around 0; LeCun's 1/fan_in is what SELU's fixed point assumes.
SUITED = {"linear": "glorot", "tanh": "glorot", "sigmoid": "glorot",
          "relu": "he", "leaky_relu": "he", "gelu": "he", "selu": "lecun"}


def check(activation):
    """The activation's name, lower-cased, or a ValueError listing the choices."""
    if isinstance(activation, str) and activation.lower() in FUNCTIONS:
        return activation.lower()
    raise ValueError(f"activation must be one of {', '.join(NAMES)}; got {activation!r}")
