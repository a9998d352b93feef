"""STREAM.md, "normal" and "truncated normal": against a float64 model, and
distribution tests. fastinit uses its own log/sin/cos/erfinv (so every path
agrees to the bit); the model uses libm and scipy, hence a tolerance."""
import numpy as np
import pytest
from scipy import stats

import stream_model
from conftest import filled

# |fastinit - model| <= TOL * max(1, |model|): a few ulp of the target dtype.
TOL = {np.float32: 2.0**-20, np.float64: 2.0**-48}


def assert_close(got, expected, dtype):
    err = np.abs(got.astype(np.float64) - expected) / np.maximum(1.0, np.abs(expected))
    assert err.max() <= TOL[dtype], f"max relative error {err.max():.3g} at {err.argmax()}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.5, 0.02)])
def test_normal_equals_model(dtype, mean, std):
    n = 100_003
    got = filled(n, "normal", dtype, seed=123, stream=9, mean=mean, std=std)
    expected = stream_model.normal(123, 9, 0, n, dtype, dtype(mean), dtype(std))
    assert_close(got, expected, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bound", [2.0, 0.5, 6.0])
def test_truncated_normal_equals_model(dtype, bound):
    n = 100_003
    got = filled(n, "truncated_normal", dtype, seed=77, stream=1, bound=bound)
    expected = stream_model.truncated_normal(77, 1, 0, n, dtype, 0.0, 1.0, bound)
    assert_close(got, expected, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_ks(dtype):
    got = filled(1 << 20, "normal", dtype, seed=2024, mean=1.0, std=3.0)
    assert stats.kstest(got, stats.norm(1.0, 3.0).cdf).pvalue > 1e-4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_truncated_normal_ks(dtype):
    got = filled(1 << 20, "truncated_normal", dtype, seed=2025, mean=-1.0, std=0.5, bound=2.0)
    dist = stats.truncnorm(-2.0, 2.0, loc=-1.0, scale=0.5)
    assert stats.kstest(got, dist.cdf).pvalue > 1e-4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bound", [0.01, 1.0, 2.0, 3.5])
def test_truncated_normal_stays_within_bound(dtype, bound):
    got = filled(1 << 18, "truncated_normal", dtype, seed=3, mean=0.0, std=1.0, bound=bound)
    assert np.abs(got).max() <= dtype(bound)


@pytest.mark.parametrize("dtype, limit", [(np.float32, 5.9), (np.float64, 8.7)])
def test_normal_is_finite_and_bounded(dtype, limit):
    got = filled(1 << 20, "normal", dtype, seed=8)
    assert np.all(np.isfinite(got)) and np.abs(got).max() <= limit
