"""Every SIMD path this CPU runs writes the same bytes as the portable path,
for every element kind, dtype and region shape (odd starts and lengths that
are not a multiple of any vector width)."""
import numpy as np
import pytest

import fastinit
from conftest import run_python
from fastinit import _engine

PATHS = _engine.simd_available()
REGIONS = [(0, 1), (1, 3), (3, 17), (61, 77), (64, 64), (1000, 1), (5, 4099)]


def region_fill(scheme, dtype, start, length, **kw):
    out = np.empty(length, dtype)
    return fastinit.fill(out, scheme, seed=77, stream=5, global_shape=(start + length + 3,),
                         origin=(start,), **kw)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("scheme", ["uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_path_matches_portable(simd_path, path, scheme, dtype):
    simd_path("portable")
    expected = [region_fill(scheme, dtype, s, n) for s, n in REGIONS]
    simd_path(path)
    for (s, n), want in zip(REGIONS, expected):
        got = region_fill(scheme, dtype, s, n)
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8),
                                      err_msg=f"{path} differs at region start={s} length={n}")


@pytest.mark.parametrize("path", PATHS)
def test_raw_words_match_portable(simd_path, path):
    simd_path("portable")
    expected = [fastinit.random_raw(n, seed=3, start=s) for s, n in REGIONS]
    simd_path(path)
    for (s, n), want in zip(REGIONS, expected):
        np.testing.assert_array_equal(fastinit.random_raw(n, seed=3, start=s), want)


@pytest.mark.parametrize("path", PATHS)
def test_extreme_parameters_match_portable(simd_path, path):
    cases = [("normal", dict(mean=1e30, std=1e-30)), ("uniform", dict(low=-3e38, high=3e38)),
             ("truncated_normal", dict(bound=8.0)), ("truncated_normal", dict(bound=1e-3))]
    for scheme, kw in cases:
        simd_path("portable")
        want = region_fill(scheme, np.float32, 7, 5000, **kw)
        simd_path(path)
        np.testing.assert_array_equal(region_fill(scheme, np.float32, 7, 5000, **kw), want)


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
