"""STREAM.md, "Generator": Philox4x32-10 known answers, through the public API.

Raw word 4b + k of (seed, stream) is word k of Philox(counter=(b lo, b hi,
stream lo, stream hi), key=(seed lo, seed hi)), so each known answer is four
raw words at a chosen (seed, stream, start)."""
import pytest

import fastinit
import stream_model

KATS = [  # counter, key, output: from STREAM.md (Random123's kat_vectors)
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize("counter, key, expected", KATS)
def test_engine_matches_known_answers(counter, key, expected):
    block = counter[0] | counter[1] << 32
    stream = counter[2] | counter[3] << 32
    seed = key[0] | key[1] << 32
    words = fastinit.random_raw(4, seed=seed, stream=stream, start=4 * block)
    assert tuple(int(w) for w in words) == expected


@pytest.mark.parametrize("counter, key, expected", KATS)
def test_reference_model_matches_known_answers(counter, key, expected):
    # The model the other tests trust must itself pass the known answers.
    assert stream_model.philox4x32_10(counter, key) == expected
