"""Each fan scheme writes exactly the engine distribution that its formula
gives (computed here from the shape, by reference_rules.py), and a large fill
of it passes a Kolmogorov-Smirnov test against scipy's distribution."""
import numpy as np
import pytest
from scipy import stats

import fastinit
from fastinit import _engine
from reference_rules import expected_draw, expected_variance_scaling, fans

FAN_SCHEMES = ["fan_in_uniform", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
               "lecun_uniform", "lecun_normal"]
NORMAL_SCHEMES = [s for s in FAN_SCHEMES if s.endswith("_normal")]
SHAPES = {"keras": [(300, 200), (3, 3, 16, 32), (5, 7, 11), (64,), ()],
          "torch": [(200, 300), (32, 16, 3, 3), (11, 7, 5), (64,), ()]}
LARGE = {"keras": (3, 3, 128, 256), "torch": (256, 128, 3, 3)}
DTYPES = [np.float32, np.float64]
SEED, STREAM = 2026, "layer.weight"


def engine_fill(shape, dtype, draw):
    """The same tensor filled with the engine distribution `draw` directly."""
    out = np.empty(shape, dtype)
    if draw[0] == "uniform":
        return fastinit.fill(out, "uniform", low=-draw[1], high=draw[1], seed=SEED, stream=STREAM)
    if draw[0] == "normal":
        return fastinit.fill(out, "normal", std=draw[1], seed=SEED, stream=STREAM)
    return fastinit.fill(out, "truncated_normal", std=draw[1], bound=draw[2], seed=SEED,
                         stream=STREAM)


def scheme_fill(shape, dtype, scheme, **params):
    return fastinit.fill(np.empty(shape, dtype), scheme, seed=SEED, stream=STREAM, **params)


def assert_same_bytes(a, b):
    np.testing.assert_array_equal(np.atleast_1d(a).view(np.uint8), np.atleast_1d(b).view(np.uint8))


def scipy_distribution(draw):
    if draw[0] == "uniform":
        return stats.uniform(-draw[1], 2 * draw[1])
    if draw[0] == "normal":
        return stats.norm(0.0, draw[1])
    return stats.truncnorm(-draw[2], draw[2], scale=draw[1])


@pytest.mark.parametrize("scheme", FAN_SCHEMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_scale_is_the_formula_of_the_shape(scheme, dtype, layout):
    for shape in SHAPES[layout]:
        draw = expected_draw(scheme, *fans(shape, layout))
        assert_same_bytes(scheme_fill(shape, dtype, scheme, layout=layout),
                          engine_fill(shape, dtype, draw))


@pytest.mark.parametrize("scheme", FAN_SCHEMES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_large_fill_has_the_formula_distribution(scheme, dtype, layout):
    shape = LARGE[layout]
    got = scheme_fill(shape, dtype, scheme, layout=layout).ravel()
    dist = scipy_distribution(expected_draw(scheme, *fans(shape, layout)))
    assert stats.kstest(got, dist.cdf).pvalue > 1e-4


@pytest.mark.parametrize("scheme", FAN_SCHEMES)
@pytest.mark.parametrize("gain", [0.5, fastinit.calculate_gain("tanh"),
                                  fastinit.calculate_gain("leaky_relu", 0.2)])
def test_gain_multiplies_the_std_or_bound(scheme, gain):
    shape = (48, 80)
    draw = expected_draw(scheme, *fans(shape, "keras"), gain=gain)
    assert_same_bytes(scheme_fill(shape, np.float32, scheme, gain=gain),
                      engine_fill(shape, np.float32, draw))


@pytest.mark.parametrize("scheme", [s for s in FAN_SCHEMES if s.startswith(("he", "lecun"))])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
def test_he_and_lecun_take_a_mode(scheme, mode):
    shape = (24, 96)
    draw = expected_draw(scheme, *fans(shape, "keras"), mode=mode)
    assert_same_bytes(scheme_fill(shape, np.float64, scheme, mode=mode),
                      engine_fill(shape, np.float64, draw))


@pytest.mark.parametrize("scheme", FAN_SCHEMES)
def test_given_fans_override_the_shape(scheme):
    shape = (10, 20)
    draw = expected_draw(scheme, 1000, 30)
    assert_same_bytes(scheme_fill(shape, np.float32, scheme, fan_in=1000, fan_out=30),
                      engine_fill(shape, np.float32, draw))
    only_in = expected_draw(scheme, 1000, fans(shape, "keras")[1])
    assert_same_bytes(scheme_fill(shape, np.float32, scheme, fan_in=1000),
                      engine_fill(shape, np.float32, only_in))


@pytest.mark.parametrize("scheme", NORMAL_SCHEMES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_is_the_keras_form(scheme, dtype):
    shape = (256, 512)
    draw = expected_draw(scheme, *fans(shape, "keras"), truncated=True)
    got = scheme_fill(shape, dtype, scheme, truncated=True)
    assert_same_bytes(got, engine_fill(shape, dtype, draw))
    # Truncating at +-2 sigma' with sigma' = sigma / 0.8796 keeps the variance sigma^2.
    sigma = expected_draw(scheme, *fans(shape, "keras"))[1]
    assert np.abs(got).max() <= 2 * draw[1] * (1 + 1e-6)
    assert got.astype(np.float64).std() == pytest.approx(sigma, rel=0.01)
    assert stats.kstest(got.ravel(), scipy_distribution(draw).cdf).pvalue > 1e-4


@pytest.mark.parametrize("scheme", NORMAL_SCHEMES)
def test_plain_normal_schemes_are_not_truncated(scheme):
    got = scheme_fill((512, 512), np.float64, scheme)
    sigma = expected_draw(scheme, 512, 512)[1]
    assert np.abs(got).max() > 3 * sigma  # 2^18 draws: P(|z| > 3 for none) ~ 0


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
@pytest.mark.parametrize("distribution", ["uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_variance_scaling(mode, distribution, dtype, layout):
    for shape, scale in zip(SHAPES[layout], [1.0, 2.0, 0.1, 3.0, 1.0]):
        draw = expected_variance_scaling(*fans(shape, layout), scale=scale, mode=mode,
                                         distribution=distribution)
        got = scheme_fill(shape, dtype, "variance_scaling", scale=scale, mode=mode,
                          distribution=distribution, layout=layout)
        assert_same_bytes(got, engine_fill(shape, dtype, draw))


@pytest.mark.parametrize("distribution", ["uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_large_variance_scaling_fill_has_the_formula_distribution(distribution, dtype, layout):
    shape = LARGE[layout]
    got = scheme_fill(shape, dtype, "variance_scaling", scale=0.5, mode="fan_avg",
                      distribution=distribution, layout=layout).ravel()
    draw = expected_variance_scaling(*fans(shape, layout), scale=0.5, mode="fan_avg",
                                     distribution=distribution)
    assert stats.kstest(got, scipy_distribution(draw).cdf).pvalue > 1e-4


def test_variance_scaling_defaults_are_keras():
    shape = (64, 32)  # scale 1, fan_in, truncated normal
    draw = expected_variance_scaling(*fans(shape, "keras"))
    assert_same_bytes(scheme_fill(shape, np.float64, "variance_scaling"),
                      engine_fill(shape, np.float64, draw))


@pytest.mark.parametrize("scheme, scale, mode, distribution", [
    ("glorot_uniform", 1.0, "fan_avg", "uniform"), ("glorot_normal", 1.0, "fan_avg", "normal"),
    ("he_uniform", 2.0, "fan_in", "uniform"), ("he_normal", 2.0, "fan_in", "normal"),
    ("lecun_uniform", 1.0, "fan_in", "uniform"), ("lecun_normal", 1.0, "fan_in", "normal")])
def test_fan_schemes_are_instances_of_variance_scaling(scheme, scale, mode, distribution):
    # The same draws; the scale may differ in its last bit (another order of operations).
    shape = (7, 9, 33)
    a = scheme_fill(shape, np.float64, scheme)
    b = scheme_fill(shape, np.float64, "variance_scaling", scale=scale, mode=mode,
                    distribution=distribution)
    np.testing.assert_allclose(a, b, rtol=4e-16, atol=0)


@pytest.mark.parametrize("alias, name", [("xavier_uniform", "glorot_uniform"),
                                         ("xavier_normal", "glorot_normal"),
                                         ("kaiming_uniform", "he_uniform"),
                                         ("kaiming_normal", "he_normal"),
                                         ("trunc_normal", "truncated_normal"),
                                         ("He_Normal", "he_normal"),
                                         (" GLOROT_UNIFORM ", "glorot_uniform")])
def test_aliases_and_case_name_the_same_scheme(alias, name):
    assert_same_bytes(scheme_fill((30, 40), np.float32, alias),
                      scheme_fill((30, 40), np.float32, name))


@pytest.mark.parametrize("dtype", DTYPES)
def test_constants_write_no_random_values(dtype):
    assert (scheme_fill((5, 6), dtype, "zeros") == 0).all()
    assert (scheme_fill((5, 6), dtype, "ones") == 1).all()
    got = scheme_fill((5, 6), dtype, "constant", value=0.1)
    assert (got == dtype(0.1)).all() and got.dtype == dtype


@pytest.mark.parametrize("scheme", FAN_SCHEMES + ["orthogonal", "zeros"])
def test_empty_tensors_are_left_as_they_are(scheme):
    empty = np.empty((0, 16), np.float32)
    assert fastinit.fill(empty, scheme, seed=1) is empty


def test_a_plan_seen_before_is_still_checked():
    # The plan cache must not let truncated=1 through because truncated=True was cached.
    scheme_fill((4, 4), np.float32, "he_normal", truncated=True)
    with pytest.raises(TypeError, match="truncated"):
        scheme_fill((4, 4), np.float32, "he_normal", truncated=1)

def test_every_plan_is_of_a_kind_listed_once():
    # The engine's kinds are listed once, in the binding (_engine.KINDS); schemes.KINDS
    # adds the two that _fill writes itself, and variance_scaling's distributions are
    # the engine's kinds by name.
    assert fastinit.schemes.KINDS == (*_engine.KINDS, "constant", "orthogonal")
    assert fastinit.schemes.DISTRIBUTIONS == tuple(_engine.KINDS)
    for name in fastinit.schemes.SCHEMES:
        params = {"value": 0.5} if name == "constant" else {}
        assert fastinit.schemes.plan(name, params, "float32", (4, 4)).kind in \
            fastinit.schemes.KINDS


def test_the_engine_refuses_a_kind_it_does_not_draw():
    with pytest.raises(ValueError, match="unknown kind 'gamma'; the engine draws uniform, "
                                         "normal, truncated_normal"):
        _engine.fill_buffer(np.empty(3, np.float32), 0, "gamma", 0.0, 1.0, 0.0, 1, 0, None,
                            None, 1)
