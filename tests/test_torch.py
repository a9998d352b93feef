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


def test_a_meta_tensor_is_refused_with_the_ways_to_give_it_memory():
    with pytest.raises(TypeError, match=r"meta device.*to_empty\(device='cpu'\).*materialize"):
        fastinit.fill(torch.empty(4, 4, device="meta"), "uniform", seed=1)


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
    ("fan_in_uniform", {"layout": "torch"}), ("lecun_normal", {"truncated": True}),
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
        assert same_bits(view, float32_fill_cast(tuple(view.shape), "he_normal", dtype, seed=3))
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


def test_an_expanded_tensor_is_refused_and_nothing_is_written():
    # Its rows share memory: threads would race to write them (issue 14).
    base = torch.zeros(16)
    with pytest.raises(ValueError, match=r"share memory.*stride 0.*expand\(\).*contiguous"):
        fastinit.fill(base.expand(1 << 20, 16), "glorot_uniform", seed=0)
    assert (base == 0).all()
    as_strided = torch.zeros(10).as_strided((3, 3), (2, 1))
    with pytest.raises(ValueError, match="share memory"):
        fastinit.fill(as_strided, "normal", seed=0)
