"""One fill, from a call's arguments to the values in memory.

Models have thousands of small tensors (biases, norms), so the path for a
NumPy array whose plan was seen before is kept short: the plan (the scheme's
distribution for this shape, dtype and parameters) is cached, and the buffer
checks are left to the binding, with the slow, explanatory checks run only
when the binding refuses the buffer.
"""
import numpy as np

from . import _buffers, _engine, schemes
from .orthogonal import orthogonal

ENGINE_KINDS = ("uniform", "normal", "truncated_normal")
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)
_plans: dict = {}  # (scheme, params, dtype, shape) -> Plan
_MAX_PLANS = 4096


def plan(scheme, params, dtype, shape):
    """schemes.plan, remembered for the next call with the same arguments."""
    # The types are part of the key so that truncated=1 is not taken for truncated=True.
    key = ((scheme, dtype.num, shape, *params.items(), *map(type, params.values())) if params
           else (scheme, dtype.num, shape))
    try:
        found = _plans.get(key)
    except TypeError:  # an unhashable parameter: let the scheme say what is wrong with it
        return schemes.plan(scheme, params, dtype.type, shape)
    if found is None:
        found = schemes.plan(scheme, params, dtype.type, shape)
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        _plans[key] = found
    return found


def fill(array, scheme, params, seed, stream, threads, global_shape, origin):
    """Fills `array` and returns it.

    `stream` is an int, or an iterator that gives a fresh stream, taken only
    once the call has been accepted (so a refused call uses up no stream).
    """
    arr = array
    if type(arr) is not np.ndarray or (arr.dtype is not _FLOAT32 and arr.dtype is not _FLOAT64):
        arr = _buffers.writable_view(array)
    shape = arr.shape
    whole = global_shape is None and origin is None
    if not whole:
        global_shape, origin = _buffers.check_region(shape, global_shape, origin)
    kind, args = plan(scheme, params, arr.dtype, shape if whole else global_shape)
    # The dtype is checked by now, not yet whether arr may be written: the binding
    # checks that, but a fresh stream must not be used up, nor NumPy write, first.
    if (type(stream) is not int or kind not in ENGINE_KINDS) and not arr.flags.writeable:
        _buffers.writable_view(array)  # raises the error that says what to do
    if type(stream) is not int:
        stream = next(stream)
    if kind in ENGINE_KINDS:
        try:
            _engine.fill_buffer(arr, kind, *args, seed, stream, global_shape, origin, threads)
        except (BufferError, ValueError, TypeError):
            _buffers.writable_view(array)  # raises the error that says what to do
            raise
        return array
    if kind == "constant":
        arr[...] = args[0]
    elif whole:
        arr[...] = orthogonal(shape, *args, seed, stream, threads)
    elif arr.size:  # an empty region takes nothing from Q: skip computing it
        box = tuple(slice(o, o + n) for o, n in zip(origin, shape))
        arr[...] = orthogonal(global_shape, *args, seed, stream, threads)[box]
    return array
