"""The orthogonal scheme: QR of a fastinit normal draw (Saxe et al. 2014).

Unlike the other schemes it cannot be written element by element: Q depends on
the whole draw. So the whole (logical) tensor is computed in float64, and a
region fill copies its box out of it. That costs a float64 workspace a few
times the size of the whole tensor, and each shard of a sharded fill computes
the whole Q.
"""
import math

import numpy as np

from . import _dtypes, _engine


def matrix_shape(shape, layout):
    """The (rows, cols) matrix that a tensor of this shape is seen as."""
    if layout == "torch":  # (out, in, *receptive): rows are output units
        return shape[0], math.prod(shape[1:])
    return math.prod(shape[:-1]), shape[-1]  # keras (*receptive, in, out): columns are


def orthogonal(shape, layout, gain, seed, stream, threads):
    """gain * Q for a tensor of `shape`, as a float64 array of that shape.

    The draw is the stream's float64 normal(0, 1) values of a logical
    (max(rows, cols), min(rows, cols)) matrix, so that Q has orthonormal columns;
    it is transposed back when the tensor is wider than tall.
    """
    rows, cols = matrix_shape(shape, layout)
    tall = (max(rows, cols), min(rows, cols))
    draw = np.empty(tall, np.float64)
    if draw.size:
        _engine.fill_buffer(draw, _dtypes.FLOAT64.code, "normal", 0.0, 1.0, 0.0, seed, stream,
                            tall, (0, 0), threads)
    q, r = np.linalg.qr(draw)
    # Without this, Q is biased by LAPACK's sign convention; with it, Q is Haar
    # distributed (Mezzadri 2007). A zero on R's diagonal keeps its column as is.
    signs = np.sign(np.diagonal(r))
    q *= np.where(signs == 0, 1.0, signs)
    if rows < cols:
        q = q.T
    q *= gain
    return q.reshape(shape)
