"""Parameters whose values the array's dtype cannot hold are refused, naming the argument
the caller gave that made it so, with nothing written (docs/stream.md, "Parameters"): a
scale that rounds to 0 in the dtype (every value would be the same) or values past its
largest finite value (they would be written as infinities). The limits are those of
the array's own dtype, bfloat16 and float16 included, and the boundaries are exact."""
import math
import re

import numpy as np
import pytest

import fastinit
import stream_model
from fastinit import _dtypes, _fill, _params

SENTINEL = 0x5A
F32_MAX = float(np.finfo(np.float32).max)


def fill(dtype, scheme, shape=(16, 8), **params):
    """A fill of a fresh buffer of SENTINEL bytes (bfloat16 through _fill.fill_as, on raw
    bits); returns the buffer, or raises what the fill raised after checking that
    nothing was written."""
    row = _dtypes.lookup(dtype)
    out = np.full(shape, SENTINEL, np.uint8).repeat(row.itemsize, -1).view(row.bits)
    try:
        if row.name == "bfloat16":
            return _fill.fill_as(out, row, scheme, params, 1, 0, 1, None, None)
        return fastinit.fill(out.view(row.name), scheme, seed=1, **params)
    except (TypeError, ValueError):
        assert (out.view(np.uint8) == SENTINEL).all(), "a refused fill wrote"
        raise


# (dtype, scheme, parameters, what the message must name)
UNDERFLOWS = [
    ("float32", "glorot_uniform", dict(gain=1e-320), "gain=1e-320"),
    ("float32", "glorot_normal", dict(gain=1e-320), "gain=1e-320"),
    ("float32", "glorot_normal", dict(gain=1e-45, truncated=True), "gain=1e-45"),
    ("float32", "fan_in_uniform", dict(gain=1e-40, fan_in=2**62), "gain=1e-40"),
    ("float32", "variance_scaling", dict(scale=1e-300), "scale=1e-300"),
    ("float32", "normal", dict(std=1e-50), "std=1e-50"),
    ("float32", "uniform", dict(low=-1e-50, high=1e-50), "high=1e-50"),
    ("float32", "truncated_normal", dict(bound=1e-50), "bound=1e-50"),
    ("float32", "orthogonal", dict(gain=1e-50), "gain=1e-50"),
    ("float16", "glorot_normal", dict(gain=1e-10), "gain=1e-10"),
    ("float16", "glorot_uniform", dict(fan_in=2**62), "fan_in=2**62"),
    ("float16", "uniform", dict(low=-1e-40, high=1e-40), "high=1e-40"),
    ("float16", "normal", dict(std=2.0**-26), "std="),
    ("bfloat16", "normal", dict(std=1e-45), "std=1e-45"),  # 1e-45 is a float32 subnormal
    ("float64", "glorot_normal", dict(gain=1e-320, fan_in=2**60), "gain=1e-320"),
]


@pytest.mark.parametrize("dtype, scheme, params, named", UNDERFLOWS, ids=str)
def test_a_scale_that_rounds_to_zero_is_refused_naming_the_argument(dtype, scheme, params,
                                                                      named):
    with pytest.raises(ValueError, match=rf"^{scheme}: .* rounds to 0 in {dtype}, whose least "
                                         rf"positive value is .*; from {re.escape(named)}"):
        fill(dtype, scheme, **params)


OVERFLOWS = [
    ("float32", "normal", dict(mean=3e38, std=1e38), "std=1e+38"),
    ("float32", "glorot_uniform", dict(gain=1e300), "gain=1e+300"),
    ("float32", "fan_in_uniform", dict(gain=4e38, fan_in=1), "gain=4e+38"),
    ("float32", "truncated_normal", dict(mean=3e38, std=3e37, bound=2.0), "mean=3e+38, std="),
    ("float16", "normal", dict(mean=60000.0, std=4000.0), "mean=60000.0, std=4000.0"),
    ("float16", "glorot_normal", dict(gain=1e5), "gain=100000.0"),
    ("float16", "uniform", dict(low=0.0, high=70000.0), "high=70000.0"),
    ("float16", "constant", dict(value=70000.0), "value=70000.0"),
    ("float16", "orthogonal", dict(gain=1e5), "gain=100000.0"),
    # neither bound alone: each would leave a value of 3.4e38 (mid + half)
    ("bfloat16", "uniform", dict(low=-3.4e38, high=3.4e38), "low=-3.4e+38, high=3.4e+38"),
    ("float64", "variance_scaling", dict(gain=1e300, scale=1e300), "gain=1e+300, scale="),
]


@pytest.mark.parametrize("dtype, scheme, params, named", OVERFLOWS, ids=str)
def test_values_past_the_largest_finite_value_are_refused_naming_the_argument(
        dtype, scheme, params, named):
    with pytest.raises(ValueError, match=rf"^{scheme}: .*past {dtype}'s largest finite value "
                                         rf".*; from {re.escape(named)}"):
        fill(dtype, scheme, **params)


def test_the_message_names_no_parameter_the_scheme_computed():
    # glorot_normal's std is not what the caller gave.
    with pytest.raises(ValueError) as refused:
        fill("float32", "glorot_normal", gain=1e-320)
    assert "std=" not in str(refused.value) and "gain=1e-320" in str(refused.value)


def below(x, dtype=np.float32):
    return float(np.nextafter(dtype(x), dtype(0)))


def above(x, dtype=np.float32):
    return float(np.nextafter(dtype(x), dtype(np.inf)))


def infinite_in(dtype, x):
    """Whether the float32 value x rounds to infinity in dtype: NumPy's cast for float16;
    for bfloat16, x at least 2^128 - 2^119, halfway from its largest value 0x7f7f to
    2^128, a tie that goes to the even neighbour, infinity (ml_dtypes agrees: below)."""
    with np.errstate(over="ignore"):
        return bool(np.isinf(np.float16(x)) if dtype == "float16"
                    else abs(x) >= 2.0**128 - 2.0**119)


# A narrow value is its float32 value rounded (docs/stream.md, "Narrow formats"), so it is
# infinite where the float32 value reaches the narrow overflow threshold T, and the float32
# value is rounded itself: an exact mean + z * std from half a float32 step below T on
# rounds to T. mean is the float32 just below T, std such that |mean| + 5.9 std < T.
NARROW_T = {"float16": 65520.0, "bfloat16": 2.0**128 - 2.0**119}


def just_below_narrow_overflow(dtype):
    step = float(np.spacing(np.float32(NARROW_T[dtype] / 2))) * 2  # float32's step below T
    mean, std = NARROW_T[dtype] - step, 0.95 * step / 5.9
    assert mean + 5.9 * std < NARROW_T[dtype]  # what the exact bound alone accepted
    return mean, std


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_normal_whose_float32_values_round_up_to_the_narrow_overflow_is_refused(dtype):
    mean, std = just_below_narrow_overflow(dtype)
    values = fastinit.fill(np.empty(1 << 16, np.float32), "normal", mean=mean, std=std, seed=1)
    assert any(infinite_in(dtype, float(v)) for v in values[values >= NARROW_T[dtype]])
    with pytest.raises(ValueError, match=f"past {dtype}'s largest finite value"):
        fill(dtype, "normal", mean=mean, std=std)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_an_orthogonal_gain_whose_float32_value_rounds_to_the_narrow_overflow_is_refused(dtype):
    gain = NARROW_T[dtype] * (1 - 2.0**-30)  # below T; in float32, T itself
    assert infinite_in(dtype, float(np.float32(gain)))
    with pytest.raises(ValueError, match=f"past {dtype}'s largest finite value.*gain="):
        fill(dtype, "orthogonal", shape=(1, 1), gain=gain)  # Q = [[+-1]]: the value is +-gain


@pytest.mark.parametrize("dtype, threshold", [("float16", 65520.0),
                                              ("bfloat16", 2.0**128 - 2.0**119)])
def test_uniform_is_refused_exactly_when_a_value_would_be_infinite(dtype, threshold):
    # The extreme values are half * (1 - 2^-24), computed in float32 (mid = 0): around
    # the threshold, each half is refused iff that value rounds to infinity in dtype.
    halves = [threshold]
    for _ in range(3):
        halves = [below(halves[0])] + halves + [above(halves[-1])]
    outcomes = set()
    for half in halves:
        extreme = np.float32(half) * np.float32(1 - 2.0**-24)
        if infinite_in(dtype, extreme):
            with pytest.raises(ValueError, match="past"):
                fill(dtype, "uniform", low=-half, high=half)
        else:
            fill(dtype, "uniform", low=-half, high=half)
        outcomes.add(infinite_in(dtype, extreme))
    assert outcomes == {True, False}


@pytest.mark.parametrize("dtype, tiny", [("float16", 2.0**-24), ("bfloat16", 2.0**-133),
                                         ("float32", 2.0**-149)])
def test_a_scale_is_refused_exactly_when_it_rounds_to_zero(dtype, tiny):
    # Half the least subnormal is a tie, which rounds to the even neighbour: 0.
    for scheme, params in (("normal", lambda x: dict(std=x)),
                           ("uniform", lambda x: dict(low=-x, high=x))):
        with pytest.raises(ValueError, match="rounds to 0"):
            fill(dtype, scheme, **params(tiny / 2))
        fill(dtype, scheme, **params(above(tiny / 2)))
        assert fill(dtype, scheme, shape=(1 << 12,), **params(tiny)).any()


def test_low_equal_to_high_is_a_constant_not_an_underflow():
    got = fill("float16", "uniform", low=0.5, high=0.5)
    assert (got.view(np.float16) == 0.5).all()


def test_the_normal_bound_is_above_the_largest_z_the_stream_gives():
    # docs/stream.md: |z| <= r = sqrt(-2 ln u) with u >= 2^-(p+1), the least u.
    for dtype, p in (("float32", 24), ("float64", 53)):
        r = math.sqrt(-2 * math.log(2.0 ** -(p + 1)))
        assert r < _params.NORMAL_Z_MAX[dtype] < 1.01 * r
    got = stream_model.normal(3, 0, 0, 1 << 16, np.float32, 0.0, 1.0)
    assert np.abs(got).max() < float(_params.NORMAL_Z_MAX["float32"])


def test_the_normal_is_refused_only_near_its_bound():
    limit = F32_MAX / float(_params.NORMAL_Z_MAX["float32"])
    fill("float32", "normal", std=0.999 * limit)
    with pytest.raises(ValueError, match="past float32's largest"):
        fill("float32", "normal", std=1.001 * limit)


def test_the_dtype_table_has_each_formats_limits():
    for row in _dtypes.BY_NAME.values():
        if row.numpy_module == "numpy":
            info = np.finfo(row.name)
            assert (row.digits, row.max_exp) == (info.nmant + 1, info.maxexp)
            assert (row.max, row.tiny) == (float(info.max), float(info.smallest_subnormal))
    assert (_dtypes.BFLOAT16.digits, _dtypes.BFLOAT16.max_exp) == (8, 128)
    # the overflow threshold: the least value that rounds to infinity
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(_dtypes.FLOAT16.overflow))
        assert np.float16(below(_dtypes.FLOAT16.overflow)) == _dtypes.FLOAT16.max
        assert np.isinf(np.float32(float(_dtypes.FLOAT32.overflow)))
        assert np.float32(below(float(_dtypes.FLOAT32.overflow), np.float64)) == F32_MAX


def test_bfloat16_limits_are_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    info, row = ml_dtypes.finfo(ml_dtypes.bfloat16), _dtypes.BFLOAT16
    assert (row.digits, row.max_exp) == (info.nmant + 1, info.maxexp)
    assert (row.max, row.tiny) == (float(info.max), float(info.smallest_subnormal))
    threshold = np.float32(row.overflow)
    assert np.isinf(threshold.astype(ml_dtypes.bfloat16).astype(np.float32))
    assert np.float32(below(row.overflow)).astype(ml_dtypes.bfloat16) == info.max
