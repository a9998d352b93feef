"""docs/stream.md, "Seed, stream and the raw words"."""
import numpy as np
import pytest

import fastinit
import stream_model

U64 = 2**64
rng = np.random.default_rng(20261122)
RANDOM_CASES = [(int(rng.integers(0, U64, dtype=np.uint64)), int(rng.integers(0, U64, dtype=np.uint64)),
                 int(rng.integers(0, 2**62)) * 4 + int(rng.integers(0, 4)), int(rng.integers(1, 300)))
                for _ in range(20)]
EDGE_CASES = [
    (0, 0, 0, 1000),
    (U64 - 1, U64 - 1, 0, 37),
    (1, 2, 2**66 - 37, 37),            # the last words of a stream
    (2**32 - 1, 2**32, 2**34 - 3, 9),  # a block counter crossing 2**32
    (2**32, 2**32 - 1, 4 * (2**32 - 2) + 1, 23),
    (12345, 678, 3, 1),
]


@pytest.mark.parametrize("seed, stream, start, count", RANDOM_CASES + EDGE_CASES)
def test_raw_words_equal_the_model(seed, stream, start, count):
    got = fastinit.random_raw(count, seed=seed, stream=stream, start=start)
    assert got.dtype == np.uint32 and got.shape == (count,)
    np.testing.assert_array_equal(got, stream_model.raw_words(seed, stream, start, count))


def test_a_slice_of_the_stream_is_the_same_words_wherever_it_starts():
    whole = fastinit.random_raw(1 << 20, seed=5, stream=6)
    for start in (0, 1, 2, 3, 63, 64, 65, 12345, (1 << 20) - 5):
        part = fastinit.random_raw(min(1000, (1 << 20) - start), seed=5, stream=6, start=start)
        np.testing.assert_array_equal(part, whole[start:start + len(part)])


def test_string_streams_are_the_blake2b_integer():
    expected = stream_model.stream_of_name("encoder.layers.0.attn.q_proj.weight")
    a = fastinit.random_raw(16, seed=3, stream="encoder.layers.0.attn.q_proj.weight")
    np.testing.assert_array_equal(a, fastinit.random_raw(16, seed=3, stream=expected))


def test_zero_words():
    assert fastinit.random_raw(0, seed=1).shape == (0,)
