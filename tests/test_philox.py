"""docs/stream.md, "The generator: Philox4x32-10": known answers, through the public API and
through the C core's own API, on every SIMD path.

Raw word 4b + k of (seed, stream) is word k of Philox(counter=(b lo, b hi,
stream lo, stream hi), key=(seed lo, seed hi)), so each known answer is four
raw words at a chosen (seed, stream, start)."""
import pytest

import c_core
import fastinit
import stream_model
from fastinit import _engine

KATS = c_core.known_answers()


def test_known_answers_are_the_published_three():
    # Random123's kat_vectors has three philox4x32 10 lines: zeros, ones and pi's digits.
    assert len(KATS) == 3
    assert KATS[2][0][0] == 0x243F6A88  # the first 32 bits of pi's fraction


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


@pytest.mark.skipif(not c_core.have(c_core.host_cc()), reason="needs a C compiler")
@pytest.mark.parametrize("path", _engine.simd_available())
def test_c_core_matches_known_answers(c_program, path):
    # The C driver reads the same file and checks every line through fi_random_raw.
    out = c_core.run(c_program(c_core.host_cc()), c_core.KAT_FILE, path)
    assert out.startswith(f"philox known answers: {len(KATS)} match\n")
