"""PyTorch CPU tensors are filled in place through their NumPy view. Skipped
when torch is not installed (it is an optional extra)."""
import numpy as np
import pytest

import fastinit

torch = pytest.importorskip("torch")


def test_tensor_is_filled_in_place_and_returned():
    w = torch.empty(64, 32)
    assert fastinit.fill(w, "he_normal", seed=1, layout="torch") is w
    expected = fastinit.fill(np.empty((64, 32), np.float32), "he_normal", seed=1, layout="torch")
    np.testing.assert_array_equal(w.numpy(), expected)


def test_parameters_that_require_grad():
    layer = torch.nn.Linear(20, 30)
    assert fastinit.fill(layer.weight, "fan_in_uniform", seed=2, layout="torch") is layer.weight
    assert layer.weight.requires_grad
    bound = 1 / 20 ** 0.5
    assert layer.weight.abs().max().item() <= bound


def test_non_contiguous_tensor_views():
    base = torch.zeros(40, 30, dtype=torch.float64)
    view = base.t()[::2]
    fastinit.fill(view, "uniform", seed=3)
    np.testing.assert_array_equal(view.numpy(),
                                  fastinit.fill(np.empty((15, 40)), "uniform", seed=3))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int8, torch.uint8, torch.bool,
                                   torch.complex64, torch.float8_e4m3fn])
def test_other_tensor_dtypes_are_refused(dtype):
    t = torch.zeros(8, dtype=dtype)
    with pytest.raises(TypeError, match=f"writes float32, float64, bfloat16 or float16; the "
                                        f"tensor's dtype is {dtype}"):
        fastinit.fill(t, "uniform", seed=1)
    assert (t.view(torch.uint8) == 0).all()
