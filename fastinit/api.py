"""fastinit's functions: fill, sample, random_raw, get_config."""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _dtypes, _engine, _fill, _params, _streams, _threads, generator
from ._typing import ArrayT, DTypeLike, Region, Seed, Shape, Stream
from ._version import __version__

RAW_WORDS = 1 << 66  # raw words per (seed, stream)
MAX_RAW_COUNT = ((1 << 63) - 1) // 4  # uint32 words in the largest NumPy array


def _seed_and_stream(seed, stream):
    if seed is None:  # the default generator: a named stream, or its next fresh one
        default = generator.default_generator()
        return default.seed, default._stream(stream)
    return _streams.check_seed(seed), _streams.stream_id(0 if stream is None else stream)


def fill(array: ArrayT, scheme: str, *, seed: Seed | None = None, stream: Stream | None = None,
         threads: int | None = None, global_shape: Region | None = None,
         origin: Region | None = None, **params: Any) -> ArrayT:
    """Fills `array` in place with the values of `scheme` and returns it.

    Parameters
    ----------
    array : float32, float64, bfloat16 or float16 array
        A NumPy array or anything NumPy can view without a copy (np.memmap,
        array.array, a CPU torch.Tensor), in any memory layout in which no two
        elements share memory: values depend only on each element's logical
        (row-major) index. The same object is
        returned; nothing is copied. bfloat16: a torch.bfloat16 tensor or a
        NumPy array of ml_dtypes.bfloat16. A bfloat16 or float16 value is the
        float32 value of the same element rounded to nearest, ties to even. A
        torch.Tensor's version counter is bumped, as by torch's in-place ops.
    scheme : str
        A scheme name (case-insensitive): "glorot_uniform", "he_normal",
        "orthogonal", "zeros", ... (the table in fastinit.schemes and the README).
    seed : int in [0, 2**64), optional
        Without one, the default generator (fastinit.seed) gives the seed, and
        the stream is `stream` or, if that is not given either, a fresh one.
    stream : int in [0, 2**64) or str, optional
        Which of the seed's independent streams; a string (a tensor's name)
        is hashed. Default with a seed: 0.
    threads : int, optional
        Threads to use; default: FASTINIT_NUM_THREADS, else the CPUs this
        process may run on. More than the CPUs of the machine are clamped to
        that number (``get_config()["max_threads"]``). The values never depend
        on it.
    global_shape, origin : tuple or list of int, optional
        `array` is the box at `origin` of a tensor of shape `global_shape`: it
        gets exactly the values the whole tensor has there, and fans come from
        `global_shape`, so every shard has the scale of the whole tensor. Needs
        an explicit seed (and the tensor's stream): without one each call would
        read a fresh stream, and the shards would not fit together.
    **params
        The scheme's parameters, e.g. ``gain=``, ``layout="torch"``,
        ``fan_in=``, ``mode=``, ``truncated=True``, ``std=``, ``value=``.
        ``layout`` (which dimensions are fan_in and fan_out) defaults to
        "torch", ``(out, in, *receptive)``, for a torch.Tensor, and to "keras",
        ``(*receptive, in, out)``, for anything else.

    Raises
    ------
    TypeError, ValueError
        For a buffer that cannot be filled in place (read-only, another dtype,
        two elements sharing memory: a stride of 0 from np.broadcast_to or
        Tensor.expand), an unknown scheme (with the closest names), a parameter
        the scheme does not take, or a bad value (among them, parameters whose
        values the array's dtype cannot hold: a scale that rounds to 0 in it, or
        values past its largest finite value); nothing is written then.
    """
    if seed is None and (global_shape is not None or origin is not None):
        raise ValueError(_streams.REGION_NEEDS_A_STREAM.format(
            how="seed= and stream= (the tensor's name): without a seed each call takes a "
                "fresh stream of the default generator"))
    seed, stream = _seed_and_stream(seed, stream)
    return _fill.fill(array, scheme, params, seed, stream, _threads.resolve(threads),
                      global_shape, origin)


def sample(shape: Shape, scheme: str, *, dtype: DTypeLike = np.float32,
           seed: Seed | None = None, stream: Stream | None = None, threads: int | None = None,
           global_shape: Region | None = None, origin: Region | None = None,
           **params: Any) -> npt.NDArray[Any]:
    """A new array of `shape` and `dtype` filled with `scheme`; the other arguments
    are those of fill.

    dtype is "float32" (default), "float64", "bfloat16" or "float16", as a name,
    a NumPy dtype or type, ml_dtypes.bfloat16 or a torch dtype. A bfloat16 array
    has ml_dtypes' dtype (ImportError without ml_dtypes).

    >>> w = fastinit.sample((784, 256), "glorot_uniform", seed=0)
    >>> w.shape, w.dtype
    ((784, 256), dtype('float32'))
    >>> bound = (6 / (784 + 256)) ** 0.5  # glorot_uniform: U(-bound, bound)
    >>> bool(abs(w).max() <= bound)
    True
    >>> e = fastinit.sample((1000, 64), "normal", std=0.02, dtype="float16", seed=0)
    >>> bool(np.array_equal(e, fastinit.sample((1000, 64), "normal", std=0.02, seed=0)
    ...                                   .astype(np.float16)))  # the float32 values, rounded
    True
    """
    return fill(generator.new_array(shape, dtype), scheme, seed=seed, stream=stream,
                threads=threads, global_shape=global_shape, origin=origin, **params)


def random_raw(count: int, *, seed: Seed, stream: Stream = 0,
               start: int = 0) -> npt.NDArray[np.uint32]:
    """Raw 32-bit words start, ..., start + count - 1 of (seed, stream), as uint32.

    Word w is word w % 4 of Philox4x32-10 block w // 4 (see docs/stream.md).
    """
    count = _params.integer("count", count, 0, RAW_WORDS)
    start = _params.integer("start", start, 0, RAW_WORDS - 1)
    if start + count > RAW_WORDS:
        raise ValueError(f"start + count = {start + count} runs past the stream's 2**66 words")
    if count > MAX_RAW_COUNT:
        raise ValueError(f"count = {_params.number_text(count)} words would take {count * 4 / 2**60:.0f} EiB, more "
                         f"than one NumPy array can hold (2**61 - 1 words); read the stream "
                         f"in pieces with start=")
    return _engine.random_raw(count, _streams.check_seed(seed), _streams.stream_id(stream),
                              start >> 2, start & 3, _threads.resolve(None))


def get_config() -> dict[str, Any]:
    """How fastinit runs here: versions, SIMD path in use and available, how that path
    rounds to bfloat16 and float16 ("integer", or the CPU instructions it uses: the
    same bits either way), default and most threads."""
    return {
        "version": __version__,
        "stream_version": _engine.STREAM_VERSION,
        "simd": _engine.simd_current(),
        "simd_available": _engine.simd_available(),
        "rounding": {d.name: _engine.round_current(d.name)
                     for d in _dtypes.BY_NAME.values() if d.narrow},
        "threads": _threads.DEFAULT,
        "max_threads": _engine.max_threads(),
    }
