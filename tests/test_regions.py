"""docs/stream.md, "Regions": values depend on logical indices only, never on
layout, strides or sharding."""
import itertools

import numpy as np
import pytest

import fastinit
from conftest import filled

SCHEMES = ["uniform", "normal", "truncated_normal"]
SHAPE = (6, 7, 5)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shards_equal_the_whole(scheme, dtype):
    whole = filled(SHAPE, scheme, dtype, seed=10, stream="w")
    for cuts in [(2, 3, 2), (4, 1, 5), (1, 7, 3)]:
        out = np.full(SHAPE, np.nan, dtype=dtype)
        starts = [range(0, n, c) for n, c in zip(SHAPE, cuts)]
        for origin in itertools.product(*starts):
            box = tuple(slice(o, min(o + c, n)) for o, c, n in zip(origin, cuts, SHAPE))
            shard = np.empty([s.stop - s.start for s in box], dtype=dtype)
            fastinit.fill(shard, scheme, seed=10, stream="w", global_shape=SHAPE, origin=origin)
            out[box] = shard
        np.testing.assert_array_equal(out, whole)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fortran_order_holds_the_same_values(scheme, dtype):
    c_order = filled(SHAPE, scheme, dtype, seed=1)
    f_order = filled(SHAPE, scheme, dtype, order="F", seed=1)
    assert f_order.flags.f_contiguous
    np.testing.assert_array_equal(f_order, c_order)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_views_hold_the_values_of_their_shape(scheme, dtype):
    big = np.full((40, 50), np.nan, dtype=dtype)
    for index in [np.s_[2:38:3, 45:1:-2], np.s_[::-1, ::7], np.s_[5, 3:40]]:
        big[...] = np.nan
        view = big[index]
        fastinit.fill(view, scheme, seed=2)
        np.testing.assert_array_equal(view, filled(view.shape, scheme, dtype, seed=2))
        outside = np.ones(big.shape, bool)
        outside[index] = False
        assert np.isnan(big[outside]).all(), "fill wrote outside the view"


def test_transposed_view_is_filled_in_its_own_logical_order():
    a = np.zeros((30, 20))
    fastinit.fill(a.T, "uniform", seed=3)
    np.testing.assert_array_equal(a.T, filled((20, 30), "uniform", np.float64, seed=3))


def test_long_1d_shards_across_group_boundaries():
    n = 10_000
    whole = filled(n, "normal", seed=4)
    for start, stop in [(0, 1), (1, 2), (63, 65), (64, 128), (129, 9000), (9999, 10_000)]:
        part = np.empty(stop - start, np.float32)
        fastinit.fill(part, "normal", seed=4, global_shape=(n,), origin=(start,))
        np.testing.assert_array_equal(part, whole[start:stop])


def test_zero_dim_and_empty_arrays():
    scalar = np.zeros((), np.float32)
    fastinit.fill(scalar, "uniform", seed=5)
    assert scalar == filled(1, "uniform", seed=5)[0]
    empty = np.zeros((3, 0, 4), np.float32)
    assert fastinit.fill(empty, "normal", seed=5) is empty


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_memmap_is_filled_in_place(tmp_path, dtype):
    path = tmp_path / "weights.bin"
    m = np.memmap(path, dtype=dtype, mode="w+", shape=(300, 200))
    assert fastinit.fill(m, "normal", seed=6) is m
    m.flush()
    on_disk = np.fromfile(path, dtype=dtype).reshape(300, 200)
    np.testing.assert_array_equal(on_disk, filled((300, 200), "normal", dtype, seed=6))


def test_array_array_is_filled_in_place():
    import array
    buf = array.array("d", [0.0] * 100)
    assert fastinit.fill(buf, "uniform", seed=7) is buf
    np.testing.assert_array_equal(np.frombuffer(buf), filled(100, "uniform", np.float64, seed=7))


def test_unaligned_buffer():
    raw = np.zeros(4 * 101 + 1, np.uint8)
    view = raw[1:].view(np.float32)  # not 4-byte aligned
    fastinit.fill(view, "uniform", seed=8)
    np.testing.assert_array_equal(view, filled(101, "uniform", seed=8))


@pytest.mark.parametrize("scheme, params", [("he_normal", {}), ("glorot_uniform", {}),
                                            ("lecun_normal", {"truncated": True}),
                                            ("variance_scaling", {"mode": "fan_avg"}),
                                            ("fan_in_uniform", {"layout": "torch"}),
                                            ("constant", {"value": 0.25}),
                                            ("orthogonal", {"layout": "torch"})])
def test_shards_of_a_scheme_take_the_fans_of_the_whole(scheme, params):
    shape = (12, 10, 6)
    whole = filled(shape, scheme, seed=3, stream="t", **params)
    out = np.full(shape, np.nan, np.float32)
    for origin in itertools.product((0, 5), (0, 4), (0, 3)):
        box = tuple(slice(o, o + c) for o, c in zip(origin, (5 if origin[0] == 0 else 7,
                                                             4 if origin[1] == 0 else 6, 3)))
        shard = np.empty([s.stop - s.start for s in box], np.float32)
        fastinit.fill(shard, scheme, seed=3, stream="t", global_shape=shape, origin=origin,
                      **params)
        out[box] = shard
    np.testing.assert_array_equal(out, whole)
