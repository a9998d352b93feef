"""Streams: a named tensor's values depend on its name, not on call order; an
unnamed call takes a fresh stream; the default generator follows fastinit.seed."""
import threading

import numpy as np
import pytest

import fastinit

SHAPE = (32, 16)


def fresh():
    return np.empty(SHAPE, np.float32)


def by_stream(seed, stream, scheme="he_normal"):
    return fastinit.fill(fresh(), scheme, seed=seed, stream=stream)


def test_named_streams_do_not_depend_on_call_order():
    one, two = fastinit.Generator(5), fastinit.Generator(5)
    a1 = one.fill(fresh(), "he_normal", name="encoder.weight")
    b1 = one.fill(fresh(), "glorot_uniform", name="decoder.weight")
    b2 = two.fill(fresh(), "glorot_uniform", name="decoder.weight")
    a2 = two.fill(fresh(), "he_normal", name="encoder.weight")
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)


def test_a_name_is_the_stream_of_that_name():
    gen = fastinit.Generator(5)
    np.testing.assert_array_equal(gen.fill(fresh(), "he_normal", name="enc.w"),
                                  by_stream(5, "enc.w"))
    np.testing.assert_array_equal(gen.fill(fresh(), "he_normal", name=77), by_stream(5, 77))


def test_unnamed_calls_take_streams_0_1_2():
    gen = fastinit.Generator(9)
    for stream in range(3):
        np.testing.assert_array_equal(gen.fill(fresh(), "he_normal"), by_stream(9, stream))


def test_no_two_unnamed_calls_share_values():
    gen = fastinit.Generator(9)
    draws = [gen.fill(fresh(), "uniform").tobytes() for _ in range(20)]
    assert len(set(draws)) == len(draws)


def test_a_refused_call_uses_no_stream():
    gen = fastinit.Generator(9)
    with pytest.raises(ValueError):
        gen.fill(fresh(), "he_nromal")
    with pytest.raises(TypeError):
        gen.fill(np.zeros(3, np.int32), "he_normal")
    read_only = fresh()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        gen.fill(read_only, "he_normal")
    np.testing.assert_array_equal(gen.fill(fresh(), "he_normal"), by_stream(9, 0))


def test_generators_are_safe_to_share_between_threads():
    gen = fastinit.Generator(3)
    got = []

    def work():
        for _ in range(25):
            got.append(gen.fill(fresh(), "uniform").tobytes())

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    expected = {by_stream(3, s, "uniform").tobytes() for s in range(100)}
    assert sorted(got) == sorted(expected)


def test_seed_is_kept_and_entropy_is_used_without_one():
    assert fastinit.Generator(2**64 - 1).seed == 2**64 - 1
    a, b = fastinit.Generator(), fastinit.Generator()
    assert a.seed != b.seed and 0 <= a.seed < 2**64
    assert "seed=12" in repr(fastinit.Generator(12))


@pytest.mark.parametrize("seed, exc", [(-1, ValueError), (2**64, ValueError), (1.0, TypeError)])
def test_bad_generator_seed(seed, exc):
    with pytest.raises(exc, match="seed"):
        fastinit.Generator(seed)


@pytest.fixture
def reseed_after():
    yield
    fastinit.seed()  # back to OS entropy, as at import


def test_default_generator_follows_fastinit_seed(reseed_after):
    fastinit.seed(1234)
    first = [fastinit.fill(fresh(), "he_normal") for _ in range(3)]
    fastinit.seed(1234)
    again = [fastinit.fill(fresh(), "he_normal") for _ in range(3)]
    for stream, (x, y) in enumerate(zip(first, again)):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, by_stream(1234, stream))
    assert fastinit.default_generator().seed == 1234
    fastinit.seed()
    assert fastinit.default_generator().seed != 1234  # fresh entropy (fails with p = 2^-64)


def test_stream_without_seed_names_a_stream_of_the_default_generator(reseed_after):
    fastinit.seed(77)
    np.testing.assert_array_equal(fastinit.fill(fresh(), "he_normal", stream="w"),
                                  by_stream(77, "w"))


def test_sample_returns_a_new_array():
    gen = fastinit.Generator(4)
    a = gen.sample(SHAPE, "glorot_uniform", name="x")
    assert a.shape == SHAPE and a.dtype == np.float32
    np.testing.assert_array_equal(a, by_stream(4, "x", "glorot_uniform"))
    b = fastinit.sample(10, "normal", dtype=np.float64, seed=4, stream=1)
    assert b.shape == (10,) and b.dtype == np.float64
    np.testing.assert_array_equal(b, fastinit.fill(np.empty(10), "normal", seed=4, stream=1))


@pytest.mark.parametrize("dtype", [np.int32, np.int8, "complex64", "not a dtype", None, object])
def test_sample_refuses_other_dtypes(dtype):
    with pytest.raises(TypeError, match="writes float32, float64, bfloat16 or float16; dtype is"):
        fastinit.sample(4, "uniform", dtype=dtype, seed=1)
