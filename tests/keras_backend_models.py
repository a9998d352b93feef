"""The Keras models of tests/test_keras.py, built under the backend that KERAS_BACKEND
names, with their weights saved for the test to compare across backends.

Keras picks its backend once, at import, so each backend runs in a fresh process:
``KERAS_BACKEND=torch python keras_backend_models.py OUT.npz``. Saved arrays (as float32,
which holds bfloat16 and float16 values exactly) are keyed "built/<variable.path>" (a
model whose initializers are fastinit's), "json/<path>" (that model after to_json and
model_from_json) and "mapped/<path>" (a model with Keras' built-in initializers, then
fastinit.keras.init_model); "dtypes" holds the variables' dtypes as JSON, and
"new_modules" the libraries that importing fastinit.keras added to Keras' own.
"""
import json
import sys

import keras
import numpy as np

def _libraries():
    return {name.split(".")[0] for name in sys.modules}


_before = _libraries()
import fastinit.keras as fk  # noqa: E402

# The libraries that importing fastinit.keras added to those Keras had imported (new
# modules of those libraries, such as numpy.typing, do not count; fastinit's compiled
# core brings its Cython runtime module, _cython_*, along).
NEW_MODULES = sorted(name for name in _libraries() - _before
                     if not name.startswith(("fastinit", "_cython")))

SEED = 3


def fastinit_model():
    """Every initializer is fastinit's, without a stream: each variable reads its path's."""
    def init(scheme, **params):
        return fk.Initializer(scheme, seed=SEED, **params)

    return keras.Sequential([
        keras.Input((6, 6, 3)),
        keras.layers.Conv2D(4, 3, name="conv", kernel_initializer=init("he_normal"),
                            bias_initializer=init("normal", std=0.1)),
        keras.layers.BatchNormalization(name="norm", gamma_initializer=init("ones"),
                                        beta_initializer=init("uniform", low=-1, high=1)),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(12, name="dense", kernel_initializer=init("glorot_uniform"),
                           bias_initializer=init("zeros")),
        keras.layers.Dense(12, name="square", kernel_initializer=init("orthogonal", gain=2.0),
                           bias_initializer=init("constant", value=0.5)),
        keras.layers.Dense(5, name="head", kernel_initializer=init(
            "variance_scaling", scale=0.5, mode="fan_out", distribution="untruncated_normal")),
        keras.layers.Dense(6, name="half", dtype="bfloat16",
                           kernel_initializer=init("he_uniform"),
                           bias_initializer=init("normal", std=0.5)),
        keras.layers.Dense(6, name="f16", dtype="float16",
                           kernel_initializer=init("lecun_normal")),
    ], name="fastinit_model")


def built_in_model():
    """Keras' own initializers, which init_model maps to fastinit's schemes."""
    I = keras.initializers
    return keras.Sequential([
        keras.Input((4,), dtype="int32"),
        keras.layers.Embedding(30, 8, name="embed",
                               embeddings_initializer=I.RandomUniform(-0.2, 0.3, seed=1)),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(16, name="glorot", kernel_initializer=I.GlorotNormal(seed=1),
                           bias_initializer=I.Constant(0.25)),
        keras.layers.Dense(16, name="he", kernel_initializer=I.HeUniform(),
                           bias_initializer=I.RandomNormal(0.1, 0.2)),
        keras.layers.LayerNormalization(name="ln"),
        keras.layers.Dense(16, name="lecun", kernel_initializer=I.LecunNormal(),
                           bias_initializer=I.TruncatedNormal(0.0, 0.3)),
        keras.layers.Dense(16, name="ortho", kernel_initializer=I.Orthogonal(1.5)),
        keras.layers.Dense(3, name="scaled", kernel_initializer=I.VarianceScaling(
            0.5, "fan_out", "untruncated_normal")),
        keras.layers.Dense(4, name="half", dtype="bfloat16", kernel_initializer=I.HeNormal()),
    ], name="built_in_model")


def main(out):
    weights, dtypes = {}, {}
    for prefix, model in [("built", fastinit_model()), ("mapped", built_in_model())]:
        if prefix == "mapped":
            fk.init_model(model, seed=SEED)
        for v in model.weights:
            # float32 holds bfloat16 and float16 values exactly, and np.savez them.
            weights[f"{prefix}/{v.path}"] = np.asarray(keras.ops.convert_to_numpy(
                keras.ops.cast(v.value, "float32")))
            dtypes[f"{prefix}/{v.path}"] = str(v.dtype)
        if prefix == "built":
            again = keras.models.model_from_json(model.to_json())
            weights.update({f"json/{v.path}": np.asarray(keras.ops.convert_to_numpy(
                keras.ops.cast(v.value, "float32"))) for v in again.weights})
    np.savez(out, new_modules=np.array(NEW_MODULES, dtype=str),
             dtypes=np.array(json.dumps(dtypes)), **weights)


if __name__ == "__main__":
    main(sys.argv[1])
