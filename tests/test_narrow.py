"""docs/stream.md, "Narrow formats": a bfloat16 or float16 element is the float32 fill's
value of the same element rounded to nearest, ties to even, for every scheme, SIMD
path, way of rounding (integer or the CPU's instructions), thread count, region and
layout; and the dtypes that are neither are refused with nothing written.

The reference is `rounded` below: ties-to-even rounding written from the definition
(the value's significand counted in units of the format's last place at its
exponent), checked on halfway cases built by hand, against NumPy's
astype(np.float16) and, where installed, torch's .to(torch.bfloat16) and ml_dtypes.
It shares no code with fastinit's rounding (src/narrow.h).

bfloat16 needs no optional package here: fastinit's own modules fill raw uint16
arrays as bfloat16 (_fill.fill_as); the public path for ml_dtypes arrays and torch
tensors is checked against it where those are installed (and in test_torch.py)."""
import functools
import itertools
import math

import numpy as np
import pytest
import scipy.stats

import fastinit
from conftest import run_python
from fastinit import _dtypes, _engine, _fill, schemes

PATHS = _engine.simd_available()
NARROW = ["bfloat16", "float16"]
ROUNDINGS = ["hardware", "integer"]

# ---- the reference -------------------------------------------------------------------

# significand bits (with the leading one), smallest normal exponent, largest exponent
FORMATS = {"bfloat16": (8, -126, 127), "float16": (11, -14, 15)}


def rounded(x, fmt):
    """The bits (uint16) of float32 array x rounded to fmt, to nearest, ties to even.
    |x| = sig 2^e exactly; the format's last place at |x| is 2^q, q = max(exponent of
    |x|, smallest normal exponent) - (p - 1); n = sig 2^e / 2^q rounded to an
    integer, ties to even; then n 2^q is encoded (2^p after rounding is the next
    exponent's 2^(p-1); past the largest exponent, infinity)."""
    p, emin, emax = FORMATS[fmt]
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.int64)
    sign, biased, frac = bits >> 31, (bits >> 23) & 0xFF, bits & 0x7FFFFF
    assert not np.any((biased == 0xFF) & (frac != 0)), "no NaN in a fill"
    sig = np.where(biased > 0, frac | 1 << 23, frac)
    e = np.maximum(biased, 1) - 150
    lead = e + np.frexp(sig.astype(np.float64))[1] - 1  # exponent of sig's top bit
    q = np.maximum(lead, emin) - (p - 1)
    shift = np.minimum(q - e, 40)  # >= 1; past 40, sig < 2^24 rounds to 0 anyway
    n = sig >> shift
    rest, half = sig - (n << shift), np.int64(1) << (shift - 1)
    n += (rest > half) | ((rest == half) & (n % 2 == 1))
    carry = n == 1 << p
    n, q = np.where(carry, n >> 1, n), np.where(carry, q + 1, q)
    normal = n >= 1 << (p - 1)
    bias, fields = (1 << (15 - p)) - 1, 16 - p  # exponent bias; exponent field shift
    out = np.where(normal, (q + p - 1 + bias) << (p - 1) | (n - (1 << (p - 1))), n)
    out = np.where(normal & (q + p - 1 > emax), ((1 << fields) - 1) << (p - 1), out)
    return (out | sign << 15).astype(np.uint16)


def as_f32(values):
    return np.array(values, np.float32)


# (float32 value, bfloat16 bits, float16 bits), the halfway cases built by hand
HALFWAY = [
    (1 + 2**-8, 0x3F80, 0x3C04),             # bf16: halfway 1 | 1 + 2^-7, to the even 1
    (1 + 3 * 2**-8, 0x3F82, 0x3C0C),         # bf16: halfway, to the even 1 + 2^-6
    (1 + 2**-8 + 2**-23, 0x3F81, 0x3C04),    # just past halfway: up
    (1 + 2**-11, 0x3F80, 0x3C00),            # f16: halfway 1 | 1 + 2^-10, to the even 1
    (1 + 3 * 2**-11, 0x3F80, 0x3C02),        # f16: halfway, to the even 1 + 2^-9
    (-(1 + 3 * 2**-11), 0xBF80, 0xBC02),
    (65504.0, 0x4780, 0x7BFF),               # the largest float16
    (65520.0 - 2**-8 * 8, 0x4780, 0x7BFF),   # just below its halfway point to 2^16
    (65520.0, 0x4780, 0x7C00),               # halfway: 0x7bff is odd, so infinity
    (-70000.0, 0xC789, 0xFC00),              # past the largest: -infinity
    (2.0**-14, 0x3880, 0x0400),              # the smallest normal float16
    (2.0**-14 - 2**-25, 0x3880, 0x0400),     # halfway from the largest subnormal: up (even)
    (2.0**-24, 0x3380, 0x0001),              # the smallest float16 subnormal
    (2.0**-25, 0x3300, 0x0000),              # halfway 0 | 2^-24: to the even 0
    (3 * 2.0**-25, 0x33C0, 0x0002),          # halfway 2^-24 | 2^-23: to the even 2^-23
    (2.0**-25 + 2**-40, 0x3300, 0x0001),     # past halfway: up
    (-0.0, 0x8000, 0x8000), (0.0, 0x0000, 0x0000),
    (np.float32(3.4028235e38), 0x7F80, 0x7C00),  # the largest float32: bf16 halfway, up
    (2.0**-133, 0x0001, 0x0000),             # the smallest bfloat16 subnormal
    (2.0**-134, 0x0000, 0x0000),             # halfway 0 | 2^-133 (float32 subnormal)
    (3 * 2.0**-134, 0x0002, 0x0000),         # halfway 2^-133 | 2^-132: to the even
    (2.0**-149, 0x0000, 0x0000),             # the smallest float32 subnormal
    (float("inf"), 0x7F80, 0x7C00), (float("-inf"), 0xFF80, 0xFC00),
]


def boundary_patterns():
    """float32 bit patterns around every place the rounding can cut, at every exponent
    and sign: low bits 2^k - 1, 2^k, 2^k + 1 for k = 0..22, with the next bit (odd or
    even) and the bits above (all set, for carries, or clear) varied; no NaNs."""
    out = []
    for k in range(23):
        low = np.array([(1 << k) - 1, 1 << k, (1 << k) + 1], np.int64)
        above = np.array([0, 0x7FFFFF & ~((2 << k) - 1)], np.int64)
        frac = (low[:, None, None] | np.array([0, 2 << k])[None, :, None]
                | above[None, None, :]).ravel() & 0x7FFFFF
        out.append(frac)
    frac = np.unique(np.concatenate(out))
    exponent = np.arange(255, dtype=np.int64)
    bits = (exponent[:, None] << 23 | frac[None, :]).ravel()
    bits = np.concatenate([bits, [0x7F800000]])  # and infinity
    bits = np.concatenate([bits, bits | 1 << 31])
    return bits.astype(np.uint32).view(np.float32)


def sample_patterns(n=1 << 20):
    bits = np.random.default_rng(11).integers(0, 1 << 32, n, dtype=np.uint32)
    x = bits.view(np.float32)
    return x[~np.isnan(x)]


@functools.lru_cache(maxsize=None)
def patterns():
    return np.concatenate([boundary_patterns(), sample_patterns()])


@functools.lru_cache(maxsize=None)
def rounded_patterns(fmt):
    return rounded(patterns(), fmt)


@pytest.mark.parametrize("fmt, column", [("bfloat16", 1), ("float16", 2)])
def test_reference_rounds_halfway_cases_to_even(fmt, column):
    x = as_f32([case[0] for case in HALFWAY])
    assert [hex(b) for b in rounded(x, fmt)] == [hex(case[column]) for case in HALFWAY]


def test_reference_is_numpys_float16():
    x = patterns()
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).view(np.uint16)
    np.testing.assert_array_equal(rounded_patterns("float16"), want)


def test_reference_is_torchs_bfloat16():
    torch = pytest.importorskip("torch")
    x = patterns()
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(rounded_patterns("bfloat16"), want)


def test_reference_is_ml_dtypes_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = patterns()
    np.testing.assert_array_equal(rounded_patterns("bfloat16"),
                                  x.astype(ml_dtypes.bfloat16).view(np.uint16))


# ---- fastinit's rounding, on every path and both ways ----------------------------------

@pytest.fixture
def rounding():
    """Yields _engine.round_select ("hardware" or "integer"); restores "hardware" after."""
    yield _engine.round_select
    _engine.round_select("hardware")


EVERY_WAY = pytest.mark.parametrize("path, how", list(itertools.product(PATHS, ROUNDINGS)))


@EVERY_WAY
@pytest.mark.parametrize("fmt", NARROW)
def test_rounding_is_the_reference(simd_path, rounding, path, how, fmt):
    simd_path(path)
    rounding(how)
    x = patterns()
    np.testing.assert_array_equal(_engine.round_narrow(x, fmt), rounded_patterns(fmt))
    # every length, so that every lane of a partial vector is checked
    for n in range(1, 70):
        np.testing.assert_array_equal(_engine.round_narrow(x[:n], fmt), rounded(x[:n], fmt))


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        return set(next(line for line in f if line.startswith("flags")).split(":")[1].split())


@pytest.mark.parametrize("path", PATHS)
def test_hardware_rounding_is_used_where_the_cpu_has_it(simd_path, rounding, path):
    # Without this, the comparisons above could pass by never taking the instructions.
    flags = cpu_flags()
    want = {"portable": {"bfloat16": "integer", "float16": "integer"},
            "avx2": {"bfloat16": "integer", "float16": "f16c" if "f16c" in flags else "integer"},
            "avx512": {"bfloat16": "avx512_bf16" if "avx512_bf16" in flags else "integer",
                       "float16": "avx512f"}}[path]
    simd_path(path)
    assert {fmt: _engine.round_current(fmt) for fmt in NARROW} == want
    assert fastinit.get_config()["rounding"] == want
    rounding("integer")
    assert {fmt: _engine.round_current(fmt) for fmt in NARROW} == dict.fromkeys(NARROW, "integer")


# ---- fills ---------------------------------------------------------------------------

def narrow_fill(shape, fmt, scheme, seed=5, stream=3, threads=2, global_shape=None,
                origin=None, **params):
    """The bits of a fill of a new array of fmt (fill_as on uint16: no ml_dtypes needed)."""
    out = np.empty(shape, np.uint16)
    return _fill.fill_as(out, fmt, scheme, params, seed, fastinit._streams.stream_id(stream),
                         threads, global_shape, origin)


def f32_fill(shape, scheme, seed=5, stream=3, order="C", **kw):
    return fastinit.fill(np.empty(shape, np.float32, order=order), scheme, seed=seed,
                         stream=stream, **kw)


def scheme_cases():
    """Every scheme with parameters it needs, in each layout it takes."""
    needs = {"constant": {"value": 0.3}, "truncated_normal": {"std": 0.02}}
    for name, scheme in sorted(schemes.SCHEMES.items()):
        params = needs.get(name, {})
        layouts = ["keras", "torch"] if "layout" in scheme.defaults else [None]
        for layout in layouts:
            yield name, params if layout is None else {**params, "layout": layout}


SCHEME_CASES = list(scheme_cases())
SHAPE = (3, 5, 16, 24)


@pytest.mark.parametrize("scheme, params", SCHEME_CASES, ids=str)
@pytest.mark.parametrize("fmt", NARROW)
def test_every_scheme_is_the_float32_fill_rounded(scheme, params, fmt):
    want = rounded(f32_fill(SHAPE, scheme, **params), fmt)
    np.testing.assert_array_equal(narrow_fill(SHAPE, fmt, scheme, **params), want)


@pytest.mark.parametrize("scheme, params", SCHEME_CASES, ids=str)
def test_float16_arrays_hold_numpys_cast_of_the_float32_fill(scheme, params):
    got = f32_fill(SHAPE, scheme, **params)
    h = fastinit.fill(np.empty(SHAPE, np.float16), scheme, seed=5, stream=3, **params)
    np.testing.assert_array_equal(h.view(np.uint16), got.astype(np.float16).view(np.uint16))


def test_ml_dtypes_bfloat16_arrays_hold_the_rounded_values():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for scheme, params in SCHEME_CASES:
        b = fastinit.fill(np.empty(SHAPE, ml_dtypes.bfloat16), scheme, seed=5, stream=3, **params)
        want = f32_fill(SHAPE, scheme, **params).astype(ml_dtypes.bfloat16)
        np.testing.assert_array_equal(b.view(np.uint16), want.view(np.uint16), err_msg=scheme)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_constants_keep_the_sign_of_zero(dtype):
    row = _dtypes.lookup(dtype)
    out = np.ones(5, row.bits)
    _fill.fill_as(out, dtype, "constant", {"value": -0.0}, 1, 0, 1, None, None)
    assert (out == 1 << (8 * row.itemsize - 1)).all()  # only the sign bit set
    if row.numpy_module == "numpy":
        a = fastinit.fill(np.ones(5, dtype), "constant", value=-0.0, seed=1)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(np.full(5, -0.0, dtype)))


# Values that round to subnormals and to the largest finite value of each format.
# bfloat16 keeps float32's subnormals (the instruction would flush them): uniform
# +-2^-118 has half 2^-24 = 2^-142 exactly, so the centered kernel, whose values
# m 2^-142 are subnormal for |m| < 2^16, one in 256; +-2^-100: never. float16's
# subnormals lie below 2^-14, and its largest value 65504 holds the float32 values from
# 65488 up to its overflow threshold 65520, which no accepted fill reaches.
EXTREMES = {
    "bfloat16": [("uniform", dict(low=-1e-40, high=1e-40)), ("normal", dict(std=1e-39)),
                 ("uniform", dict(low=-2.0**-118, high=2.0**-118)),
                 ("uniform", dict(low=-2.0**-100, high=2.0**-100)), ("normal", dict(std=2e-6)),
                 ("normal", dict(mean=3.388e38, std=1e35))],
    "float16": [("uniform", dict(low=-1e-7, high=1e-7)), ("normal", dict(std=2e-6)),
                ("uniform", dict(low=-2.0**-14, high=2.0**-14)),
                ("normal", dict(mean=65480.0, std=5.0))],
}
LARGEST = {"bfloat16": 0x7F7F, "float16": 0x7BFF}


@pytest.mark.parametrize("fmt", NARROW)
def test_extreme_values_round_to_subnormals_and_the_largest_value(fmt):
    for scheme, params in EXTREMES[fmt]:
        want = rounded(f32_fill(10_000, scheme, **params), fmt)
        np.testing.assert_array_equal(narrow_fill(10_000, fmt, scheme, **params), want)
    scheme, params = EXTREMES[fmt][-1]
    top = rounded(f32_fill(10_000, scheme, **params), fmt)
    assert (top == LARGEST[fmt]).sum() > 100, "the case must reach the format's largest value"


# ---- every path, both ways: regions, strides, misalignment, streaming -------------------

# The last of each: values whose rounding gives the format's subnormals (float32's
# subnormals for bfloat16)
PATH_SCHEMES = {fmt: [("uniform", {}), ("uniform", dict(low=2.5, high=7.25)),
                      ("normal", dict(mean=1.0, std=2.0)), ("truncated_normal", {}), tiny]
                for fmt, tiny in (("bfloat16", ("uniform", dict(low=-1e-40, high=1e-40))),
                                  ("float16", ("uniform", dict(low=-1e-5, high=1e-5))))}
EVERY_CASE = pytest.mark.parametrize(
    "path, how, fmt, scheme, params",
    [(p, h, f, s, kw) for p in PATHS for h in ROUNDINGS for f in NARROW
     for s, kw in PATH_SCHEMES[f]],
    ids=lambda v: str(v) if v else None)
REGIONS = ([(start, n) for start in (0, 1, 2, 3, 5) for n in range(1, 70)]
           + [(61, 77), (64, 64), (1000, 1), (5, 4099), (4093, 8195)])
GLOBAL = 20_000


@functools.lru_cache(maxsize=None)
def reference(scheme, params, n, seed, fmt):
    """rounded() of a float32 fill of n elements, params as a tuple of items, stream 3."""
    return rounded(f32_fill(n, scheme, seed=seed, **dict(params)), fmt)


@EVERY_CASE
def test_regions_on_every_path(simd_path, rounding, path, how, fmt, scheme, params):
    simd_path(path)
    rounding(how)
    whole = reference(scheme, tuple(params.items()), GLOBAL, 77, fmt)
    for start, n in REGIONS:
        got = narrow_fill(n, fmt, scheme, seed=77, global_shape=(GLOBAL,), origin=(start,),
                          **params)
        np.testing.assert_array_equal(got, whole[start:start + n], err_msg=f"{start}+{n}")


@EVERY_CASE
def test_strided_and_misaligned_views_on_every_path(simd_path, rounding, path, how, fmt, scheme,
                                                    params):
    simd_path(path)
    rounding(how)
    for index in [np.s_[2:38:3, 45:1:-2], np.s_[::-1, ::7], np.s_[5, 3:40], np.s_[::-1, ::-1]]:
        big = np.full((40, 50), 0xFFFF, np.uint16)  # a NaN frame: shows writes outside
        view = big[index]
        _fill.fill_as(view, fmt, scheme, params, 9, 0, 1, None, None)
        np.testing.assert_array_equal(view, rounded(f32_fill(view.shape, scheme, 9, 0, **params),
                                                    fmt))
        outside = np.ones(big.shape, bool)
        outside[index] = False
        assert (big[outside] == 0xFFFF).all()
    n = 1031
    want = reference(scheme, tuple(params.items()), n + 11, 3, fmt)[7:7 + n]
    for offset in (0, 1, 2, 6, 8, 14, 30, 62):  # bytes past a 64-byte boundary
        raw = np.zeros(2 * n + 128, np.uint8)
        base = -raw.ctypes.data % 64
        view = raw[base + offset: base + offset + 2 * n].view(np.uint16)
        _fill.fill_as(view, fmt, scheme, params, 3, 3, 1, (n + 11,), (7,))
        np.testing.assert_array_equal(view, want, err_msg=f"offset {offset}")


@pytest.mark.parametrize("path, how, fmt", list(itertools.product(PATHS, ROUNDINGS, NARROW)))
def test_large_threaded_streaming_fills_on_every_path(simd_path, rounding, path, how, fmt):
    # Above STREAM_MIN_BYTES the runs are stored with streaming stores; with 2 threads
    # each thread starts somewhere not aligned to anything.
    simd_path(path)
    rounding(how)
    n = _engine.STREAM_MIN_BYTES // 2 + 4099
    for scheme, params in PATH_SCHEMES[fmt][::2]:
        want = reference(scheme, tuple(params.items()), n + 11, 3, fmt)[7:7 + n]
        for offset in (2, 8, 14):
            raw = np.zeros(2 * n + 128, np.uint8)
            base = -raw.ctypes.data % 64
            view = raw[base + offset: base + offset + 2 * n].view(np.uint16)
            _fill.fill_as(view, fmt, scheme, params, 3, 3, 2, (n + 11,), (7,))
            np.testing.assert_array_equal(view, want, err_msg=f"{scheme} offset {offset}")


# ---- threads, shards, layouts ----------------------------------------------------------

@pytest.mark.parametrize("scheme", ["uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("fmt", NARROW)
def test_thread_count_does_not_change_bytes(on_threads, scheme, fmt):
    n = (1 << 20) + 7
    want = rounded(f32_fill(n, scheme, seed=42), fmt)
    for threads in (1, 2, 3, 8):
        np.testing.assert_array_equal(on_threads(threads, narrow_fill, n, fmt, scheme, seed=42),
                                      want)


@pytest.mark.parametrize("scheme, params", [("he_normal", {}), ("glorot_uniform", {}),
                                            ("truncated_normal", {}), ("constant", {"value": 0.1}),
                                            ("orthogonal", {"layout": "torch"})])
@pytest.mark.parametrize("fmt", NARROW)
def test_shards_equal_the_whole(scheme, params, fmt):
    shape = (12, 10, 6)
    whole = narrow_fill(shape, fmt, scheme, stream="t", **params)
    np.testing.assert_array_equal(whole, rounded(f32_fill(shape, scheme, stream="t", **params),
                                                 fmt))
    out = np.zeros(shape, np.uint16)
    for origin in itertools.product((0, 5), (0, 4), (0, 3)):
        box = tuple(slice(o, o + c) for o, c in zip(origin, (5 if origin[0] == 0 else 7,
                                                             4 if origin[1] == 0 else 6, 3)))
        out[box] = narrow_fill([s.stop - s.start for s in box], fmt, scheme, stream="t",
                               global_shape=shape, origin=origin, **params)
    np.testing.assert_array_equal(out, whole)


def test_fortran_order_and_transposed_arrays_hold_the_same_values():
    for scheme in ("uniform", "normal", "orthogonal"):
        c_order = fastinit.fill(np.empty((33, 47), np.float16), scheme, seed=1)
        f_order = fastinit.fill(np.empty((33, 47), np.float16, order="F"), scheme, seed=1)
        transposed = np.empty((47, 33), np.float16)
        fastinit.fill(transposed.T, scheme, seed=1)
        np.testing.assert_array_equal(f_order, c_order)
        np.testing.assert_array_equal(transposed.T, c_order)


# ---- the distributions survive the rounding ----------------------------------------------

def bf16_values(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)  # exact


def bf16_midpoint_above(x):
    """The float32 midpoint between bfloat16 value x (> 0) and the next one up."""
    b = int(rounded(as_f32([x]), "bfloat16")[0])
    return float(bf16_values(np.array([b], np.uint16))[0] + bf16_values(
        np.array([b + 1], np.uint16))[0]) / 2


def test_bfloat16_normal_has_its_tails():
    # A generator that draws in bfloat16 can lose the tails; rounding float32 values
    # must keep them. Values whose bfloat16 is beyond the bfloat16 value t nearest 4
    # (4.5) are the float32 values beyond t's midpoint to the next one up: each tail's
    # count is binomial(N, sf(midpoint)); allow 5 standard deviations.
    n = 10**7
    x = bf16_values(narrow_fill(n, "bfloat16", "normal", seed=2024))
    for level in (4.0, 4.5):
        t = float(bf16_values(rounded(as_f32([level]), "bfloat16"))[0])
        p = scipy.stats.norm.sf(bf16_midpoint_above(t))
        for count in ((x > t).sum(), (x < -t).sum()):
            assert abs(count - n * p) < 5 * math.sqrt(n * p * (1 - p)), (level, count, n * p)
    assert x.min() < -4.5 and x.max() > 4.5


def test_bfloat16_truncated_normal_has_no_pile_up_at_its_bounds():
    # std 0.01 cut at +-2 std: the largest bfloat16 value b holds the float32 values
    # between its midpoint to the one below and the bound 0.02; as many as the
    # truncated normal puts there, not the pile a clamp or rejection would leave.
    n = 10**7
    bits = narrow_fill(n, "bfloat16", "truncated_normal", seed=7, std=0.01, bound=2.0)
    x = bf16_values(bits)
    bound = float(np.float32(0.01) * np.float32(2.0))
    top = float(bf16_values(rounded(as_f32([bound]), "bfloat16"))[0])
    assert x.max() == top and x.min() == -top
    below = float(bf16_values(rounded(as_f32([top]), "bfloat16") - 1)[0])
    dist = scipy.stats.truncnorm(-2, 2, scale=0.01)
    p = dist.cdf(bound) - dist.cdf((top + below) / 2)
    sd = math.sqrt(n * p * (1 - p))
    for count in ((x == top).sum(), (x == -top).sum()):
        assert abs(count - n * p) < 5 * sd, (count, n * p)


# ---- dtypes: the table, lookup, refusals ----------------------------------------------

def test_the_table_has_numpys_sizes_and_other_libraries_names():
    assert _dtypes.NAMES == ("float32", "float64", "bfloat16", "float16")
    for row in _dtypes.BY_NAME.values():
        assert _engine.DTYPES[row.name] == (row.code, row.itemsize, row.draws)
        if row.numpy_module == "numpy":
            assert row.numpy() == np.dtype(row.name) and row.itemsize == row.numpy().itemsize
    assert [r.safetensors for r in _dtypes.BY_NAME.values()] == ["F32", "F64", "BF16", "F16"]
    assert [r.params for r in _dtypes.BY_NAME.values()] == ["float32", "float64", "float32",
                                                            "float32"]


@pytest.mark.parametrize("given, name", [("float32", "float32"), ("bfloat16", "bfloat16"),
                                         (np.float16, "float16"), (np.dtype("f8"), "float64"),
                                         ("f4", "float32"), ("half", "float16"),
                                         (_dtypes.BFLOAT16, "bfloat16")])
def test_lookup_takes_names_and_numpy_dtypes(given, name):
    assert _dtypes.lookup(given).name == name


def test_lookup_takes_ml_dtypes_and_torch_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    torch = pytest.importorskip("torch")
    assert _dtypes.lookup(ml_dtypes.bfloat16) is _dtypes.BFLOAT16
    assert _dtypes.lookup(np.dtype(ml_dtypes.bfloat16)) is _dtypes.BFLOAT16
    for row in _dtypes.BY_NAME.values():
        assert _dtypes.lookup(getattr(torch, row.torch)) is row
    assert _dtypes.lookup(torch.half) is _dtypes.FLOAT16
    for bad in (torch.int8, torch.float8_e4m3fn, torch.complex64):
        with pytest.raises(TypeError, match="bfloat16 or float16; dtype is torch"):
            _dtypes.lookup(bad)


@pytest.mark.parametrize("bad", [np.int8, np.int16, np.uint16, np.complex64, object, bool,
                                 np.longdouble, "bf16", "int8", None, [1], np.dtype(">f4")])
def test_lookup_refuses_other_dtypes_listing_the_supported_ones(bad):
    with pytest.raises(TypeError, match="float32, float64, bfloat16 or float16|byte order"):
        _dtypes.lookup(bad)


PATTERN = 0x5A  # bytes a refused fill must leave as they are


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint16, np.int32, np.complex64,
                                   np.longdouble, bool])
def test_other_dtypes_are_refused_and_nothing_is_written(dtype):
    a = np.zeros(64, dtype)
    a.view(np.uint8)[...] = PATTERN
    for scheme in ("he_normal", "zeros", "orthogonal"):
        with pytest.raises(TypeError, match="writes float32, float64, bfloat16 or float16"):
            fastinit.fill(a.reshape(8, 8), scheme, seed=1)
    assert (a.view(np.uint8) == PATTERN).all()


def test_float8_and_other_ml_dtypes_are_refused():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for dtype in (ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2):
        a = np.zeros(16, dtype)
        a.view(np.uint8)[...] = PATTERN
        with pytest.raises(TypeError, match="float16; the array.s dtype is float8"):
            fastinit.fill(a, "uniform", seed=1)
        assert (a.view(np.uint8) == PATTERN).all()


@pytest.mark.parametrize("out, dtype, error", [
    (np.zeros(8, np.uint8), "bfloat16", TypeError), (np.zeros(8, np.float32), "float16", TypeError),
    (np.zeros(8, ">u2"), "bfloat16", TypeError), (np.zeros(8, np.uint16), "int16", TypeError),
    ([0] * 8, "float16", TypeError), (np.zeros(8, np.uint16), "float8", TypeError)])
def test_fill_as_refuses_what_it_cannot_write(out, dtype, error):
    before = np.array(out).copy()
    with pytest.raises(error):
        _fill.fill_as(out, dtype, "uniform", {}, 1, 0, 1, None, None)
    np.testing.assert_array_equal(np.array(out), before)


def test_fill_as_refuses_a_read_only_array():
    out = np.zeros(8, np.uint16)
    out.flags.writeable = False
    for scheme in ("uniform", "zeros"):
        with pytest.raises(ValueError, match="read-only"):
            _fill.fill_as(out, "bfloat16", scheme, {}, 1, 0, 1, None, None)
    assert not out.any()


# ---- sample and imports ------------------------------------------------------------------

def test_sample_makes_float16_arrays():
    h = fastinit.sample((30, 20), "glorot_uniform", dtype="float16", seed=4)
    assert h.dtype == np.float16
    np.testing.assert_array_equal(h.view(np.uint16), narrow_fill((30, 20), "float16",
                                                                 "glorot_uniform", 4, 0))
    gen = fastinit.Generator(4)
    np.testing.assert_array_equal(gen.sample((30, 20), "glorot_uniform", dtype=np.float16,
                                             name=0), h)


def test_sample_makes_ml_dtypes_bfloat16_arrays():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for dtype in ("bfloat16", ml_dtypes.bfloat16):
        b = fastinit.sample((30, 20), "he_normal", dtype=dtype, seed=4, stream="w")
        assert b.dtype == np.dtype(ml_dtypes.bfloat16)
        np.testing.assert_array_equal(b.view(np.uint16), narrow_fill(
            (30, 20), "bfloat16", "he_normal", 4, fastinit._streams.stream_id("w")))


def test_sample_of_bfloat16_without_ml_dtypes_says_what_to_install():
    run = run_python("import sys; sys.modules['ml_dtypes'] = None\n"
                     "import fastinit\n"
                     "try:\n"
                     "    fastinit.sample(4, 'zeros', dtype='bfloat16', seed=1)\n"
                     "except ImportError as e:\n"
                     "    print('ImportError:', e)")
    assert "ImportError: bfloat16 arrays need the ml_dtypes package" in run.stdout, run.stderr
    assert "pip install ml_dtypes" in run.stdout


def test_narrow_fills_import_no_optional_package():
    run = run_python("import sys, numpy as np, fastinit\n"
                     "from fastinit import _fill\n"
                     "fastinit.sample(4, 'he_normal', dtype='float16', seed=1)\n"
                     "_fill.fill_as(np.empty(4, np.uint16), 'bfloat16', 'zeros', {}, 1, 0, 1, "
                     "None, None)\n"
                     "print(sorted(m for m in ('ml_dtypes', 'torch', 'jax') if m in sys.modules))")
    assert run.stdout.strip() == "[]", run.stderr
