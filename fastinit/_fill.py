"""One fill, from a call's arguments to the values in memory.

Models have thousands of small tensors (biases, norms), so the path for a
NumPy array whose plan was seen before is kept short: the plan (the scheme's
distribution for this shape, dtype and parameters) is cached, and the buffer
checks are left to the binding, with the slow, explanatory checks run only
when the binding refuses the buffer.

fill() takes whatever the user passed and finds the dtype from it; fill_as()
is for fastinit's own modules, which hold raw bytes and name the dtype. Both
end in _write.
"""
import numpy as np

from . import _buffers, _dtypes, _engine, schemes
from .orthogonal import orthogonal

_plans: dict = {}  # (scheme, dtype code, shape, params) -> Plan
_MAX_PLANS = 4096


def plan(scheme, params, dtype, shape):
    """schemes.plan, remembered for the next call with the same arguments."""
    # The types are part of the key so that truncated=1 is not taken for truncated=True.
    key = ((scheme, dtype.code, shape, *params.items(), *map(type, params.values())) if params
           else (scheme, dtype.code, shape))
    try:
        found = _plans.get(key)
    except TypeError:  # an unhashable parameter: let the scheme say what is wrong with it
        return schemes.plan(scheme, params, dtype, shape)
    if found is None:
        found = schemes.plan(scheme, params, dtype, shape)
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        _plans[key] = found
    return found


def fill(array, scheme, params, seed, stream, threads, global_shape, origin):
    """Fills `array` and returns it.

    `stream` is an int, or an iterator that gives a fresh stream, taken only
    once the call has been accepted (so a refused call uses up no stream).
    """
    if type(array) is not np.ndarray and "layout" not in params and \
            _buffers.is_torch_tensor(array):  # PyTorch's own layout, (out, in, *receptive)
        params = schemes.with_layout(scheme, params, "torch")
    arr = array
    dtype = _dtypes.NATIVE.get(arr.dtype) if type(arr) is np.ndarray else None
    if dtype is None:
        arr, dtype = _buffers.writable_view(array)
    _write(arr, dtype, scheme, params, seed, stream, threads, global_shape, origin, array)
    if arr is not array and _buffers.is_torch_tensor(array):
        _buffers.torch_wrote(array)
    return array


def fill_as(out, dtype, scheme, params, seed, stream, threads, global_shape, origin):
    """Fills the NumPy array `out` as an array of `dtype`, whatever its own, and returns it.

    The way for fastinit's own modules to fill memory they hold as raw bytes, with
    no NumPy dtype for what it holds: a checkpoint writer fills np.uint16 chunks
    as bfloat16 without ml_dtypes. fastinit.fill finds the dtype from the object
    it is given, then writes through the same code.

    Parameters
    ----------
    out : np.ndarray
        Writable, any layout in which no two elements share memory, with items of
        `dtype`'s size in native byte order.
        Its bytes are written as `dtype`; the values are those fastinit.fill
        writes into an array of `dtype`.
    dtype : str or anything _dtypes.lookup takes
        "float32", "float64", "bfloat16" or "float16".
    scheme : str
    params : dict
        The scheme's parameters, as fastinit.fill takes them as keywords.
    seed : int
        In [0, 2**64), already checked (_streams.check_seed).
    stream : int or iterator
        In [0, 2**64) (_streams.stream_id), or an iterator giving a fresh one.
    threads : int
        At least 1 (_threads.resolve).
    global_shape, origin : tuple of int or None
        As fastinit.fill: `out` is that box of the whole tensor; both None for
        the whole tensor.

    Raises
    ------
    TypeError
        For a dtype fastinit does not write, or an `out` that is not a NumPy
        array of items of its size in native byte order.
    ValueError
        For a read-only `out` or one whose elements share memory, and for bad
        scheme parameters or regions, as fastinit.fill. Nothing is written then.
    """
    dtype = _dtypes.lookup(dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"fill_as fills NumPy arrays; got {type(out).__name__}")
    if out.dtype.itemsize != dtype.itemsize or not out.dtype.isnative:
        raise TypeError(f"fill_as: a {dtype.name} fill needs items of {dtype.itemsize} bytes "
                        f"in native byte order; got dtype {out.dtype.str}")
    if not out.flags.writeable:
        raise ValueError("fill_as: out is read-only")
    _write(out, dtype, scheme, params, seed, stream, threads, global_shape, origin, None)
    return out


def _write(arr, dtype, scheme, params, seed, stream, threads, global_shape, origin, source):
    """Writes arr as an array of the _dtypes row dtype. source: what the user passed
    to fill, which _buffers.writable_view explains a refusal of; None if arr was
    checked already (fill_as)."""
    shape = arr.shape
    whole = global_shape is None and origin is None
    if not whole:
        global_shape, origin = _buffers.check_region(shape, global_shape, origin)
    kind, args = plan(scheme, params, dtype, shape if whole else global_shape)
    if dtype.narrow:  # written as its bits: NumPy may have no dtype for it (bfloat16)
        arr = arr.view(dtype.bits)
    if kind in _engine.KINDS:  # the binding checks the buffer, then takes a fresh stream
        try:
            _engine.fill_buffer(arr, dtype.code, kind, *args, seed, stream, global_shape, origin,
                                threads)
        except (BufferError, ValueError, TypeError):
            _explain(source)
            raise
        return
    try:  # before a fresh stream is used up, and before NumPy writes
        _engine.check_buffer(arr, dtype.code)
    except (BufferError, ValueError, TypeError):
        _explain(source)
        raise
    if type(stream) is not int:
        stream = next(stream)
    if kind == "constant":
        values = np.float64(args[0])  # already in the dtype drawn
    elif whole:
        values = orthogonal(shape, *args, seed, stream, threads)
    elif not arr.size:  # an empty region takes nothing from Q: skip computing it
        return
    else:
        box = tuple(slice(o, o + n) for o, n in zip(origin, shape))
        values = orthogonal(global_shape, *args, seed, stream, threads)[box]
    # float64 -> the float dtype drawn -> a narrow one, each rounded once; written as
    # bits, since arr may hold raw bytes (fill_as)
    values = np.asarray(values, dtype.draws)
    arr.view(dtype.bits)[...] = (_engine.round_narrow(values, dtype.name) if dtype.narrow
                                 else values.view(dtype.bits))


def _explain(source):
    """After the binding refused a buffer: raises the error that _buffers.writable_view
    gives `source`, what the user passed, if it says more (what to do); else returns."""
    if source is not None:
        _buffers.writable_view(source)
