"""fastinit's public functions: fill, random_raw, get_config."""
import itertools
import os
import secrets

import numpy as np

from . import _buffers, _engine, _streams, schemes
from ._version import __version__

RAW_WORDS = 1 << 66  # raw words per (seed, stream)


def _default_threads():
    env = os.environ.get("FASTINIT_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"FASTINIT_NUM_THREADS must be a positive integer, got {env!r}")
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


DEFAULT_THREADS = _default_threads()


def _threads(threads):
    if threads is None:
        return DEFAULT_THREADS
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be a positive int or None, got {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return int(min(threads, 1024))


# The default source of seeds for calls that give none: OS entropy until
# fastinit.seed(n) fixes it; each such call takes the next stream.
_default_seed = secrets.randbits(64)
_default_streams = itertools.count()


def seed(n):
    """Seeds the default generator used by calls that pass no seed; its streams restart at 0."""
    global _default_seed, _default_streams
    _default_seed = _streams.check_seed(n)
    _default_streams = itertools.count()


def _seed_and_stream(seed, stream):
    if seed is None:
        if stream is not None:
            raise ValueError("stream= needs seed= too (without a seed every call gets a fresh "
                             "stream of the default generator)")
        return _default_seed, next(_default_streams)
    return _streams.check_seed(seed), _streams.stream_id(0 if stream is None else stream)


def fill(array, scheme, *, seed=None, stream=None, threads=None, global_shape=None,
         origin=None, **params):
    """Fills `array` in place with the values of `scheme` and returns it.

    Parameters
    ----------
    array : float32 or float64 array
        A NumPy array or anything NumPy can view without a copy (np.memmap,
        array.array, a CPU torch.Tensor). Any memory layout: values depend only
        on each element's logical (row-major) index.
    scheme : str
        "uniform" (low, high), "normal" (mean, std), "truncated_normal"
        (mean, std, bound: values within mean +- bound*std), ...
    seed : int in [0, 2**64), optional
        Without one, the default generator (see fastinit.seed) gives the seed
        and a fresh stream per call.
    stream : int in [0, 2**64) or str, optional
        Which of the seed's independent streams; a string is hashed. Default 0.
    threads : int, optional
        Threads to use; default: FASTINIT_NUM_THREADS, else the CPUs this
        process may run on. The values never depend on it.
    global_shape, origin : tuple of int, optional
        `array` is the box at `origin` of a tensor of shape `global_shape`:
        it gets exactly the values the whole tensor would have there.
    **params
        The scheme's parameters.
    """
    arr = _buffers.writable_view(array)
    chosen = schemes.lookup(scheme)
    values = schemes.resolve_params(chosen, params)
    global_shape, origin = _buffers.check_region(arr.shape, global_shape, origin)
    n_threads = _threads(threads)
    seed_, stream_ = _seed_and_stream(seed, stream)
    kind, a, b, c = chosen.distribution(values, arr.dtype, global_shape)
    _engine.fill_buffer(arr, kind, a, b, c, seed_, stream_, global_shape, origin, n_threads)
    return array


def random_raw(count, *, seed, stream=0, start=0):
    """Raw 32-bit words start, ..., start + count - 1 of (seed, stream), as uint32.

    Word w is word w % 4 of Philox4x32-10 block w // 4 (see STREAM.md).
    """
    count = _streams.as_int(count, "count", RAW_WORDS + 1, "2**66]")
    start = _streams.as_int(start, "start", RAW_WORDS, "2**66")
    if start + count > RAW_WORDS:
        raise ValueError(f"start + count = {start + count} runs past the stream's 2**66 words")
    return _engine.random_raw(count, _streams.check_seed(seed), _streams.stream_id(stream),
                              start >> 2, start & 3, DEFAULT_THREADS)


def get_config():
    """How fastinit runs here: versions, SIMD path in use and available, default threads."""
    return {
        "version": __version__,
        "stream_version": _engine.STREAM_VERSION,
        "simd": _engine.simd_current(),
        "simd_available": _engine.simd_available(),
        "threads": DEFAULT_THREADS,
    }
