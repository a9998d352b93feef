"""fan_in and fan_out of a weight tensor, read from its shape.

The two frameworks lay weights out differently, so the same numbers sit in
different places of the shape:

- ``layout="keras"`` (Keras, JAX, TensorFlow): ``(*receptive, in, out)``,
  e.g. a dense kernel ``(in, out)`` or a 2-D convolution ``(kh, kw, in, out)``.
- ``layout="torch"`` (PyTorch): ``(out, in, *receptive)``, e.g. ``Linear.weight``
  ``(out, in)`` or ``Conv2d.weight`` ``(out, in, kh, kw)``.

In both, fan_in = in * prod(receptive) and fan_out = out * prod(receptive). A
vector (rank 1, e.g. a bias) has fan_in = fan_out = its length; a scalar has 1.
"""
from __future__ import annotations

import math
from typing import Sequence, SupportsIndex

from . import _params

LAYOUTS = ("keras", "torch")


def check_layout(layout):
    """The layout name, lower-cased, or a ValueError listing the choices."""
    if not isinstance(layout, str) or layout.lower() not in LAYOUTS:
        raise ValueError(f"layout must be 'keras' ((*receptive, in, out): Keras, JAX) or "
                         f"'torch' ((out, in, *receptive): PyTorch), got {layout!r}")
    return layout.lower()


def compute_fans(shape: Sequence[SupportsIndex], layout: str = "keras") -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape in this layout.

    >>> compute_fans((3, 3, 64, 128))                  # Keras Conv2D kernel
    (576, 1152)
    >>> compute_fans((128, 64, 3, 3), layout="torch")  # PyTorch Conv2d weight
    (576, 1152)
    """
    layout = check_layout(layout)
    shape = _params.integers("shape", shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if layout == "keras":
        receptive = math.prod(shape[:-2])
        n_in, n_out = shape[-2], shape[-1]
    else:
        receptive = math.prod(shape[2:])
        n_out, n_in = shape[0], shape[1]
    return n_in * receptive, n_out * receptive
