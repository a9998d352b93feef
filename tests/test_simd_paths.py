"""Every SIMD path this CPU runs writes the same bytes as the portable path, for every
element kind, dtype and region: odd starts, lengths that are not a multiple of any
vector width, strided and negative-stride views, misaligned buffers, fills large
enough to take the streaming-store path and the multi-thread path; and the same
raw words. (The portable path itself is pinned to stream version 1 by
test_stream_digests.py.)"""
import numpy as np
import pytest

import fastinit
from conftest import run_python
from fastinit import _engine

PATHS = _engine.simd_available()
WIDE_PATHS = [p for p in PATHS if p != "portable"]
SCHEMES = [("uniform", {}), ("uniform", dict(low=2.5, high=7.25)), ("normal", dict(mean=1.0, std=2.0)),
           ("truncated_normal", {}), ("truncated_normal", dict(bound=6.0))]
DTYPES = [np.float32, np.float64]
# (start, length) of 1-D regions: every length up to 65 (past any vector width and
# several whole steps) from starts of every residue modulo a block, then longer ones.
REGIONS = ([(start, n) for start in (0, 1, 2, 3, 5) for n in range(1, 66)]
           + [(61, 77), (64, 64), (1000, 1), (5, 4099), (4093, 8195)])
GLOBAL = 20_000


def on_path(path, make):
    """make() with path selected; the path in use before is restored by the fixture."""
    _engine.simd_select(path)
    return make()


def assert_same_bytes(got, want, what):
    np.testing.assert_array_equal(np.ascontiguousarray(got).view(np.uint8),
                                  np.ascontiguousarray(want).view(np.uint8), err_msg=what)


def assert_matches_portable(path, make, what):
    """make() returns a list of arrays: the same bytes on path as on portable."""
    want = on_path("portable", make)
    got = on_path(path, make)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_same_bytes(g, w, f"{path}: {what}")


# every wide path x scheme x dtype
EVERY_CASE = pytest.mark.parametrize(
    "path, scheme, params, dtype",
    [(p, s, kw, d) for p in WIDE_PATHS for s, kw in SCHEMES for d in DTYPES],
    ids=lambda v: v.__name__ if isinstance(v, type) else (str(v) if v else None))


def fill_regions(dtype, scheme, params):
    """Every region of REGIONS filled as a box of a (GLOBAL,) tensor, concatenated."""
    parts = []
    for start, n in REGIONS:
        out = np.empty(n, dtype)
        fastinit.fill(out, scheme, seed=77, stream=5, global_shape=(GLOBAL,), origin=(start,),
                      **params)
        parts.append(out)
    return np.concatenate(parts)


@EVERY_CASE
def test_regions_match_portable(simd_path, path, scheme, params, dtype):
    assert_matches_portable(path, lambda: [fill_regions(dtype, scheme, params)], scheme)


def strided_fills(dtype, scheme, params):
    """Views with steps, negative steps and Fortran order, each inside a NaN frame so that
    a write outside the view shows too."""
    results = []
    for index in [np.s_[2:38:3, 45:1:-2], np.s_[::-1, ::7], np.s_[5, 3:40], np.s_[::-1, ::-1]]:
        big = np.full((40, 50), np.nan, dtype)
        fastinit.fill(big[index], scheme, seed=9, **params)
        results.append(big)
    fortran = np.full((33, 47), np.nan, dtype, order="F")
    results.append(fastinit.fill(fortran, scheme, seed=9, **params))
    return results


@EVERY_CASE
def test_strided_views_match_portable(simd_path, path, scheme, params, dtype):
    assert_matches_portable(path, lambda: strided_fills(dtype, scheme, params), scheme)


def misaligned_fills(dtype, scheme, params, n, threads, offsets=(0, 1, 4, 8, 12, 16, 24, 36, 60)):
    """Views starting 0..63 bytes past a 64-byte boundary (some not even aligned to
    the element size), at logical origin 7. A view's blocks (16 bytes of output)
    start 16-byte aligned, so that it can be streamed, at offsets 12 (float32) and
    8 (float64) modulo 16."""
    results = []
    size = np.dtype(dtype).itemsize
    for offset in offsets:
        raw = np.zeros(n * size + 128, np.uint8)
        base = -raw.ctypes.data % 64
        view = raw[base + offset: base + offset + n * size].view(dtype)
        fastinit.fill(view, scheme, seed=3, stream=1, global_shape=(n + 11,), origin=(7,),
                      threads=threads, **params)
        results.append(raw[base: base + n * size + 64].copy())
    return results


@EVERY_CASE
def test_misaligned_buffers_match_portable(simd_path, path, scheme, params, dtype):
    assert_matches_portable(path, lambda: misaligned_fills(dtype, scheme, params, 1031, 1),
                            scheme)


@EVERY_CASE
def test_large_threaded_streaming_fills_match_portable(simd_path, path, scheme, params, dtype):
    # Above STREAM_MIN_BYTES the contiguous runs are stored with streaming stores,
    # and with 2 threads each thread starts at a point not aligned to anything.
    # (The portable path fills on 1 thread: threads must not matter either.)
    n = _engine.STREAM_MIN_BYTES // np.dtype(dtype).itemsize + 4099
    threads = {"portable": 1}
    make = lambda: misaligned_fills(dtype, scheme, params, n,
                                    threads.get(_engine.simd_current(), 2), (4, 8, 12, 44))
    assert_matches_portable(path, make, scheme)


@pytest.mark.parametrize("path", WIDE_PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_large_shards_with_long_rows_match_portable(simd_path, path, dtype):
    # Rows long enough to be streamed, each starting at its own odd logical offset.
    row = _engine.STREAM_MIN_BYTES // 64 // np.dtype(dtype).itemsize + 13
    def make():
        shard = np.empty((70, row), dtype)
        return [fastinit.fill(shard, scheme, seed=8, global_shape=(75, 2 * row + 5), origin=(3, 7),
                              threads=2, **params) for scheme, params in SCHEMES[::2]]
    assert_matches_portable(path, make, "shard")


def raw_words():
    starts = [0, 1, 2, 3, 5, 4 * (2**32 - 40) + 3, 2**66 - 300]
    small = [fastinit.random_raw(n, seed=3, stream=4, start=s) for s in starts for n in range(1, 66)]
    large = fastinit.random_raw(_engine.STREAM_MIN_BYTES // 4 + 4099, seed=3, start=4 * 2**32 - 13)
    return small + [large]


@pytest.mark.parametrize("path", WIDE_PATHS)
def test_raw_words_match_portable(simd_path, path):
    assert_matches_portable(path, raw_words, "raw words")


@pytest.mark.parametrize("path", WIDE_PATHS)
def test_extreme_parameters_match_portable(simd_path, path):
    cases = [("normal", dict(mean=1e30, std=1e-30)), ("uniform", dict(low=-3e38, high=3e38)),
             ("uniform", dict(low=-1e-40, high=1e-40)), ("truncated_normal", dict(bound=8.0)),
             ("truncated_normal", dict(bound=1e-3)), ("truncated_normal", dict(bound=30.0))]
    for dtype in DTYPES:
        for scheme, kw in cases:
            def run():
                out = np.empty(5000, dtype)
                return [fastinit.fill(out, scheme, seed=77, global_shape=(5007,), origin=(7,), **kw)]
            assert_matches_portable(path, run, f"{scheme} {kw}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fn", ["log", "sin", "cos", "erfinv"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_math_of_any_length_matches_portable(simd_path, path, fn, dtype):
    # eval_math pads the last partial vector: every length, and each value alone.
    x = np.linspace(0.001, 0.999, 97).astype(dtype)
    assert_matches_portable(path, lambda: [_engine.eval_math(fn, x[:n]) for n in range(98)], fn)
    alone = on_path(path, lambda: np.concatenate([_engine.eval_math(fn, x[i:i + 1]) for i in range(97)]))
    assert_same_bytes(alone, on_path("portable", lambda: _engine.eval_math(fn, x)), fn)


def test_config_names_the_path_in_use(simd_path):
    for path in PATHS:
        simd_path(path)
        assert fastinit.get_config()["simd"] == path
    assert "portable" in fastinit.get_config()["simd_available"]


def test_forcing_a_path_by_environment():
    for path in PATHS:
        run = run_python("import fastinit; print(fastinit.get_config()['simd'])",
                         FASTINIT_SIMD=path)
        assert run.stdout.strip() == path, run.stderr


def test_unknown_path_in_environment_is_an_import_error():
    run = run_python("import fastinit", FASTINIT_SIMD="sse9")
    assert run.returncode != 0 and "FASTINIT_SIMD='sse9' is not a SIMD path" in run.stderr
