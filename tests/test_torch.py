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


def test_a_fill_bumps_the_version_so_autograd_sees_the_change():
    # As torch's own in-place ops: a graph that saved the old values refuses to run back.
    w = torch.nn.Parameter(torch.ones(4))
    loss = (w * w).sum()
    before = w._version
    fastinit.fill(w, "normal", seed=0)
    assert w._version > before
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    view = torch.ones(6, dtype=torch.bfloat16)
    before = view._version
    fastinit.fill(view[1:4], "uniform", seed=0)  # a view shares its base's counter
    assert view._version > before


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


# ---- bfloat16 and float16 (docs/stream.md, "Narrow formats") --------------------------------

NARROW = [torch.bfloat16, torch.float16]


def float32_fill_cast(shape, scheme, dtype, **kw):
    """torch's own cast of the float32 fill: the reference for a narrow tensor."""
    return torch.from_numpy(fastinit.fill(np.empty(shape, np.float32), scheme, **kw)).to(dtype)


def same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    return torch.equal(a.contiguous().view(torch.int16), b.contiguous().view(torch.int16))


@pytest.mark.parametrize("dtype", NARROW)
@pytest.mark.parametrize("scheme, params", [
    ("he_normal", {"layout": "torch"}), ("glorot_uniform", {"layout": "torch"}),
    ("fan_in_uniform", {"layout": "torch"}), ("lecun_normal", {"truncated": True, "layout": "torch"}),
    ("truncated_normal", {"std": 0.02}), ("normal", {"std": 0.02}), ("uniform", {}),
    ("orthogonal", {"layout": "torch"}), ("constant", {"value": 0.1}), ("zeros", {}),
    ("ones", {})])
def test_narrow_tensors_hold_torchs_cast_of_the_float32_fill(dtype, scheme, params):
    w = torch.empty(48, 40, 3, dtype=dtype)
    assert fastinit.fill(w, scheme, seed=1, stream="w", **params) is w
    assert same_bits(w, float32_fill_cast((48, 40, 3), scheme, dtype, seed=1, stream="w",
                                          **params))


@pytest.mark.parametrize("dtype", NARROW)
def test_narrow_strided_and_transposed_views(dtype):
    for make in (lambda b: b.t(), lambda b: b.t()[::2], lambda b: b[3:30:4, 5:],
                 lambda b: b.permute(1, 0)[1::3, 2::2]):
        base = torch.full((40, 30), float("nan"), dtype=dtype)
        view = make(base)
        fastinit.fill(view, "he_normal", seed=3)
        assert same_bits(view, float32_fill_cast(tuple(view.shape), "he_normal", dtype, seed=3,
                                                 layout="torch"))  # a tensor's default
        outside = torch.ones(base.shape, dtype=torch.bool)
        make(outside)[...] = False
        assert base[outside].isnan().all(), "fill wrote outside the view"


@pytest.mark.parametrize("dtype", NARROW)
def test_narrow_parameters_that_require_grad_and_their_shards(dtype):
    layer = torch.nn.Linear(64, 96, dtype=dtype)
    assert fastinit.fill(layer.weight, "he_normal", layout="torch", seed=2) is layer.weight
    assert layer.weight.requires_grad
    assert same_bits(layer.weight.detach(), float32_fill_cast((96, 64), "he_normal", dtype,
                                                              layout="torch", seed=2))
    shard = torch.empty(48, 64, dtype=dtype)
    fastinit.fill(shard, "he_normal", layout="torch", seed=2, global_shape=(96, 64),
                  origin=(48, 0))
    assert same_bits(shard, layer.weight.detach()[48:])


@pytest.mark.parametrize("dtype", [torch.float32] + NARROW)
@pytest.mark.parametrize("layout", ["to_sparse", "to_sparse_csr"])
def test_a_tensor_without_strided_memory_is_refused_with_a_type_error(dtype, layout):
    # bfloat16 is viewed as int16 first (NumPy has no bfloat16): the same clear refusal.
    sparse = getattr(torch.zeros(4, 4, dtype=dtype), layout)()
    with pytest.raises(TypeError, match=r"through their NumPy view, and this tensor has none"):
        fastinit.fill(sparse, "uniform", seed=1)


def test_an_expanded_tensor_is_refused_and_nothing_is_written():
    # Its rows share memory: threads would race to write them (issue 14).
    base = torch.zeros(16)
    with pytest.raises(ValueError, match=r"share memory.*stride 0.*expand\(\).*contiguous"):
        fastinit.fill(base.expand(1 << 20, 16), "glorot_uniform", seed=0)
    assert (base == 0).all()
    as_strided = torch.zeros(10).as_strided((3, 3), (2, 1))
    with pytest.raises(ValueError, match="share memory"):
        fastinit.fill(as_strided, "normal", seed=0)
