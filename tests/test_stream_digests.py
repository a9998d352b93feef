"""Stream version 1 is frozen (docs/stream.md, "Compatibility"): the digests recorded in
tests/data/stream_v1_digests.txt must come out of every SIMD path. The model tests
check normal and truncated normal values only to a tolerance (they use the platform's
libm); these pin them to the bit, and pin fastinit's own ln, sin, cos and erfinv over
every float32 input the stream can give them.

tests/compute_digests.py computes every recorded digest and says where each came from.
If one of these fails, the values of stream version 1 changed: that is a breaking
change, whatever the reason."""
import subprocess
import sys

import numpy as np
import pytest

import compute_digests as cd
from conftest import run_python
import fastinit
from fastinit import _engine

PATHS = _engine.simd_available()
RECORDED = cd.recorded()


def recorded(keys):
    return {key: RECORDED.get(key) for key in keys}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", cd.DTYPES)
def test_fills_have_the_recorded_values(simd_path, path, dtype):
    simd_path(path)
    got = {cd.fill_key(c, dtype): cd.digest(cd.engine_fill(c, dtype))
           for c in range(len(cd.FILLS))}
    assert got == recorded(got)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("rounding", ["hardware", "integer"])
@pytest.mark.parametrize("dtype", cd.NARROW)
def test_narrow_fills_have_the_recorded_values(simd_path, path, rounding, dtype):
    simd_path(path)
    _engine.round_select(rounding)
    try:
        got = {cd.fill_key(c, dtype): cd.digest(cd.engine_fill(c, dtype))
               for c in range(len(cd.FILLS)) if (c, dtype) not in cd.REFUSED}
    finally:
        _engine.round_select("hardware")
    assert got == recorded(got)


@pytest.mark.parametrize("case, dtype", sorted(cd.REFUSED))
def test_fills_whose_values_the_dtype_cannot_hold_are_refused(case, dtype):
    with pytest.raises(ValueError, match=f"rounds to 0 in {dtype}"):
        cd.engine_fill(case, dtype)


def recorded_float32_fills():
    """The float32 fills, checked against their own recorded digests."""
    for c in range(len(cd.FILLS)):
        out = cd.engine_fill(c, np.float32)
        assert cd.digest(out) == RECORDED[cd.fill_key(c, np.float32)]
        yield c, out


def test_recorded_float16_digests_are_numpys_cast_of_the_float32_fills():
    for c, f32 in recorded_float32_fills():
        assert cd.digest(f32.astype(np.float16)) == RECORDED[cd.fill_key(c, "float16")]


def test_recorded_bfloat16_digests_are_torchs_cast_of_the_float32_fills():
    torch = pytest.importorskip("torch")
    for c, f32 in recorded_float32_fills():
        bf16 = torch.from_numpy(f32).to(torch.bfloat16).view(torch.int16).numpy()
        assert cd.digest(bf16) == RECORDED[cd.fill_key(c, "bfloat16")]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fn", cd.MATH_FNS)
@pytest.mark.parametrize("dtype", cd.DTYPES)
def test_math_has_the_recorded_values(simd_path, path, fn, dtype):
    simd_path(path)
    got = cd.digest(_engine.eval_math(fn, cd.math_inputs(fn, dtype)))
    assert got == RECORDED[cd.math_key(fn, dtype)]


@pytest.mark.parametrize("path", PATHS)
def test_raw_words_have_the_recorded_values(simd_path, path):
    simd_path(path)
    got = fastinit.random_raw(cd.SIZE, seed=cd.SEED, stream=cd.STREAM, start=cd.RAW_START)
    assert cd.digest(got) == RECORDED[cd.RAW_KEY]


def test_every_recorded_digest_is_checked():
    fills = {cd.fill_key(c, dtype) for c in range(len(cd.FILLS))
             for dtype in cd.DTYPES + cd.NARROW}
    maths = {cd.math_key(fn, dtype) for fn in cd.MATH_FNS for dtype in cd.DTYPES}
    assert set(RECORDED) == fills | maths | {cd.RAW_KEY}


def test_the_script_recomputes_the_exact_digests_from_the_model():
    # The cheap half of tests/compute_digests.py, run as a reviewer runs it: the uniform
    # fills and raw words from the specification's model, not from fastinit.
    run = subprocess.run([sys.executable, cd.__file__, "--source", "model"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = dict(line.rsplit(None, 1) for line in run.stdout.splitlines())
    got = {" ".join(key.split()): value for key, value in got.items()}
    uniform = {cd.fill_key(c, dtype) for c, (kind, _) in enumerate(cd.FILLS)
               for dtype in cd.DTYPES + cd.NARROW
               if kind == "uniform" and cd.model_fill(c, dtype) is not None}
    assert set(got) == uniform | {cd.RAW_KEY}
    assert got == recorded(got)


def test_the_script_recomputes_the_digests_of_a_build_without_narrow_dtypes():
    # Its docstring re-derives the recorded normal and math digests by running it against
    # a build of the reference commit d9ae7c4, whose fastinit has neither _fill nor a
    # table of dtypes (done by hand: 29 of 29 equal). Here the same fastinit with those
    # taken away stands in for that build: the script must check what it does write.
    run = run_python(
        "import runpy, sys\n"
        "import fastinit\n"
        "from fastinit import _engine\n"
        "del _engine.DTYPES, fastinit._fill\n"
        "sys.modules['fastinit._fill'] = None\n"
        f"sys.argv = [{cd.__file__!r}, '--check']\n"
        f"runpy.run_path({cd.__file__!r}, run_name='__main__')\n", timeout=300)
    assert run.returncode == 0, run.stderr
    fills = len(cd.FILLS) * len(cd.DTYPES)
    maths = len(cd.MATH_FNS) * len(cd.DTYPES)
    assert run.stdout.strip().endswith(f"{fills + maths + 1} of {fills + maths + 1} digests "
                                       f"(engine) equal the recorded ones"), run.stdout
