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


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.int32])
def test_other_tensor_dtypes_are_refused(dtype):
    t = torch.zeros(8, dtype=dtype)
    with pytest.raises(TypeError, match="float32 or float64"):
        fastinit.fill(t, "uniform", seed=1)
    assert (t == 0).all()


def test_a_meta_tensor_is_refused_with_the_ways_to_give_it_memory():
    with pytest.raises(TypeError, match=r"meta device.*to_empty\(device='cpu'\).*materialize"):
        fastinit.fill(torch.empty(4, 4, device="meta"), "uniform", seed=1)


def test_a_tensor_on_another_device_is_refused_saying_gpus_are_not_supported_yet():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        on_gpu = torch.empty(4, 4, device="cuda")
    with pytest.raises(TypeError, match=r"cuda:0.*no GPU support yet.*\.to\('cuda:0'\)"):
        fastinit.fill(on_gpu, "uniform", seed=1)


@pytest.mark.parametrize("scheme", ["he_normal", "glorot_uniform", "fan_in_uniform",
                                    "orthogonal"])
def test_a_tensor_is_filled_in_pytorchs_layout_unless_layout_says_otherwise(scheme):
    conv = torch.empty(16, 8, 3, 3)  # (out, in, kh, kw): fan_in = 8 * 9, fan_out = 16 * 9
    fastinit.fill(conv, scheme, seed=5)
    torch_layout = fastinit.fill(np.empty((16, 8, 3, 3), np.float32), scheme, seed=5,
                                 layout="torch")
    np.testing.assert_array_equal(conv.numpy(), torch_layout)
    fastinit.fill(conv, scheme, seed=5, layout="keras")
    keras_layout = fastinit.fill(np.empty((16, 8, 3, 3), np.float32), scheme, seed=5)
    np.testing.assert_array_equal(conv.numpy(), keras_layout)
    assert not np.array_equal(torch_layout, keras_layout)


def test_the_torch_layout_default_leaves_schemes_without_a_layout_alone():
    t = torch.empty(10)
    fastinit.fill(t, "normal", seed=2, std=0.5)
    np.testing.assert_array_equal(t.numpy(), fastinit.fill(np.empty(10, np.float32), "normal",
                                                           seed=2, std=0.5))


@pytest.mark.parametrize("scheme, draw", [("he_uniform", "uniform"), ("he_normal", "normal")])
@pytest.mark.parametrize("a, nonlinearity, mode", [(5 ** 0.5, "leaky_relu", "fan_in"),
                                                   (0, "relu", "fan_out"),
                                                   (0.2, "leaky_relu", "fan_in")])
def test_he_is_kaiming_with_torchs_own_gain_and_fan(scheme, draw, a, nonlinearity, mode):
    w = torch.empty(32, 16, 3, 3)
    fan = torch.nn.init._calculate_correct_fan(w, mode)
    std = torch.nn.init.calculate_gain(nonlinearity, a) / fan ** 0.5  # as kaiming_* does
    params = ({"low": -(3.0 ** 0.5) * std, "high": (3.0 ** 0.5) * std} if draw == "uniform"
              else {"std": std})
    fastinit.fill(w, scheme, seed=4, a=a, nonlinearity=nonlinearity, mode=mode)
    want = fastinit.fill(np.empty((32, 16, 3, 3), np.float32), draw, seed=4, **params)
    np.testing.assert_array_equal(w.numpy(), want)
