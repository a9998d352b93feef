"""docs/stream.md, "uniform(low, high)": exact to the bit against the model."""
import numpy as np
import pytest

import fastinit
import stream_model
from conftest import filled


CASES = [(-1.0, 1.0), (0.0, 1.0), (-0.0625, 0.0625), (2.5, 7.25), (-3.0, -1e-3), (0.1, 0.7), (1e-30, 3e-30),
         # the kernels' shortcuts (kernels_impl.h, uniform_form) must not show: half 2^-p
         # subnormal (float32, float64), half = 0, half near the largest float32
         (-1e-40, 1e-40), (-1e-300, 1e-300), (0.0, 0.0), (0.5, 0.5), (-3e38, 3e38)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("low, high", CASES)
def test_uniform_is_exact(dtype, low, high):
    n, seed, stream = 5003, 99, 7
    mid, half = stream_model.mid_half(low, high, dtype)
    expected = stream_model.uniform(seed, stream, 0, n, dtype, mid, half)
    got = filled(n, "uniform", dtype, seed=seed, stream=stream, low=low, high=high)
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_values_lie_within_bounds(dtype):
    got = filled(1 << 18, "uniform", dtype, seed=1, low=-0.5, high=0.25)
    assert got.min() >= -0.5 and got.max() <= 0.25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_symmetric_uniform_is_symmetric_about_zero(dtype):
    # s = (2k + 1 - 2^p) 2^-p: the stream never produces 0 and maps k <-> 2^p-1-k to -s.
    got = filled(1 << 16, "uniform", dtype, seed=4, low=-1.0, high=1.0)
    assert not np.any(got == 0)


def test_uniform_ks():
    from scipy import stats
    got = filled(1 << 20, "uniform", np.float64, seed=11, low=-2.0, high=3.0)
    assert stats.kstest(got, stats.uniform(-2.0, 5.0).cdf).pvalue > 1e-4
