"""fastinit on Dask: lazy arrays of initial weights, the same bits for any chunking.

Every value of a fastinit stream is a function of its index alone (docs/stream.md,
"Regions"), so each block of a Dask array is filled on its own, by
`fastinit.fill` with the block's place in the whole tensor, and the array is
the same whatever the chunks, the workers or the cluster: unlike
`dask.array.random`, whose values change with the chunking.

    import fastinit.dask
    w = fastinit.dask.array((65536, 65536), "glorot_uniform", seed=0, chunks=(8192, 8192))
    w.to_zarr("weights.zarr")          # each worker fills and writes its own chunks

Needs ``pip install 'fastinit[dask]'`` (dask[array] and distributed); ``import
fastinit`` alone never imports Dask.
"""
from __future__ import annotations

import functools
import itertools
import operator
from typing import Any

import numpy as np
import numpy.typing as npt

try:
    import dask
    import dask.array as da
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError("fastinit.dask needs Dask: pip install 'fastinit[dask]' "
                      "(dask[array] and distributed)") from error

import fastinit

from ._typing import Seed, Shape, Stream

__all__ = ["array"]


def array(shape: Shape, scheme: str, *, seed: Seed, stream: Stream = 0, chunks: Any = "auto",
          dtype: npt.DTypeLike = "float32", **params: Any) -> da.Array:
    """A lazy Dask array of `shape` filled with `scheme`, equal to fastinit.sample bit for bit.

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the whole tensor: fan schemes take their fans from it,
        whatever the chunks.
    scheme : str
        A scheme name, as for fastinit.fill ("glorot_uniform", "he_normal", ...).
    seed : int in [0, 2**64)
        Required: every block, on whichever worker, must read the same seed.
    stream : int in [0, 2**64) or str, default 0
        The stream, e.g. the tensor's name.
    chunks : int, tuple, "auto" or -1, default "auto"
        Any chunking Dask accepts (dask.array.core.normalize_chunks); the
        values do not depend on it.
    dtype : float32, float64, bfloat16 or float16, default "float32"
        A name or a NumPy dtype; bfloat16 arrays have ml_dtypes' dtype (``pip
        install 'fastinit[bfloat16]'``).
    **params
        The scheme's parameters (``gain=``, ``layout="torch"``, ``std=``, ...).

    Returns
    -------
    dask.array.Array
        One task per block and no data in the graph; each task allocates its
        block and fills it on one thread (Dask's workers are the parallelism).
        ``.compute()`` equals ``fastinit.sample(shape, scheme, seed=seed,
        stream=stream, dtype=dtype, **params)``.

    Raises
    ------
    TypeError, ValueError
        At the call, not at compute time: a bad shape, seed, stream, dtype,
        scheme or parameter, or chunks that do not fit the shape.

    Notes
    -----
    ``orthogonal`` has no value per element: Q depends on the whole draw. Its
    array computes the whole Q once, in one task (one worker, with a float64
    workspace of a few times the tensor), and its blocks are slices of it,
    rather than every block computing Q again.
    """
    if seed is None:
        raise TypeError("seed is required: every block must draw from the same seed, so "
                        "pass seed=<int>")
    shape = _shape(shape)
    # An empty box of the whole tensor checks everything (scheme, parameters with the
    # whole tensor's fans, dtype, seed, stream) now, writes nothing, and is the meta of
    # the Dask array.
    zeros = (0,) * len(shape)
    meta = fastinit.sample(zeros, scheme, dtype=dtype, seed=seed, stream=stream, threads=1,
                           global_shape=shape, origin=zeros, **params)
    chunks = da.core.normalize_chunks(chunks, shape, dtype=meta.dtype)
    starts = tuple(tuple(itertools.accumulate(c[:-1], initial=0)) for c in chunks)
    name = "fastinit-" + dask.base.tokenize(shape, scheme, meta.dtype.name, seed, stream,
                                            chunks, params)
    if fastinit.schemes.lookup(scheme).name == "orthogonal":
        whole = dask.delayed(fastinit.sample, pure=True)(
            shape, scheme, dtype=meta.dtype, seed=seed, stream=stream, threads=1, **params)
        return da.map_blocks(functools.partial(_cut_block, chunks, starts), whole, name=name,
                             chunks=chunks, dtype=meta.dtype, meta=meta)
    block = functools.partial(_fill_block, scheme, meta.dtype, seed, stream, shape, chunks,
                              starts, params)
    return da.map_blocks(block, name=name, chunks=chunks, dtype=meta.dtype, meta=meta)


def _box(chunks, starts, block_id):
    """The shape and origin of block `block_id` in the whole tensor."""
    return (tuple(c[i] for c, i in zip(chunks, block_id)),
            tuple(s[i] for s, i in zip(starts, block_id)))


def _fill_block(scheme, dtype, seed, stream, global_shape, chunks, starts, params,
                block_id=None):
    """Block `block_id` of the array: its values in the whole tensor."""
    shape, origin = _box(chunks, starts, block_id)
    return fastinit.fill(np.empty(shape, dtype), scheme, seed=seed, stream=stream, threads=1,
                         global_shape=global_shape, origin=origin, **params)


def _cut_block(chunks, starts, whole, block_id=None):
    """Block `block_id` cut from the whole tensor (a copy, so the whole can be freed)."""
    shape, origin = _box(chunks, starts, block_id)
    return whole[tuple(slice(o, o + n) for o, n in zip(origin, shape))].copy()


def _shape(shape):
    """`shape` as a tuple of ints >= 0, or an error naming it."""
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    try:
        dims = tuple(operator.index(n) for n in dims)
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(n < 0 for n in dims):
        raise ValueError(f"shape must not have negative sizes, got {dims}")
    return dims
