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


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex64, np.float16, np.uint8, bool])
def test_wrong_dtype(dtype):
    a = np.zeros(10, dtype=dtype)
    with pytest.raises(TypeError, match=r"float32 or float64.*dtype=np.float32"):
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


def test_seed_and_stream_limits_are_accepted(arr):
    fastinit.fill(arr, "uniform", seed=2**64 - 1, stream=2**64 - 1)
    assert not untouched(arr)


@pytest.mark.parametrize("count, start, exc", [(-1, 0, ValueError), (4, -1, ValueError),
                                               (4, 2**66, ValueError), (5, 2**66 - 4, ValueError),
                                               (2.0, 0, TypeError)])
def test_bad_raw_range(count, start, exc):
    with pytest.raises(exc, match="count|start"):
        fastinit.random_raw(count, seed=1, start=start)


@pytest.mark.parametrize("global_shape, origin", [((8, 2), None), ((8, 3, 1), (0, 0, 0)),
                                                  ((10, 3), (3, 0)), ((10, 3), (-1, 0)),
                                                  ((10, 3), (0,))])
def test_region_that_does_not_fit(arr, global_shape, origin):
    with pytest.raises(ValueError, match="global_shape|global shape|dimension"):
        fastinit.fill(arr, "uniform", seed=1, global_shape=global_shape, origin=origin)
    assert untouched(arr)


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


def test_unknown_scheme_suggests_a_close_name(arr):
    with pytest.raises(ValueError, match="(?i)did you mean 'truncated_normal'"):
        fastinit.fill(arr, "truncated_nromal", seed=1)
    assert untouched(arr)


@pytest.mark.parametrize("threads, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError)])
def test_bad_threads(arr, threads, exc):
    with pytest.raises(exc, match="threads"):
        fastinit.fill(arr, "uniform", seed=1, threads=threads)
    assert untouched(arr)
