"""fastinit.jax: initializers with JAX's signature and formulas, and sharded arrays equal
to unsharded ones. Skipped without jax (an optional extra); tests/conftest.py asks XLA
for 8 CPU devices before any module can start JAX's backend."""
import math

import numpy as np
import pytest

import fastinit
from conftest import run_python

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
scipy_stats = pytest.importorskip("scipy.stats")
import fastinit.jax as fj  # noqa: E402
from jax._src.nn.initializers import _compute_fans as jax_compute_fans  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) cut at +-2, as JAX writes it


def key_words(key):
    """The key's uint32 words as Python ints, read without fastinit."""
    return [int(w) for w in np.asarray(jax.random.key_data(key)).ravel()]


# ---- fans and formulas, against jax.nn.initializers ----------------------------------

FAN_CASES = [
    ((20, 30), {}),
    ((3, 3, 16, 32), {}),
    ((5, 7, 11), {"in_axis": 0, "out_axis": (1, 2)}),
    ((4, 6, 8, 10), {"in_axis": 1, "out_axis": -1, "batch_axis": 0}),
    ((4, 6, 8, 10), {"in_axis": (1, 2), "out_axis": 0}),
    ((9,), {"in_axis": 0, "out_axis": ()}),
]


@pytest.mark.parametrize("shape, axes", FAN_CASES)
def test_fans_follow_jax_compute_fans(shape, axes):
    assert fj.compute_fans(shape, **axes) == tuple(map(int, jax_compute_fans(shape, **axes)))


def test_a_tensor_with_no_elements_is_empty_where_jax_divides_by_zero():
    with pytest.raises(ZeroDivisionError):
        jax.nn.initializers.he_normal()(jax.random.key(0), (0, 5))
    assert fj.sample((0, 5), "he_normal", seed=0).shape == (0, 5)


def test_axes_shared_by_in_out_or_batch_are_refused():
    """JAX would count a shared axis twice (and its fans are then not whole numbers)."""
    with pytest.raises(ValueError, match="share an axis"):
        fj.compute_fans((9, 4), in_axis=0, out_axis=0)


@pytest.mark.parametrize("shape", [(7,), ()])
def test_fans_of_a_vector_with_default_axes_are_refused_as_in_jax(shape):
    with pytest.raises(ValueError):
        jax_compute_fans(shape)
    with pytest.raises(ValueError, match="in_axis"):
        fj.initializer("glorot_uniform", seed=0)(jax.random.key(0), shape)


# (fastinit scheme and params, the JAX initializer, and its variance_scaling arguments)
NAMED = [(name, {}, getattr(jax.nn.initializers, name), args) for name, args in [
    ("glorot_uniform", (1.0, "fan_avg", "uniform")),
    ("glorot_normal", (1.0, "fan_avg", "truncated_normal")),
    ("he_uniform", (2.0, "fan_in", "uniform")),
    ("he_normal", (2.0, "fan_in", "truncated_normal")),
    ("lecun_uniform", (1.0, "fan_in", "uniform")),
    ("lecun_normal", (1.0, "fan_in", "truncated_normal")),
]]
SCALING = [("variance_scaling", {"scale": 0.7, "mode": mode, "distribution": dist},
            lambda mode=mode, dist=dist, **axes: jax.nn.initializers.variance_scaling(
                0.7, mode, dist, **axes), (0.7, mode, dist))
           for mode in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
           for dist in ("truncated_normal", "normal", "uniform")]
SCHEMES = NAMED + SCALING
SCHEME_IDS = [f"{s}-{p.get('mode', '')}-{p.get('distribution', '')}" for s, p, _, _ in SCHEMES]
SHAPES = [((96, 160), {}), ((3, 3, 24, 40), {}),
          ((4, 40, 24, 8), {"in_axis": 1, "out_axis": 2, "batch_axis": 0})]


def reference_multiplier(shape, axes, scale, mode, distribution):
    """The scale JAX's docs give, in float64, from JAX's own fans: the bound of a uniform
    draw on [-1, 1), or the std of a normal (before truncation at +-2)."""
    fan_in, fan_out = jax_compute_fans(shape, **axes)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
           "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    if distribution == "uniform":
        return math.sqrt(3 * scale / fan)
    if distribution == "normal":
        return math.sqrt(scale / fan)
    return math.sqrt(scale / fan) / TRUNCATED_STD


def multiplier(values, unit):
    """The factor between a scaled draw and the unit draw it was made from."""
    values, unit = np.asarray(values, np.float64).ravel(), np.asarray(unit, np.float64).ravel()
    big = np.abs(unit) > 0.5
    return float(np.median(values[big] / unit[big]))


def jax_unit_draw(key, shape, distribution):
    if distribution == "uniform":
        return jax.random.uniform(key, shape, jnp.float32, -1.0)
    if distribution == "normal":
        return jax.random.normal(key, shape)
    return jax.random.truncated_normal(key, -2.0, 2.0, shape)


def fastinit_unit_draw(shape, distribution, stream):
    if distribution == "uniform":
        return fastinit.sample(shape, "uniform", low=-1, high=1, seed=5, stream=stream)
    if distribution == "normal":
        return fastinit.sample(shape, "normal", seed=5, stream=stream)
    return fastinit.sample(shape, "truncated_normal", bound=2, seed=5, stream=stream)


@pytest.mark.parametrize("shape, axes", SHAPES, ids=["dense", "conv", "axes"])
@pytest.mark.parametrize("scheme, params, jax_init, args", SCHEMES, ids=SCHEME_IDS)
def test_scale_is_jax_formula_measured_on_both(scheme, params, jax_init, args, shape, axes):
    """JAX's and fastinit's draws are each divided by the unit draw they scale (same key,
    same seed and stream): both factors equal the formula of JAX's docs."""
    expected = reference_multiplier(shape, axes, *args)
    key = jax.random.key(11)
    theirs = multiplier(jax_init(**axes)(key, shape, jnp.float32),
                        jax_unit_draw(key, shape, args[2]))
    ours = multiplier(fj.sample(shape, scheme, seed=5, stream=3, **axes, **params),
                      fastinit_unit_draw(shape, args[2], 3))
    assert theirs == pytest.approx(expected, rel=1e-6)
    assert ours == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("scheme, params, jax_init, args", SCHEMES, ids=SCHEME_IDS)
def test_values_are_distributed_as_jax_initializers_draw_them(scheme, params, jax_init, args):
    """Two-sample Kolmogorov-Smirnov test on 2**18 values each: a wrong scale (such as a
    missing 0.8796 correction) or a missing truncation is far outside the threshold."""
    shape = (512, 512)
    ours = np.asarray(fj.sample(shape, scheme, seed=9, stream=scheme, **params)).ravel()
    theirs = np.asarray(jax_init()(jax.random.key(4), shape, jnp.float32)).ravel()
    assert scipy_stats.ks_2samp(ours, theirs).pvalue > 1e-4
    if args[2] != "normal":  # uniform and truncated draws are bounded like JAX's
        bound = reference_multiplier(shape, {}, *args) * (1 if args[2] == "uniform" else 2)
        assert np.abs(ours).max() <= bound * (1 + 1e-6)
        assert np.abs(theirs).max() <= bound * (1 + 1e-6)


def test_normal_schemes_are_untruncated_when_asked():
    values = fj.sample((256, 256), "he_normal", seed=1, truncated=False)
    np.testing.assert_array_equal(values, fastinit.sample((256, 256), "he_normal", seed=1))
    assert np.abs(values).max() > 2.5 * math.sqrt(2 / 256)


# ---- the initializer and its streams ------------------------------------------------

def test_initializer_reads_the_stream_packed_from_the_key():
    init = fj.initializer("glorot_uniform", seed=7)
    for key in (jax.random.key(3), jax.random.PRNGKey(3), jax.random.split(jax.random.key(1))[1]):
        hi, lo = key_words(key)
        np.testing.assert_array_equal(
            init(key, (40, 30)),
            fastinit.sample((40, 30), "glorot_uniform", seed=7, stream=(hi << 32) | lo))


def test_wide_keys_give_the_blake2b_digest_of_their_words_as_stream():
    import hashlib
    key = jax.random.key(3, impl="rbg")
    words = np.array(key_words(key), "<u4").tobytes()
    stream = int.from_bytes(hashlib.blake2b(words, digest_size=8).digest(), "little")
    np.testing.assert_array_equal(fj.initializer("normal", seed=1, std=1)(key, (50,)),
                                  fastinit.sample(50, "normal", seed=1, stream=stream))


@pytest.mark.parametrize("scheme", ["normal", "uniform", "truncated_normal"])
def test_plain_initializers_draw_as_jax_nn_initializers_of_that_name_with_its_defaults(scheme):
    shape = (100_000,)
    ours = np.asarray(fj.initializer(scheme, seed=0)(jax.random.key(0), shape))
    theirs = np.asarray(getattr(jax.nn.initializers, scheme)()(jax.random.key(1), shape))
    assert scipy_stats.ks_2samp(ours, theirs).pvalue > 1e-4
    assert np.abs(ours).max() < 0.06  # not fastinit's own defaults, std 1 or U[0, 1)


def test_flax_rules_take_jax_initializers_defaults_and_sample_keeps_jax_randoms():
    import fastinit.flax
    shapes = {"w": jax.ShapeDtypeStruct((100_000,), jnp.float32)}
    ruled = fastinit.flax.init_params(shapes, seed=0, rules=[("w", "normal")])["w"]
    np.testing.assert_array_equal(ruled, fastinit.sample(100_000, "normal", std=0.01, seed=0,
                                                         stream="w"))
    sampled = np.asarray(fj.sample((100_000,), "normal", seed=0))
    theirs = np.asarray(jax.random.normal(jax.random.key(0), (100_000,)))
    assert scipy_stats.ks_2samp(sampled, theirs).pvalue > 1e-4


def test_initializer_with_a_stream_ignores_the_key():
    init = fj.initializer("he_uniform", seed=2, stream="w")
    np.testing.assert_array_equal(init(jax.random.key(0), (8, 9)), init(jax.random.key(1), (8, 9)))
    np.testing.assert_array_equal(init(jax.random.key(0), (8, 9)),
                                  fastinit.sample((8, 9), "he_uniform", seed=2, stream="w"))


def test_initializer_is_refused_a_traced_key_with_the_fix():
    init = fj.initializer("he_normal", seed=0)
    with pytest.raises(TypeError, match="traced PRNG key.*stream="):
        jax.jit(lambda k: init(k, (4, 4)))(jax.random.key(0))
    with pytest.raises(TypeError, match="traced PRNG key"):
        jax.eval_shape(lambda k: init(k, (4, 4)), jax.random.key(0))


def test_initializer_with_a_stream_works_under_jit():
    init = fj.initializer("he_normal", seed=0, stream=1)
    inside = jax.jit(lambda k: init(k, (4, 4)))(jax.random.key(0))
    np.testing.assert_array_equal(inside, init(jax.random.key(5), (4, 4)))


def test_float32_is_the_default_and_the_values_are_fastinits():
    out = fj.initializer("lecun_normal", seed=3)(jax.random.key(2), (16, 8))
    assert isinstance(out, jax.Array) and out.dtype == jnp.float32
    np.testing.assert_array_equal(out, fastinit.sample((16, 8), "lecun_normal", truncated=True,
                                                       seed=3, stream=2))


def test_float64_without_x64_is_refused_not_downcast():
    with pytest.raises(TypeError, match="jax_enable_x64"):
        fj.initializer("normal", seed=0)(jax.random.key(0), (3,), jnp.float64)
    with pytest.raises(TypeError, match="jax_enable_x64"):
        fj.sample((3,), "normal", seed=0, dtype=np.float64)


NARROW = [("bfloat16", jnp.bfloat16), ("float16", jnp.float16)]


@pytest.mark.parametrize("name, dtype", NARROW)
def test_bfloat16_and_float16_are_the_float32_values_rounded_to_nearest_even(name, dtype):
    """As docs/stream.md says; the rounding here is ml_dtypes' and NumPy's casts."""
    rounded = fastinit.sample((40, 24), "lecun_normal", truncated=True, seed=2, stream=6
                              ).astype(dtype)
    out = fj.initializer("lecun_normal", seed=2)(jax.random.key(6), (40, 24), dtype)
    assert out.dtype == dtype
    np.testing.assert_array_equal(np.asarray(out).view(np.uint16), rounded.view(np.uint16))
    np.testing.assert_array_equal(np.asarray(out).view(np.uint16), fastinit.sample(
        (40, 24), "lecun_normal", truncated=True, seed=2, stream=6, dtype=name).view(np.uint16))


@pytest.mark.parametrize("name, dtype", NARROW)
def test_sharded_narrow_arrays_are_bit_equal_to_unsharded(jax_devices, name, dtype):
    sharding = NamedSharding(jax.make_mesh((2, 4), ("x", "y")), P("x", "y"))
    out = fj.sample((16, 24), "he_uniform", seed=1, dtype=dtype, sharding=sharding)
    assert out.dtype == dtype and out.sharding == sharding
    np.testing.assert_array_equal(np.asarray(out).view(np.uint16),
                                  np.asarray(fj.sample((16, 24), "he_uniform", seed=1,
                                                       dtype=dtype)).view(np.uint16))


def test_float64_under_x64_is_fastinits_float64_fill():
    with jax.enable_x64(True):
        out = fj.sample((12, 5), "glorot_normal", seed=4, stream=2, dtype=jnp.float64)
        assert out.dtype == jnp.float64
        np.testing.assert_array_equal(out, fastinit.sample(
            (12, 5), "glorot_normal", dtype=np.float64, truncated=True, seed=4, stream=2))


def test_orthogonal_gives_orthonormal_columns_as_jax_does():
    q = np.asarray(fj.sample((3, 4, 10), "orthogonal", seed=1, gain=2.0), np.float64)
    flat = q.reshape(12, 10)
    np.testing.assert_allclose(flat.T @ flat, 4 * np.eye(10), atol=1e-5)
    jq = np.asarray(jax.nn.initializers.orthogonal(2.0)(jax.random.key(0), (3, 4, 10)))
    jq = jq.reshape(12, 10)
    np.testing.assert_allclose(jq.T @ jq, 4 * np.eye(10), atol=1e-5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: fj.initializer("he_nromal", seed=0), ValueError, "unknown scheme.*he_normal"),
    (lambda: fj.initializer("normal", seed=0, sdt=1), TypeError, "does not take sdt"),
    (lambda: fj.initializer("normal", seed=0, in_axis=0), TypeError, "does not take in_axis"),
    (lambda: fj.initializer("normal", seed=0, std=-1), ValueError, "std must be > 0"),
    (lambda: fj.sample((8, 8), "normal", seed=0, global_shape=(16, 8), origin=(8, 0)),
     TypeError, "global_shape and origin do not apply"),
    (lambda: fj.initializer("normal", seed=0, origin=(1,)), TypeError, "origin do not apply"),
    (lambda: fj.initializer("he_normal", seed=None), TypeError, "seed"),
    (lambda: fj.initializer("he_normal", seed=0, layout="torch"), TypeError, "in_axis"),
    (lambda: fj.sample((4, -1), "zeros", seed=0), ValueError, r"shape\[1\] must be >= 0, got -1"),
    (lambda: fj.sample((4, None), "zeros", seed=0), TypeError, "shape"),
    (lambda: fj.sample((4, 4), "he_normal", seed=0, in_axis=2), ValueError, "in_axis=2"),
    (lambda: fj.initializer("zeros", seed=0)(jnp.zeros(3), (2,)), TypeError, "one JAX PRNG key"),
    (lambda: fj.sample((4,), "zeros", seed=0, dtype=jnp.int32), TypeError, "int32"),
    (lambda: fj.sample((4,), "zeros", seed=0, sharding=P("x")), ValueError, "no mesh"),
], ids=["scheme", "param", "axes-on-plain", "value", "region", "region-init", "seed", "layout",
        "negative", "none-dim", "axis-range", "not-a-key", "int-dtype", "spec-without-mesh"])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- sharded arrays -------------------------------------------------------------------

MESHES = [((8,), ("x",)), ((2, 4), ("x", "y")), ((4, 2), ("x", "y"))]
SPECS = [P("x", None), P(None, "y"), P("x", "y")]
MESH_SPECS = [(m, s) for m in MESHES for s in SPECS if set(s) - {None} <= set(m[1])] + [
    (MESHES[0], P(None, "x")), (MESHES[1], P(("x", "y"), None)), (MESHES[1], P())]


def mesh_spec_id(case):
    (shape, _), spec = case
    return f"{'x'.join(map(str, shape))}-{spec}"


@pytest.mark.parametrize("case", MESH_SPECS, ids=map(mesh_spec_id, MESH_SPECS))
@pytest.mark.parametrize("scheme, params", [("glorot_uniform", {}), ("he_normal", {}),
                                            ("normal", {"std": 0.02}), ("orthogonal", {})])
def test_sharded_sample_is_bit_equal_to_the_unsharded_array(jax_devices, case, scheme, params):
    (mesh_shape, names), spec = case
    sharding = NamedSharding(jax.make_mesh(mesh_shape, names), spec)
    shape = (32, 48)
    out = fj.sample(shape, scheme, seed=3, stream="w", sharding=sharding, **params)
    assert out.sharding == sharding
    whole = fj.sample(shape, scheme, seed=3, stream="w", **params)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(whole))
    np.testing.assert_array_equal(np.asarray(whole), fastinit.sample(
        shape, scheme, seed=3, stream="w", **fj.fill_params(scheme, shape, params)))
    for shard in out.addressable_shards:  # each device holds its own box of the whole
        np.testing.assert_array_equal(np.asarray(shard.data), np.asarray(whole)[shard.index])


def test_initializer_honours_out_sharding(jax_devices):
    sharding = NamedSharding(jax.make_mesh((2, 4), ("x", "y")), P("y", "x"))
    init = fj.initializer("glorot_uniform", seed=1)
    out = init(jax.random.key(2), (16, 8), out_sharding=sharding)
    assert out.sharding == sharding
    np.testing.assert_array_equal(out, init(jax.random.key(2), (16, 8)))


def test_a_partition_spec_uses_the_mesh_set_by_jax_set_mesh(jax_devices):
    mesh = jax.make_mesh((4, 2), ("x", "y"))
    with jax.set_mesh(mesh):
        out = fj.sample((8, 8), "he_uniform", seed=0, sharding=P("x", "y"))
    assert out.sharding == NamedSharding(mesh, P("x", "y"))
    np.testing.assert_array_equal(out, fj.sample((8, 8), "he_uniform", seed=0))


def test_this_jax_has_no_positional_sharding():
    """PositionalSharding was removed from JAX; fastinit.jax.sample takes any
    jax.sharding.Sharding, and NamedSharding is the one to use."""
    assert not hasattr(jax.sharding, "PositionalSharding")


# What jax.random does under jit with out_shardings, on the same meshes: JAX's behaviour,
# recorded so that a change shows up here, and not one of fastinit's promises.
# jax#21232 and jax#40232 report values that depend on the sharding (other JAX versions,
# GPUs, hundreds of devices). This JAX on CPU, with its default partitionable Threefry,
# gives the unsharded values on these meshes; what does change a key's values is the
# jax_threefry_partitionable setting (its default changed in JAX 0.5), which fastinit's
# values do not depend on.

@pytest.mark.parametrize("case", MESH_SPECS, ids=map(mesh_spec_id, MESH_SPECS))
def test_jax_random_under_jit_with_out_shardings_gives_unsharded_values_on_this_jax_and_cpu(
        jax_devices, case):
    (mesh_shape, names), spec = case
    sharding = NamedSharding(jax.make_mesh(mesh_shape, names), spec)
    key, shape = jax.random.key(0), (32, 48)
    sharded = jax.jit(lambda k: jax.random.normal(k, shape), out_shardings=sharding)(key)
    assert jax.config.jax_threefry_partitionable
    np.testing.assert_array_equal(np.asarray(sharded), np.asarray(jax.random.normal(key, shape)))


def test_jax_random_values_of_a_key_change_with_the_threefry_partitionable_setting():
    key, shape = jax.random.key(0), (32, 48)
    default = np.asarray(jax.random.normal(key, shape))
    jax.config.update("jax_threefry_partitionable", False)
    try:
        other = np.asarray(jax.random.normal(key, shape))
    finally:
        jax.config.update("jax_threefry_partitionable", True)
    assert not np.array_equal(default, other)
    assert np.array_equal(np.asarray(jax.random.normal(key, shape)), default)


def test_import_fastinit_imports_no_framework():
    result = run_python("import sys, fastinit; print(sorted(m for m in ('jax', 'flax', 'keras') "
                        "if m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
