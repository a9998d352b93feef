"""fastinit.keras: a Keras 3 initializer and init_model, under the jax, torch and numpy
backends. Skipped without keras (an optional extra).

Keras picks its backend once, at import: the tests in this process use the numpy backend
(unless KERAS_BACKEND says otherwise), and each backend's models are built in a fresh
process by tests/keras_backend_models.py."""
import importlib.util
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import fastinit

os.environ.setdefault("KERAS_BACKEND", "numpy")
keras = pytest.importorskip("keras")
scipy_stats = pytest.importorskip("scipy.stats")
import fastinit.keras as fk  # noqa: E402
from keras.src.initializers.random_initializers import compute_fans as keras_fans  # noqa: E402

TRUNCATED_STD = 0.87962566103423978
BACKENDS = {"jax": "jax", "torch": "torch", "numpy": "numpy"}  # backend: library it needs


# ---- the same weights under every backend ---------------------------------------------

@pytest.fixture(scope="module")
def backend_weights(tmp_path_factory):
    """{backend: {key: array}} from keras_backend_models.py, one process per installed
    backend, run side by side."""
    out = tmp_path_factory.mktemp("keras")
    runs = {}
    for backend, library in BACKENDS.items():
        if importlib.util.find_spec(library) is None:
            continue
        env = {**os.environ, "KERAS_BACKEND": backend,
               "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))}
        runs[backend] = subprocess.Popen(
            [sys.executable, "keras_backend_models.py", str(out / f"{backend}.npz")],
            cwd=os.path.dirname(os.path.abspath(__file__)), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results = {}
    for backend, run in runs.items():
        log, _ = run.communicate(timeout=300)
        results[backend] = (run.returncode, log, out / f"{backend}.npz")
    return results


def weights_under(backend_weights, backend):
    pytest.importorskip(BACKENDS[backend])
    returncode, log, path = backend_weights[backend]
    assert returncode == 0, log
    with np.load(path) as saved:
        return dict(saved)


# The fastinit_model of keras_backend_models.py, as fastinit.fill computes it: each stream
# is the variable's path without the model's name, which Keras adds to the paths of the
# layers a Sequential builds itself, and not to those of a model rebuilt from JSON.
FASTINIT_MODEL = {
    "conv/kernel": ((3, 3, 3, 4), "he_normal", {"truncated": True}),
    "conv/bias": ((4,), "normal", {"std": 0.1}),
    "norm/gamma": ((4,), "ones", {}),
    "norm/beta": ((4,), "uniform", {"low": -1, "high": 1}),
    "dense/kernel": ((64, 12), "glorot_uniform", {}),
    "dense/bias": ((12,), "zeros", {}),
    "square/kernel": ((12, 12), "orthogonal", {"gain": 2.0}),
    "square/bias": ((12,), "constant", {"value": 0.5}),
    "head/kernel": ((12, 5), "variance_scaling", {"scale": 0.5, "mode": "fan_out",
                                                  "distribution": "normal"}),
    "half/kernel": ((5, 6), "he_uniform", {"dtype": "bfloat16"}),
    "half/bias": ((6,), "normal", {"std": 0.5, "dtype": "bfloat16"}),
    "f16/kernel": ((6, 6), "lecun_normal", {"truncated": True, "dtype": "float16"}),
}


def expected(table, path, seed=3):
    """The table's fill for `path`, as float32 (as keras_backend_models.py saves it)."""
    shape, scheme, params = table[path]
    return fastinit.sample(shape, scheme, seed=seed, stream=path, **params).astype(np.float32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_built_with_fastinit_initializers_holds_fastinit_fills(backend_weights, backend):
    weights = weights_under(backend_weights, backend)
    dtypes = json.loads(str(weights["dtypes"]))
    for path, (_, _, params) in FASTINIT_MODEL.items():
        key = f"built/fastinit_model/{path}"
        np.testing.assert_array_equal(weights[key], expected(FASTINIT_MODEL, path), err_msg=path)
        assert dtypes[key] == params.get("dtype", "float32")


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_from_json_builds_the_same_weights(backend_weights, backend):
    weights = weights_under(backend_weights, backend)
    built = sorted(k for k in weights if k.startswith("built/"))
    assert len(built) == 16  # with BatchNormalization's moving statistics
    for key in built:
        path = key.removeprefix("built/fastinit_model/")
        np.testing.assert_array_equal(weights[f"json/{path}"], weights[key], err_msg=path)


# The built_in_model of keras_backend_models.py after init_model: Keras' initializers as
# the fastinit schemes with their formulas (Keras' glorot/he/lecun_normal are truncated).
BUILT_IN_MODEL = {
    "embed/embeddings": ((30, 8), "uniform", {"low": -0.2, "high": 0.3}),
    "glorot/kernel": ((32, 16), "glorot_normal", {"truncated": True}),
    "glorot/bias": ((16,), "constant", {"value": 0.25}),
    "he/kernel": ((16, 16), "he_uniform", {}),
    "he/bias": ((16,), "normal", {"mean": 0.1, "std": 0.2}),
    "ln/gamma": ((16,), "ones", {}),
    "ln/beta": ((16,), "zeros", {}),
    "lecun/kernel": ((16, 16), "lecun_normal", {"truncated": True}),
    "lecun/bias": ((16,), "truncated_normal", {"std": 0.3, "bound": 2}),
    "ortho/kernel": ((16, 16), "orthogonal", {"gain": 1.5}),
    "ortho/bias": ((16,), "zeros", {}),
    "scaled/kernel": ((16, 3), "normal", {"std": math.sqrt(0.5 / 3)}),
    "scaled/bias": ((3,), "zeros", {}),
    "half/kernel": ((3, 4), "he_normal", {"truncated": True, "dtype": "bfloat16"}),
    "half/bias": ((4,), "zeros", {"dtype": "bfloat16"}),
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_init_model_gives_keras_built_ins_their_formulas_on_path_streams(backend_weights,
                                                                         backend):
    weights = weights_under(backend_weights, backend)
    dtypes = json.loads(str(weights["dtypes"]))
    assert len([k for k in weights if k.startswith("mapped/")]) == len(BUILT_IN_MODEL)
    for path, (_, _, params) in BUILT_IN_MODEL.items():
        actual = weights[f"mapped/built_in_model/{path}"]
        assert dtypes[f"mapped/built_in_model/{path}"] == params.get("dtype", "float32")
        if path == "scaled/kernel":  # std from Keras' formula, computed a different way
            np.testing.assert_allclose(actual, expected(BUILT_IN_MODEL, path), rtol=1e-6)
        else:
            np.testing.assert_array_equal(actual, expected(BUILT_IN_MODEL, path), err_msg=path)


def test_every_backend_gives_the_same_weights(backend_weights):
    per_backend = {b: weights_under(backend_weights, b) for b in BACKENDS}
    reference = per_backend["numpy"]
    for backend, weights in per_backend.items():
        assert sorted(weights) == sorted(reference)
        for key, value in reference.items():
            np.testing.assert_array_equal(weights[key], value, err_msg=f"{backend}: {key}")


# ---- the initializer --------------------------------------------------------------------

def test_config_round_trips_through_get_config_and_keras_serialization():
    init = fk.Initializer("he_normal", seed=2**63 + 5, stream="enc", nonlinearity="tanh",
                          mode="fan_out")
    config = init.get_config()
    assert config == {"scheme": "he_normal", "seed": 2**63 + 5, "stream": "enc",
                      "nonlinearity": "tanh", "mode": "fan_out"}
    again = fk.Initializer.from_config(config)
    assert again.get_config() == config
    np.testing.assert_array_equal(again((7, 5)), init((7, 5)))
    serialized = keras.initializers.serialize(init)
    assert serialized["registered_name"] == "fastinit>Initializer"
    restored = keras.initializers.deserialize(serialized)
    assert type(restored) is fk.Initializer and restored.get_config() == config
    layer_config = keras.layers.Dense(3, kernel_initializer=init).get_config()
    layer = keras.layers.Dense.from_config(layer_config)
    assert layer.kernel_initializer.get_config() == config


def test_a_direct_call_reads_stream_0_or_the_given_stream():
    values = fk.Initializer("glorot_uniform", seed=1)((6, 4))
    np.testing.assert_array_equal(values, fastinit.sample((6, 4), "glorot_uniform", seed=1))
    np.testing.assert_array_equal(fk.Initializer("glorot_uniform", seed=1, stream=9)((6, 4)),
                                  fastinit.sample((6, 4), "glorot_uniform", seed=1, stream=9))


def test_a_variable_reads_its_path_as_stream_as_init_model_does():
    init = fk.Initializer("lecun_uniform", seed=4)
    layer = keras.layers.Dense(6, name="lone", kernel_initializer=init)
    layer.build((None, 5))
    first = np.array(layer.kernel.numpy())
    np.testing.assert_array_equal(first, fastinit.sample((5, 6), "lecun_uniform", seed=4,
                                                         stream="lone/kernel"))
    fk.init_model(layer, seed=4)
    np.testing.assert_array_equal(layer.kernel.numpy(), first)


def test_layers_sharing_one_initializer_get_different_values():
    init = fk.Initializer("he_uniform", seed=0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, kernel_initializer=init),
                              keras.layers.Dense(8, kernel_initializer=init)])
    first, second = (layer.kernel.numpy() for layer in model.layers)
    assert not np.array_equal(first, second)


def test_dtypes_follow_keras_and_float64_is_fastinits_float64_fill():
    init = fk.Initializer("normal", seed=3, std=0.5)
    assert np.asarray(init((4,))).dtype == np.float32
    np.testing.assert_array_equal(init((4,), dtype="float64"),
                                  fastinit.sample(4, "normal", std=0.5, seed=3, dtype=np.float64))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_narrow_dtypes_are_the_float32_values_rounded_to_nearest_even(dtype):
    values = keras.ops.convert_to_numpy(fk.Initializer("he_normal", seed=3)((9, 7), dtype=dtype))
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    rounded = fastinit.sample((9, 7), "he_normal", truncated=True, seed=3).astype(values.dtype)
    np.testing.assert_array_equal(values.view(np.uint16), rounded.view(np.uint16))


def test_fans_are_keras_compute_fans():
    for shape in [(), (7,), (6, 5), (3, 4, 5), (2, 3, 4, 5), (2, 2, 2, 3, 4)]:
        assert fastinit.compute_fans(shape) == keras_fans(shape)


# Keras' own initializers against what init_model maps them to (scheme_of), on large
# shapes: the scale by Keras' formula from its fans, and the distribution by a
# two-sample Kolmogorov-Smirnov test against Keras' own draws.
I = keras.initializers
KERAS_FORMULAS = [  # (initializer, scale of its unit draw, unit draw)
    (I.GlorotUniform(seed=1), lambda fi, fo: math.sqrt(6 / (fi + fo)), "uniform"),
    (I.GlorotNormal(seed=1), lambda fi, fo: math.sqrt(2 / (fi + fo)) / TRUNCATED_STD, "truncated"),
    (I.HeUniform(seed=1), lambda fi, fo: math.sqrt(6 / fi), "uniform"),
    (I.HeNormal(seed=1), lambda fi, fo: math.sqrt(2 / fi) / TRUNCATED_STD, "truncated"),
    (I.LecunUniform(seed=1), lambda fi, fo: math.sqrt(3 / fi), "uniform"),
    (I.LecunNormal(seed=1), lambda fi, fo: math.sqrt(1 / fi) / TRUNCATED_STD, "truncated"),
    (I.VarianceScaling(0.3, "fan_avg", "untruncated_normal", seed=1),
     lambda fi, fo: math.sqrt(0.3 / ((fi + fo) / 2)), "normal"),
    (I.VarianceScaling(2.0, "fan_out", "truncated_normal", seed=1),
     lambda fi, fo: math.sqrt(2.0 / fo) / TRUNCATED_STD, "truncated"),
    (I.VarianceScaling(1.5, "fan_in", "uniform", seed=1, input_axes=[1, 2], output_axes=[3]),
     lambda fi, fo: math.sqrt(3 * 1.5 / fi), "uniform"),
    (I.RandomNormal(0.0, 0.3, seed=1), lambda fi, fo: 0.3, "normal"),
    (I.RandomUniform(-0.4, 0.4, seed=1), lambda fi, fo: 0.4, "uniform"),
    (I.TruncatedNormal(0.0, 0.3, seed=1), lambda fi, fo: 0.3, "truncated"),
]


def unit_draw(shape, kind):
    params = {"uniform": ("uniform", {"low": -1, "high": 1}), "normal": ("normal", {}),
              "truncated": ("truncated_normal", {"bound": 2})}[kind]
    return fastinit.sample(shape, params[0], seed=7, stream="w", **params[1])


@pytest.mark.parametrize("initializer, scale, kind", KERAS_FORMULAS,
                         ids=[f"{type(i).__name__}-{n}"
                              for n, (i, _, _) in enumerate(KERAS_FORMULAS)])
def test_keras_built_ins_map_to_their_formula_and_distribution(initializer, scale, kind):
    shape = (3, 3, 64, 64)
    scheme, params = fk.scheme_of(initializer)
    ours = fastinit.sample(shape, scheme, seed=7, stream="w",
                           **fk.fill_params(scheme, shape, params))
    unit = unit_draw(shape, kind)
    big = np.abs(unit) > 0.5
    fans = keras_fans(shape, getattr(initializer, "input_axes", None),
                      getattr(initializer, "output_axes", None))
    assert np.median(ours[big].astype(np.float64) / unit[big]) == pytest.approx(
        scale(*fans), rel=1e-6)
    theirs = np.asarray(initializer(shape)).ravel()
    assert scipy_stats.ks_2samp(ours.ravel(), theirs).pvalue > 1e-4


def test_init_model_on_keras_orthogonal_gives_orthonormal_columns():
    layer = keras.layers.Dense(10, name="q", kernel_initializer=I.Orthogonal(gain=2.0))
    layer.build((None, 30))
    fk.init_model(layer, seed=0)
    q = np.asarray(layer.kernel.numpy(), np.float64)
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(10), atol=1e-5)


# ---- init_model's rules and refusals ---------------------------------------------------

def small_model(name="small"):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"),
                             keras.layers.Dense(2, name="b")], name=name)


def test_rules_come_first_and_match_paths_without_the_model_name():
    model = fk.init_model(small_model(), seed=5, rules=[
        ("a/kernel", ("normal", {"std": 2.0})), ("*/bias", ("uniform", {"low": 1, "high": 2}))])
    np.testing.assert_array_equal(model.get_layer("a").kernel.numpy(), fastinit.sample(
        (4, 3), "normal", std=2.0, seed=5, stream="a/kernel"))
    np.testing.assert_array_equal(model.get_layer("b").bias.numpy(), fastinit.sample(
        2, "uniform", low=1, high=2, seed=5, stream="b/bias"))
    np.testing.assert_array_equal(model.get_layer("b").kernel.numpy(), fastinit.sample(
        (3, 2), "glorot_uniform", seed=5, stream="b/kernel"))  # Dense's default


@pytest.mark.parametrize("name", ["normal", "uniform", "truncated_normal"])
def test_plain_schemes_draw_as_keras_initializers_of_that_name_with_their_defaults(name):
    shape = (100_000,)
    ours = np.asarray(fk.Initializer(name, seed=0)(shape))
    theirs = keras.ops.convert_to_numpy(type(keras.initializers.get(name))(seed=0)(shape))
    assert scipy_stats.ks_2samp(ours, theirs).pvalue > 1e-4
    assert np.abs(ours).max() < 0.3  # not fastinit's own defaults, std 1 or U[0, 1)


def test_rules_give_plain_schemes_keras_defaults():
    model = fk.init_model(small_model(), seed=5, rules={"*/kernel": "normal", "*": "zeros"})
    np.testing.assert_array_equal(model.get_layer("a").kernel.numpy(), fastinit.sample(
        (4, 3), "normal", std=0.05, seed=5, stream="a/kernel"))


def test_rule_none_keeps_a_variable():
    model = small_model()
    before = model.get_layer("a").kernel.numpy().copy()
    fk.init_model(model, seed=5, rules={"a/kernel": None})
    np.testing.assert_array_equal(model.get_layer("a").kernel.numpy(), before)


def test_an_initializer_without_mapping_is_named_and_nothing_is_assigned():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, name="ok"),
                              keras.layers.Dense(4, name="eye", kernel_initializer="identity")])
    before = [np.array(w.numpy()) for w in model.weights]
    with pytest.raises(ValueError, match="eye/kernel: its initializer Identity has no fastinit"):
        fk.init_model(model, seed=0)
    for weight, old in zip(model.weights, before):
        np.testing.assert_array_equal(weight.numpy(), old)
    fk.init_model(model, seed=0, rules={"eye/kernel": "orthogonal"})


def test_depthwise_and_separable_convolutions_take_their_depthwise_and_pointwise_initializers():
    # Their kernels are not NAME_initializer: DepthwiseConv2D's "kernel" comes from
    # depthwise_initializer, SeparableConv2D's depthwise_kernel and pointwise_kernel
    # from depthwise_initializer and pointwise_initializer (MobileNet, Xception).
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw",
                                     depthwise_initializer=I.HeUniform()),
        keras.layers.SeparableConv2D(4, 3, name="sep", depthwise_initializer=I.LecunUniform(),
                                     pointwise_initializer=I.RandomNormal(0.0, 0.3),
                                     bias_initializer=I.Constant(0.5)),
    ])
    fk.init_model(model, seed=2)
    expected = {
        "dw/kernel": fastinit.sample((3, 3, 3, 2), "he_uniform", seed=2, stream="dw/kernel"),
        "dw/bias": np.zeros(6, np.float32),
        "sep/depthwise_kernel": fastinit.sample((3, 3, 6, 1), "lecun_uniform", seed=2,
                                                stream="sep/depthwise_kernel"),
        "sep/pointwise_kernel": fastinit.sample((1, 1, 6, 4), "normal", std=0.3, seed=2,
                                                stream="sep/pointwise_kernel"),
        "sep/bias": np.full(4, 0.5, np.float32),
    }
    assert [fk.relative_path(w.path, {model.name}) for w in model.weights] == list(expected)
    for weight, (path, values) in zip(model.weights, expected.items()):
        np.testing.assert_array_equal(weight.numpy(), values, err_msg=path)


def two_towers(inner_names):
    """A model of two Sequential sub-models whose Dense layers are named `inner_names`."""
    inputs = keras.Input((8,))
    towers = [keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name=inner)], name=name)
              for name, inner in zip(("enc", "dec"), inner_names)]
    return keras.Model(inputs, [tower(inputs) for tower in towers], name="towers")


def test_sub_models_with_layers_of_one_name_are_refused_not_given_equal_weights():
    # Their paths, enc/proj/kernel and dec/proj/kernel, differ only by the model names,
    # which the streams leave out: both would read "proj/kernel" and be equal.
    model = two_towers(("proj", "proj"))
    before = [np.array(w.numpy()) for w in model.weights]
    with pytest.raises(ValueError, match=r"enc/proj/kernel and dec/proj/kernel \(stream "
                                         r"'proj/kernel'\).*distinct names"):
        fk.init_model(model, seed=0)
    for weight, old in zip(model.weights, before):
        np.testing.assert_array_equal(weight.numpy(), old)
    renamed = fk.init_model(two_towers(("enc_proj", "dec_proj")), seed=0)
    enc, dec = (w.numpy() for w in renamed.weights if w.name == "kernel")
    assert not np.array_equal(enc, dec)
    np.testing.assert_array_equal(enc, fastinit.sample((8, 4), "glorot_uniform", seed=0,
                                                       stream="enc_proj/kernel"))


def test_lstm_forget_gate_bias_is_refused_unless_a_rule_says():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4, name="lstm")])
    with pytest.raises(ValueError, match="lstm/lstm_cell/bias: LSTMCell.unit_forget_bias"):
        fk.init_model(model, seed=0)
    fk.init_model(model, seed=0, rules={"*/bias": None})
    np.testing.assert_array_equal(model.weights[1].numpy(), fastinit.sample(
        (4, 16), "orthogonal", seed=0, stream="lstm/lstm_cell/recurrent_kernel"))


@pytest.mark.parametrize("call, error, match", [
    (lambda: fk.Initializer("glorot_unifrom", seed=0), ValueError, "unknown scheme"),
    (lambda: fk.Initializer("normal", seed=0, sdt=1.0), TypeError, "does not take sdt"),
    (lambda: fk.Initializer("normal", seed=0, std=0.0), ValueError, "std must be > 0"),
    (lambda: fk.Initializer("normal", seed=None), TypeError, "seed"),
    (lambda: fk.Initializer("variance_scaling", seed=0, distribution="normal"), ValueError,
     "truncated_normal"),
    (lambda: fk.Initializer("zeros", seed=0)((None, 3)), TypeError, "shape"),
    (lambda: fk.Initializer("zeros", seed=0)((3, -2)), ValueError, r"shape\[1\] must be >= 0, got -2"),
    (lambda: fk.Initializer("zeros", seed=0)((2.5,)), TypeError, "shape"),
    (lambda: fk.Initializer("orthogonal", seed=0)((5,)), ValueError, "rank 2"),
    (lambda: fk.Initializer("zeros", seed=0)((2,), dtype="int32"), TypeError, "int32"),
    (lambda: fk.init_model(keras.Sequential([keras.layers.Dense(2)]), seed=0), ValueError,
     "not built"),
    (lambda: fk.init_model(small_model(), seed=0, rules={"*": "he_nromal"}), ValueError,
     "unknown scheme"),
], ids=["scheme", "param", "value", "seed", "ambiguous-normal", "none-dim", "negative",
        "float-dim", "orthogonal-rank", "int-dtype", "unbuilt", "rule-scheme"])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_saved_model_reloads_with_its_fastinit_initializers(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        3, name="d", kernel_initializer=fk.Initializer("he_uniform", seed=8))])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_layer("d").kernel_initializer.get_config() == {
        "scheme": "he_uniform", "seed": 8, "stream": None}


@pytest.mark.parametrize("backend", BACKENDS)
def test_import_fastinit_keras_imports_no_library_that_keras_did_not(backend_weights, backend):
    assert list(weights_under(backend_weights, backend)["new_modules"]) == []
