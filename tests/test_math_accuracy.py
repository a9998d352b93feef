"""docs/stream.md: fastinit's own ln, sin, cos, erf and erfinv are within 4 ulp of
the exact result over the range the stream uses. References: float64 libm /
scipy for the float32 functions, mpmath at 200 bits for the float64 ones."""
import math

import mpmath
import numpy as np
import pytest
from scipy import special

from fastinit import _engine

mpmath.mp.prec = 200
MAX_ULP = 4.0
rng = np.random.default_rng(7)


def ulp_error(got, exact, dtype):
    """|got - exact| in units of the spacing of dtype at the exact value."""
    exact = np.asarray(exact, dtype=np.float64) if dtype == np.float32 else exact
    if dtype == np.float32:
        spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
        return np.abs(got.astype(np.float64) - exact) / spacing
    errs = []
    for g, e in zip(got, exact):
        spacing = mpmath.mpf(float(np.spacing(abs(float(e)))))
        errs.append(float(abs(mpmath.mpf(float(g)) - e) / spacing) if e != 0 else abs(float(g)) / 5e-324)
    return np.array(errs)


def mp_eval(fn, xs):
    return [fn(mpmath.mpf(float(x))) for x in xs]


def stream_uniforms(dtype, n):
    """u = (k + 0.5) 2^-p in dtype for random k, plus both ends of the range."""
    p = 24 if dtype == np.float32 else 53
    k = rng.integers(0, 2**p, n, dtype=np.uint64)
    k = np.concatenate([k, np.array([0, 1, 2, 2**(p - 1) - 1, 2**(p - 1), 2**p - 2, 2**p - 1], np.uint64)])
    return ((k.astype(dtype) + dtype(0.5)) * dtype(2.0**-p)).astype(dtype)


def neighbours(x, dtype, count):
    """x and `count` representable values on each side of it."""
    out = [dtype(x)]
    lo = hi = dtype(x)
    for _ in range(count):
        lo, hi = np.nextafter(lo, dtype(-np.inf)), np.nextafter(hi, dtype(np.inf))
        out += [lo, hi]
    return np.array(out, dtype)


def angles(dtype, n):
    """t = 2*pi*u in dtype, plus the values nearest the zeros of sin and cos."""
    t = (dtype(2 * math.pi) * stream_uniforms(dtype, n)).astype(dtype)
    hard = [neighbours(j * math.pi / 2, dtype, 50) for j in (1, 2, 3, 4)]
    t = np.concatenate([t, *hard, np.array([0, 2 * math.pi], dtype)])
    return t[(t >= 0) & (t <= dtype(2 * math.pi))]


def test_log_f32():
    u = stream_uniforms(np.float32, 200_000)
    err = ulp_error(_engine.eval_math("log", u), np.log(u.astype(np.float64)), np.float32)
    assert err.max() <= MAX_ULP, f"{err.max():.2f} ulp at u={u[err.argmax()]!r}"


def test_log_f64():
    u = stream_uniforms(np.float64, 3000)
    err = ulp_error(_engine.eval_math("log", u), mp_eval(mpmath.log, u), np.float64)
    assert err.max() <= MAX_ULP, f"{err.max():.2f} ulp at u={u[err.argmax()]!r}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_of_one_is_zero_and_never_positive(dtype):
    # Rounding can make u = 1 (k = 2^p - 1): then r = sqrt(-2 ln u) must be 0, not NaN.
    assert _engine.eval_math("log", np.array([1.0], dtype))[0] == 0.0
    assert (_engine.eval_math("log", stream_uniforms(dtype, 10_000)) <= 0).all()


@pytest.mark.parametrize("fn", ["sin", "cos"])
def test_sincos_f32(fn):
    t = angles(np.float32, 200_000)
    exact = getattr(np, fn)(t.astype(np.float64))
    err = ulp_error(_engine.eval_math(fn, t), exact, np.float32)
    assert err.max() <= MAX_ULP, f"{fn}: {err.max():.2f} ulp at t={t[err.argmax()]!r}"


@pytest.mark.parametrize("fn", ["sin", "cos"])
def test_sincos_f64(fn):
    t = angles(np.float64, 2000)
    err = ulp_error(_engine.eval_math(fn, t), mp_eval(getattr(mpmath, fn), t), np.float64)
    assert err.max() <= MAX_ULP, f"{fn}: {err.max():.2f} ulp at t={t[err.argmax()]!r}"


def erfinv_inputs(dtype, n):
    p = 24 if dtype == np.float32 else 53
    y = rng.uniform(-1, 1, n).astype(dtype)
    tails = np.array([1 - 2.0**-p, 1 - 2.0**-(p - 1), 1 - 2.0**-20, 0.999, 0.9, 0.5,
                      2.0**-20, 1e-30, 0.0], dtype)
    near_one = (1 - rng.uniform(0, 1e-3, n // 4)).astype(dtype)
    y = np.concatenate([y, tails, -tails, near_one, -near_one])
    return y[np.abs(y) < 1]


def test_erfinv_f32():
    y = erfinv_inputs(np.float32, 200_000)
    err = ulp_error(_engine.eval_math("erfinv", y), special.erfinv(y.astype(np.float64)), np.float32)
    assert err.max() <= MAX_ULP, f"{err.max():.2f} ulp at y={y[err.argmax()]!r}"


def test_erfinv_f64():
    y = erfinv_inputs(np.float64, 2000)
    err = ulp_error(_engine.eval_math("erfinv", y), mp_eval(mpmath.erfinv, y), np.float64)
    assert err.max() <= MAX_ULP, f"{err.max():.2f} ulp at y={y[err.argmax()]!r}"


def test_erf_f32():
    x = np.concatenate([rng.uniform(0, 6, 100_000), [0.0, 1e-20, 0.5, 1.0, 2.0, 10.0]]).astype(np.float32)
    err = ulp_error(_engine.eval_math("erf", x), special.erf(x.astype(np.float64)), np.float32)
    assert err.max() <= MAX_ULP, f"{err.max():.2f} ulp at x={x[err.argmax()]!r}"


def test_erf_f64():
    x = np.concatenate([rng.uniform(0, 6, 2000), [1e-300, 1e-20, 0.5, 0.84375, 1.25, 2.857, 6.0, 10.0]])
    err = ulp_error(_engine.eval_math("erf", x), mp_eval(mpmath.erf, x), np.float64)
    assert err.max() <= MAX_ULP, f"{err.max():.2f} ulp at x={x[err.argmax()]!r}"
