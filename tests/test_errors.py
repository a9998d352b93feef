"""Bad input: a clear TypeError/ValueError naming the problem, and nothing written."""
import numpy as np
import pytest

import fastinit

SENTINEL = 12.5


def untouched(a):
    return bool(np.all(a == SENTINEL))


@pytest.fixture
def arr():
    return np.full((8, 3), SENTINEL, dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex64, np.uint8, bool, object])
def test_wrong_dtype(dtype):
    a = np.zeros(10, dtype=dtype)
    with pytest.raises(TypeError, match=r"writes float32, float64, bfloat16 or float16; "
                                        r"the array's dtype is"):
        fastinit.fill(a, "uniform", seed=1)
    assert not a.any()


def test_big_endian():
    a = np.zeros(10, dtype=">f4")
    with pytest.raises(TypeError, match="byte order"):
        fastinit.fill(a, "uniform", seed=1)


def test_read_only(arr):
    arr.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastinit.fill(arr, "uniform", seed=1)
    assert untouched(arr)


def test_read_only_memmap(tmp_path):
    path = tmp_path / "w.f32"
    np.zeros(10, np.float32).tofile(path)
    with pytest.raises(ValueError, match="read-only.*mode='r\\+'"):
        fastinit.fill(np.memmap(path, dtype=np.float32, mode="r"), "uniform", seed=1)


@pytest.mark.parametrize("obj", [[1.0, 2.0], 3.0, "abc", None, (1.0,)])
def test_not_a_buffer(obj):
    with pytest.raises(TypeError, match="in place"):
        fastinit.fill(obj, "uniform", seed=1)


@pytest.mark.parametrize("seed, exc", [(-1, ValueError), (2**64, ValueError), (1.5, TypeError),
                                       ("7", TypeError), (True, TypeError)])
def test_bad_seed(arr, seed, exc):
    with pytest.raises(exc, match="seed"):
        fastinit.fill(arr, "uniform", seed=seed)
    assert untouched(arr)


@pytest.mark.parametrize("stream, exc", [(-1, ValueError), (2**64, ValueError), (2.0, TypeError),
                                         (b"name", TypeError)])
def test_bad_stream(arr, stream, exc):
    with pytest.raises(exc, match="stream"):
        fastinit.fill(arr, "uniform", seed=1, stream=stream)
    assert untouched(arr)


def test_a_stream_name_utf8_cannot_encode_is_a_value_error_naming_stream(arr):
    with pytest.raises(ValueError, match=r"^stream '\\udcff' is not text that UTF-8 can encode"):
        fastinit.fill(arr, "uniform", seed=1, stream="\udcff")
    assert untouched(arr)


@pytest.mark.parametrize("seed, message", [
    (-1, r"^seed must be in \[0, 2\*\*64 - 1\], got -1$"),
    (2**64, r"^seed must be in \[0, 2\*\*64 - 1\], got 2\*\*64$"),
    (10**400, r"^seed must be in .*, got an integer of 401 digits$"),
    (1.5, r"^seed must be an integer in \[0, 2\*\*64 - 1\], got float 1.5$"),
    (True, r"^seed must be an integer .*, got a bool")])
def test_integer_messages_name_the_argument_its_range_and_the_value(arr, seed, message):
    with pytest.raises((TypeError, ValueError), match=message):
        fastinit.fill(arr, "uniform", seed=seed)


@pytest.mark.parametrize("call, message", [
    (lambda: fastinit.compute_fans((3, 2.5)), r"^shape\[1\] must be an integer >= 0"),
    (lambda: fastinit.compute_fans({3, 4}), r"^shape must be a tuple or list of ints"),
    (lambda: fastinit.sample((3, -1), "zeros"), r"^shape\[1\] must be >= 0, got -1$"),
    (lambda: fastinit.sample(2.0, "zeros"), r"^shape must be an integer >= 0, got float"),
    (lambda: fastinit.fill(np.zeros(3), "he_normal", seed=1, fan_in=2**63),
     r"^fan_in must be in \[1, 2\*\*63 - 1\], got 2\*\*63$"),
    (lambda: fastinit.fill(np.zeros(3), "uniform", seed=1, threads=np.float32(2)),
     r"^threads must be an integer >= 1, got float32 2.0$")])
def test_every_integer_argument_is_checked_the_same_way(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_a_released_memoryview_is_told_so():
    view = memoryview(bytearray(16)).cast("f")
    view.release()
    with pytest.raises(TypeError, match="memoryview was released"):
        fastinit.fill(view, "uniform", seed=1)


def test_seed_and_stream_limits_are_accepted(arr):
    fastinit.fill(arr, "uniform", seed=2**64 - 1, stream=2**64 - 1)
    assert not untouched(arr)


@pytest.mark.parametrize("count, start, exc", [(-1, 0, ValueError), (4, -1, ValueError),
                                               (4, 2**66, ValueError), (5, 2**66 - 4, ValueError),
                                               (2.0, 0, TypeError)])
def test_bad_raw_range(count, start, exc):
    with pytest.raises(exc, match="count|start"):
        fastinit.random_raw(count, seed=1, start=start)


@pytest.mark.parametrize("count", [2**64, 2**63, 2**61])
def test_a_count_past_what_an_array_holds_is_a_value_error_naming_count(count):
    with pytest.raises(ValueError, match=r"count = 2\*\*6\d words .* more than one NumPy array "
                                         r"can hold .* start="):
        fastinit.random_raw(count, seed=1)


@pytest.mark.parametrize("count, start, message", [
    (-1, 0, r"^count must be in \[0, 2\*\*66\], got -1$"),
    (2**67, 0, r"^count must be in \[0, 2\*\*66\], got 2\*\*67$"),
    (1.0, 0, r"^count must be an integer in \[0, 2\*\*66\], got float 1.0$"),
    (4, 2**66, r"^start must be in \[0, 2\*\*66 - 1\], got 2\*\*66$")])
def test_raw_range_messages_name_the_argument_and_its_range(count, start, message):
    with pytest.raises((TypeError, ValueError), match=message):
        fastinit.random_raw(count, seed=1, start=start)


@pytest.mark.parametrize("global_shape, origin", [((8, 2), None), ((8, 3, 1), (0, 0, 0)),
                                                  ((10, 3), (3, 0)), ((10, 3), (0,))])
def test_region_that_does_not_fit(arr, global_shape, origin):
    with pytest.raises(ValueError, match="global_shape|global shape|dimension"):
        fastinit.fill(arr, "uniform", seed=1, global_shape=global_shape, origin=origin)
    assert untouched(arr)


@pytest.mark.parametrize("global_shape, origin, message", [
    ((10, 3), (-1, 0), r"^origin\[0\] must be >= 0, got -1$"),
    ((10, -3), None, r"^global_shape\[1\] must be >= 0, got -3$")])
def test_negative_region_entries_are_named(arr, global_shape, origin, message):
    with pytest.raises(ValueError, match=message):
        fastinit.fill(arr, "uniform", seed=1, global_shape=global_shape, origin=origin)
    assert untouched(arr)


@pytest.mark.parametrize("global_shape, origin", [
    ({8: 0, 3: 0}, None), ({8, 3}, None), ((8, 3), {0: 0, 1: 0}), ((8, 3), {0, 1}),
    ("83", None), (8, None), ((8, 3), iter((0, 0))), ((8, 3.0), None), ((8, True), None),
    (np.array([8.0, 3.0]), None), (np.array([[8, 3]]), None)])
def test_regions_are_sequences_of_ints_only(arr, global_shape, origin):
    with pytest.raises(TypeError, match="global_shape|origin"):
        fastinit.fill(arr, "uniform", seed=1, global_shape=global_shape, origin=origin)
    assert untouched(arr)


@pytest.mark.parametrize("global_shape, origin", [
    ([8, 3], [0, 0]), (np.array([8, 3]), np.array([0, 0], np.uint64)),
    ((np.int32(8), np.int64(3)), (np.uint8(0), 0)), (range(8, 2, -5), [0, 0])])
def test_regions_take_lists_ranges_and_numpy_integers(arr, global_shape, origin):
    fastinit.fill(arr, "uniform", seed=1, global_shape=global_shape, origin=origin)
    np.testing.assert_array_equal(arr, fastinit.sample((8, 3), "uniform", seed=1))


@pytest.mark.parametrize("shape", [{3}, {3: 1}, "3"])
def test_a_shape_that_is_no_sequence_of_ints_says_what_a_shape_is(shape):
    with pytest.raises(TypeError, match=r"^shape must be a tuple or list of ints"):
        fastinit.sample(shape, "uniform", seed=1)


def test_origin_without_global_shape(arr):
    with pytest.raises(ValueError, match="global_shape"):
        fastinit.fill(arr, "uniform", seed=1, origin=(0, 0))


def test_unknown_parameter(arr):
    with pytest.raises(TypeError, match="does not take stdev.*mean, std"):
        fastinit.fill(arr, "normal", seed=1, stdev=2.0)
    assert untouched(arr)


@pytest.mark.parametrize("scheme, params", [("normal", {"std": 0.0}), ("normal", {"std": -1.0}),
                                            ("normal", {"std": float("nan")}),
                                            ("uniform", {"low": 1.0, "high": 0.0}),
                                            ("uniform", {"high": float("inf")}),
                                            ("truncated_normal", {"bound": 0.0}),
                                            ("uniform", {"low": -1e39})])
def test_bad_parameter_values(arr, scheme, params):
    with pytest.raises(ValueError):
        fastinit.fill(arr, scheme, seed=1, **params)
    assert untouched(arr)


@pytest.mark.parametrize("threads, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError)])
def test_bad_threads(arr, threads, exc):
    with pytest.raises(exc, match="threads"):
        fastinit.fill(arr, "uniform", seed=1, threads=threads)
    assert untouched(arr)


# ---- schemes -------------------------------------------------------------------------

@pytest.mark.parametrize("typo, suggestion", [("glorot_unifrom", "glorot_uniform"),
                                              ("xavier_unifrom", "xavier_uniform"),
                                              ("kaiming_normall", "kaiming_normal"),
                                              ("lecun_normale", "lecun_normal"),
                                              ("orthogonl", "orthogonal"),
                                              ("truncated_nromal", "truncated_normal")])
def test_unknown_scheme_names_the_closest(arr, typo, suggestion):
    with pytest.raises(ValueError, match=f"(?i)did you mean '{suggestion}'"):
        fastinit.fill(arr, typo, seed=1)
    assert untouched(arr)


@pytest.mark.parametrize("scheme, params", [("uniform", {"gain": 2.0}),
                                            ("glorot_uniform", {"std": 0.1}),
                                            ("glorot_uniform", {"mode": "fan_in"}),
                                            ("he_uniform", {"truncated": True}),
                                            ("zeros", {"value": 1.0}),
                                            ("orthogonal", {"fan_in": 3}),
                                            ("variance_scaling", {"truncated": True})])
def test_parameter_a_scheme_does_not_take(arr, scheme, params):
    with pytest.raises(TypeError, match=f"does not take {next(iter(params))}"):
        fastinit.fill(arr, scheme, seed=1, **params)
    assert untouched(arr)


def test_missing_constant_value(arr):
    with pytest.raises(TypeError, match="needs value="):
        fastinit.fill(arr, "constant", seed=1)
    assert untouched(arr)


@pytest.mark.parametrize("scheme, params, match", [
    ("glorot_normal", {"gain": 0.0}, "gain"), ("fan_in_uniform", {"gain": -1.0}, "gain"),
    ("he_normal", {"nonlinearity": "swish"}, "nonlinearity"),
    ("he_uniform", {"a": float("nan")}, "a must be finite"),
    ("glorot_uniform", {"gain": float("nan")}, "gain"), ("orthogonal", {"gain": -2}, "gain"),
    ("variance_scaling", {"scale": 0.0}, "scale"),
    ("variance_scaling", {"scale": float("nan")}, "scale"),
    ("normal", {"std": float("nan")}, "std"),
    ("he_normal", {"fan_in": 0}, "fan_in"), ("glorot_normal", {"fan_out": -4}, "fan_out"),
    ("he_normal", {"mode": "fan_sum"}, "mode"),
    ("variance_scaling", {"distribution": "gaussian"}, "distribution"),
    ("glorot_uniform", {"layout": "tensorflow"}, "layout"),
    ("orthogonal", {"layout": "jax"}, "layout"),
    ("constant", {"value": float("inf")}, "value"),
    ("constant", {"value": 1e39}, "value"),
])
def test_bad_scheme_values(arr, scheme, params, match):
    with pytest.raises(ValueError, match=match):
        fastinit.fill(arr, scheme, seed=1, **params)
    assert untouched(arr)


@pytest.mark.parametrize("params", [{"fan_in": 2.5}, {"fan_in": True}, {"gain": "2"},
                                    {"truncated": "yes"}, {"truncated": 1}])
def test_wrongly_typed_scheme_values(arr, params):
    with pytest.raises(TypeError, match=next(iter(params))):
        fastinit.fill(arr, "he_normal", seed=1, **params)
    assert untouched(arr)


def test_scheme_must_be_a_string(arr):
    with pytest.raises(TypeError, match="scheme must be a name"):
        fastinit.fill(arr, None, seed=1)


def test_orthogonal_refuses_vectors():
    v = np.full(8, SENTINEL, np.float32)
    with pytest.raises(ValueError, match="rank 2"):
        fastinit.fill(v, "orthogonal", seed=1)
    assert untouched(v)


@pytest.mark.parametrize("scheme", ["zeros", "orthogonal", "he_normal"])
def test_read_only_for_every_kind_of_scheme(arr, scheme):
    arr.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastinit.fill(arr, scheme, seed=1)
    assert untouched(arr)
