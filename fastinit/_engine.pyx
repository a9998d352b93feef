# cython: language_level=3, boundscheck=False, wraparound=False
"""The binding of the C core: checks buffers, releases the GIL, calls C.

Names, schemes and parameter checks live in the Python modules above this
one; what reaches here is already an int or float of the right range.
"""
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport uint16_t, uint32_t, uint64_t, int64_t, UINT64_MAX

import sys

import numpy as np

from fastinit._engine cimport *

STREAM_VERSION = FI_STREAM_VERSION
MAX_DIMS = FI_MAX_DIMS
STREAM_MIN_BYTES = FI_STREAM_MIN_BYTES  # fills this large use streaming stores

# Between two chunks of this many elements the GIL is taken back for a moment
# so that Ctrl-C (KeyboardInterrupt) is seen during a fill of many GB.
cdef uint64_t CHUNK = 1 << 23

# The distributions the engine draws (fi_kind), by name: the one list of them, which
# fastinit.schemes (its plans, variance_scaling's distribution=) and _fill read.
KINDS = {"uniform": FI_UNIFORM, "normal": FI_NORMAL,
         "truncated_normal": FI_TRUNCATED_NORMAL}

# The C core's table of dtypes (fi_dtypes): name -> (code, bytes per element,
# name of the float dtype whose stream it draws). fastinit/_dtypes.py reads it.
DTYPES = {fi_dtypes[i].name.decode(): (i, fi_dtypes[i].size,
                                        fi_dtypes[<int>fi_dtypes[i].draws].name.decode())
          for i in range(FI_NDTYPES)}


# Fills smaller than this run without releasing the GIL: releasing and taking it
# back costs more than writing them.
cdef uint64_t NOGIL_MIN = 1 << 14
cdef bint LITTLE_ENDIAN = sys.byteorder == "little"


cdef int check_items(Py_buffer *view, int dtype) except -1:
    """Refuses a buffer whose items are not dtype's size in native byte order (which
    values the bytes are taken for is the caller's choice: fill_buffer's docstring)."""
    cdef const char *fmt = view.format
    if fmt == NULL:  # no format means unsigned bytes
        fmt = "B"
    if view.itemsize != fi_dtypes[dtype].size or fmt[0] == c">" or fmt[0] == c"!" or (
            fmt[0] == c"<" and not LITTLE_ENDIAN):
        raise TypeError(f"fill_buffer: a {fi_dtypes[dtype].name.decode()} fill needs items of "
                        f"{fi_dtypes[dtype].size} bytes in native byte order; got buffer format "
                        f"{(fmt if view.format == NULL else view.format).decode('ascii')!r}")
    return 0


# The exact overlap check (NumPy's) may give up on a contrived as_strided layout after
# this many candidate solutions for one dimension; the buffer is refused then.
cdef Py_ssize_t OVERLAP_WORK = 1 << 20


cdef int check_no_overlap(object out, Py_buffer *view) except -1:
    """Refuses a buffer in which two elements share a byte: threads would race to write
    it, and the value left would be whichever write landed last.

    A C-contiguous buffer costs a pass over its strides. Otherwise the dimensions of
    more than one element are taken in order of |stride|: if each stride is at least
    the span of the dimensions below it (one element, plus (n - 1) |stride| for each),
    no two elements can meet (every view that slicing, steps, transposes and negative
    strides make of a contiguous array passes). A stride below the item size is an
    overlap for certain (0, as from np.broadcast_to or torch's expand()). Anything
    else (an interleaving as_strided layout) gets NumPy's exact answer (np.shares_memory).
    """
    cdef Py_ssize_t expected = view.itemsize
    cdef uint64_t span, step
    cdef uint64_t strides[FI_MAX_DIMS]
    cdef uint64_t counts[FI_MAX_DIMS]
    cdef int k, i, n = 0
    if view.ndim > FI_MAX_DIMS:
        raise ValueError(f"at most {FI_MAX_DIMS} dimensions are supported")
    for k in range(view.ndim - 1, -1, -1):  # C-contiguous: the common case, nothing more
        if view.shape[k] != 1 and view.strides[k] != expected:
            break
        expected *= view.shape[k]
    else:
        return 0
    for k in range(view.ndim):
        if view.shape[k] == 0:
            return 0  # no elements, nothing to share
    for k in range(view.ndim):
        if view.shape[k] == 1:
            continue
        step = <uint64_t>view.strides[k] if view.strides[k] >= 0 else \
            -<uint64_t>view.strides[k]
        if step < <uint64_t>view.itemsize:
            raise_overlap(view, f"dimension {k} has stride {view.strides[k]}, less than its "
                                f"{view.itemsize}-byte items")
        i = n  # insertion sort by |stride|: at most FI_MAX_DIMS of them
        while i > 0 and strides[i - 1] > step:
            strides[i], counts[i] = strides[i - 1], counts[i - 1]
            i -= 1
        strides[i], counts[i] = step, <uint64_t>view.shape[k]
        n += 1
    span = <uint64_t>view.itemsize
    for i in range(n):
        if strides[i] < span:
            break
        if counts[i] - 1 > (UINT64_MAX - span) // strides[i]:
            span = UINT64_MAX  # past any address: a later dimension goes to the exact check
        else:
            span += (counts[i] - 1) * strides[i]
    else:
        return 0
    if exact_overlap(np.asarray(out)):
        raise_overlap(view, "its strides make elements overlap")
    return 0


cdef bint exact_overlap(object a) except -1:
    # Offsets are linear in the index, so moving two elements i and j by the same index
    # step moves both by the same bytes. Let k be the last dimension where they differ,
    # i_k > j_k: moving both by -j_k along k and to 0 along every later dimension keeps
    # them in the array. So two elements overlap iff, for some k, one with index >= 1
    # along k and 0 after it overlaps one with index 0 along k and after it.
    for k in range(a.ndim):
        if a.shape[k] < 2:
            continue
        later = (0,) * (a.ndim - k - 1)
        head = a[(slice(None),) * k + (slice(0, 1),) + later]
        rest = a[(slice(None),) * k + (slice(1, None),) + later]
        try:
            if np.shares_memory(head, rest, max_work=OVERLAP_WORK):
                return True
        except np.exceptions.TooHardError:
            raise ValueError(f"fastinit cannot tell whether the elements of this array (shape "
                             f"{a.shape}, strides {a.strides}) share memory: NumPy's exact "
                             f"check gave up. Fill a contiguous array instead "
                             f"(np.ascontiguousarray(a) makes one).") from None
    return False


cdef int raise_overlap(Py_buffer *view, str why) except -1:
    shape = tuple(view.shape[k] for k in range(view.ndim))
    strides = tuple(view.strides[k] for k in range(view.ndim))
    raise ValueError(f"two elements of this array share memory ({why}: shape {shape}, strides "
                     f"{strides}), as in arrays made by np.broadcast_to, torch's expand() or "
                     f"as_strided; a fill's values would depend on which write lands last. "
                     f"Fill a contiguous array instead (np.ascontiguousarray(a) or "
                     f"t.contiguous() makes one).")


def check_buffer(object out, int dtype):
    """Raises what fill_buffer raises for `out` before it writes anything: BufferError
    if it is read-only, TypeError for items that are not dtype's, ValueError if two
    of its elements share memory."""
    cdef Py_buffer view
    if not 0 <= dtype < FI_NDTYPES:
        raise ValueError(f"unknown dtype code {dtype}")
    PyObject_GetBuffer(out, &view, PyBUF_RECORDS)
    try:
        check_items(&view, dtype)
        check_no_overlap(out, &view)
    finally:
        PyBuffer_Release(&view)


def fill_buffer(object out, int dtype, str kind, double a, double b, double c, uint64_t seed,
                object stream, tuple global_shape, tuple origin, int threads):
    """Writes the box of `global_shape` at `origin` whose shape is out's shape.

    out must support the writable buffer protocol, with no two elements sharing
    memory (check_buffer), and items of the size of
    `dtype` (a code of DTYPES), which its bytes are written as, whatever its
    format says (the layer above checks that it holds that dtype, or means
    to: 16-bit integers for bfloat16 without a NumPy dtype for it);
    global_shape and origin are tuples of ints already checked to fit, or both
    None for the whole tensor. stream is an int, or an iterator that gives a
    fresh one, taken only once out has been accepted (so that a refused fill
    uses up no stream).
    """
    cdef Py_buffer view
    cdef fi_dist dist
    cdef fi_region region
    cdef uint64_t begin, end, total, stride
    cdef int k, ndim
    cdef fi_kind fkind
    try:
        fkind = KINDS[kind]
    except KeyError:
        raise ValueError(f"fill_buffer: unknown kind {kind!r}; the engine draws "
                         f"{', '.join(KINDS)}") from None
    if not 0 <= dtype < FI_NDTYPES:
        raise ValueError(f"unknown dtype code {dtype}")
    PyObject_GetBuffer(out, &view, PyBUF_RECORDS)
    try:
        ndim = view.ndim
        whole = global_shape is None and origin is None
        if not whole and (ndim != len(global_shape) or ndim != len(origin)):
            raise ValueError("global_shape and origin need one entry per dimension")
        if ndim > FI_MAX_DIMS:
            raise ValueError(f"at most {FI_MAX_DIMS} dimensions are supported")
        check_items(&view, dtype)
        check_no_overlap(out, &view)
        fi_dist_init(&dist, seed, stream if type(stream) is int else next(stream), fkind,
                     <fi_dtype>dtype, a, b, c)

        # Row-major logical strides of the global shape; the box's origin index.
        region.ndim = ndim if ndim > 0 else 1
        region.base = <char *>view.buf
        region.origin_index = 0
        region.count[0] = 1
        region.logical_stride[0] = 1
        region.byte_stride[0] = view.itemsize
        stride = 1
        for k in range(ndim - 1, -1, -1):
            region.count[k] = <uint64_t>view.shape[k]
            region.logical_stride[k] = stride
            region.byte_stride[k] = <int64_t>view.strides[k]
            if whole:
                stride *= <uint64_t>view.shape[k]
            else:
                region.origin_index += <uint64_t>origin[k] * stride
                stride *= <uint64_t>global_shape[k]

        total = fi_region_size(&region)
        if total < NOGIL_MIN:
            fi_fill_region(&dist, &region, 0, total, 1)
            return out
        begin = 0
        while begin < total:
            end = min(begin + CHUNK, total)
            with nogil:
                fi_fill_region(&dist, &region, begin, end, threads)
            begin = end
            PyErr_CheckSignals()
    finally:
        PyBuffer_Release(&view)
    return out


def random_raw(uint64_t count, uint64_t seed, uint64_t stream, uint64_t block,
               unsigned offset, int threads):
    """Raw words 4*block + offset ... as a new uint32 array."""
    result = np.empty(count, dtype=np.uint32)
    cdef uint32_t[::1] words = result
    cdef uint64_t begin = 0, n, word
    while begin < count:
        n = min(CHUNK, count - begin)
        word = offset + begin
        with nogil:
            fi_random_raw(seed, stream, block + word // 4, word % 4, n, &words[begin], threads)
        begin += n
        PyErr_CheckSignals()
    return result


def eval_math(str fn, object x):
    """fastinit's own log/sin/cos/erf/erfinv on a float32 or float64 array (for tests)."""
    x = np.ascontiguousarray(x)
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise TypeError("eval_math takes float32 or float64 arrays")
    y = np.empty_like(x)
    cdef fi_dtype dtype = FI_FLOAT32 if x.dtype == np.float32 else FI_FLOAT64
    cdef Py_buffer xin, yout
    PyObject_GetBuffer(x, &xin, PyBUF_RECORDS)
    PyObject_GetBuffer(y, &yout, PyBUF_RECORDS)
    try:
        if fi_eval_math(fn.encode(), dtype, xin.buf, yout.buf, <size_t>x.size) != 0:
            raise ValueError(f"unknown function {fn!r}")
    finally:
        PyBuffer_Release(&xin)
        PyBuffer_Release(&yout)
    return y


cdef fi_dtype narrow_code(str dtype) except *:
    code = DTYPES.get(dtype, (None,))[0]
    if code != FI_BFLOAT16 and code != FI_FLOAT16:
        raise ValueError(f"{dtype!r} is not a narrow dtype: bfloat16 or float16")
    return <fi_dtype>code


def round_narrow(object x, str dtype):
    """The float32 array x rounded to `dtype` ("bfloat16" or "float16") as the
    current path's fills round, as a new uint16 array of the bits."""
    x = np.ascontiguousarray(x)
    if x.dtype != np.float32:
        raise TypeError("round_narrow takes a float32 array")
    cdef fi_dtype code = narrow_code(dtype)
    bits = np.empty(x.shape, np.uint16)
    cdef const float[::1] xin = x.reshape(-1)
    cdef uint16_t[::1] out = bits.reshape(-1)
    cdef size_t n = x.size
    if n > 0:
        with nogil:
            fi_round_narrow(code, &xin[0], &out[0], n)
    return bits


def round_select(str how):
    """"hardware" (the default) or "integer": how later fills round to narrow dtypes."""
    if fi_round_select(how.encode()) != 0:
        raise ValueError(f"rounding must be 'hardware' or 'integer', got {how!r}")


def round_current(str dtype):
    """How the current path rounds to `dtype` now: "integer", or the CPUID name of
    the instructions it uses ("f16c", "avx512f", "avx512_bf16")."""
    return fi_round_current(narrow_code(dtype)).decode()


def max_threads():
    """The most threads a fill runs on (the CPUs of this machine); more are clamped."""
    return fi_max_threads()


def _set_max_threads(int n):
    """For tests only (tests/conftest.py): makes max_threads() n for this process, so
    that a machine with few CPUs still tests fills on more threads than it has."""
    if fi_set_max_threads(n) != 0:
        raise ValueError(f"max threads must be 1 .. {FI_MAX_THREADS}, got {n}")


def _last_job_threads():
    """For tests only: the threads the pool gave its last job (1: the caller ran it
    alone), so that a test can tell that a fill ran on the threads it asked for."""
    return fi_pool_last_threads()


def simd_current():
    return fi_simd_current().decode()


def simd_available():
    cdef unsigned mask = fi_simd_available()
    names = []
    cdef int i = 0
    while fi_simd_name(i) != NULL:
        if mask & (1u << i):
            names.append(fi_simd_name(i).decode())
        i += 1
    return names


def simd_all():
    names = []
    cdef int i = 0
    while fi_simd_name(i) != NULL:
        names.append(fi_simd_name(i).decode())
        i += 1
    return names


def simd_select(str name):
    """Makes `name` the path every later fill takes. Raises ValueError if unknown or
    not runnable on this CPU."""
    rc = fi_simd_select(name.encode())
    if rc == -1:
        raise ValueError(f"unknown SIMD path {name!r}; known: {', '.join(simd_all())}")
    if rc == -2:
        raise ValueError(f"this CPU cannot run the {name!r} path; "
                         f"it can run: {', '.join(simd_available())}")
