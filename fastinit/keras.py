"""Keras 3: an initializer that fills with fastinit, and a whole model filled by paths.

The values are computed on the host by fastinit and handed to the backend, so a model
gets the same weights under every Keras backend (jax, torch, numpy, tensorflow).

Scheme names mean what they mean in Keras: ``glorot_normal``, ``he_normal`` and
``lecun_normal`` draw Keras' truncated normal (``truncated=True`` is the default here);
``variance_scaling`` takes Keras' ``distribution`` names, "truncated_normal" (default),
"untruncated_normal" and "uniform", and ``input_axes=``/``output_axes=`` as Keras'
VarianceScaling does. Fans are Keras' (``keras.initializers`` compute_fans). The plain
schemes take the defaults of Keras' initializers of the same name: ``normal`` and
``truncated_normal`` std 0.05, ``uniform`` low -0.05 and high 0.05.

>>> import fastinit.keras
>>> init = fastinit.keras.Initializer("he_normal", seed=0)
>>> layer = keras.layers.Dense(512, kernel_initializer=init)
>>> model = keras.Sequential([keras.Input((64,)), layer])
>>> model = fastinit.keras.init_model(model, seed=0)  # every weight, from its initializer
>>> tuple(layer.kernel.shape)
(64, 512)
"""
from __future__ import annotations

import math
import sys
from typing import Any, Collection, Sequence

import keras

import fastinit

from . import _frameworks
from ._typing import Seed, Stream

# Keras calls "normal" what it draws truncated, fastinit and JAX call it untruncated.
_DISTRIBUTIONS = {"truncated_normal": "truncated_normal", "untruncated_normal": "normal",
                  "uniform": "uniform"}


def fill_params(scheme: str, shape: Sequence[int], params: dict[str, Any]) -> dict[str, Any]:
    """fastinit.fill's parameters for `scheme` as Keras means it, for a tensor of `shape`."""
    params = _frameworks.framework_params(scheme, params)
    if "distribution" in params and _frameworks.is_fan_scheme(scheme):
        given = params["distribution"]
        if given not in _DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {', '.join(map(repr, _DISTRIBUTIONS))} "
                             f"(Keras' names; Keras reads 'normal' as 'truncated_normal'), "
                             f"got {given!r}")
        params = {**params, "distribution": _DISTRIBUTIONS[given]}
    if "input_axes" in params or "output_axes" in params:
        params = dict(params)
        input_axes, output_axes = params.pop("input_axes", None), params.pop("output_axes", None)
        if input_axes is not None and output_axes is not None:  # else ignored, as in Keras
            params["fan_in"] = max(math.prod(shape[a] for a in input_axes), 1)
            params["fan_out"] = max(math.prod(shape[a] for a in output_axes), 1)
    return params


def relative_path(path: str, model_names: Collection[str]) -> str:
    """A variable's path without the names of the Keras models around it.

    Keras puts a model's name in the paths of the layers that the model builds itself
    (a Sequential given an Input, a subclassed model) but not in those of a model
    rebuilt from its config ("seq/dense/kernel" becomes "dense/kernel"), so only the
    path without model names stays the same; it is the stream fastinit.keras uses.
    """
    *scopes, name = path.split("/")
    return "/".join([scope for scope in scopes if scope not in model_names] + [name])


def _path_being_created() -> str | None:
    """The relative path of the keras.Variable whose initializer is running, or None
    outside variable creation. Keras passes an initializer only shape and dtype, from a
    method of the variable it creates, within the methods of the layers and models
    that build it: all of them are on the call stack."""
    path, models = None, set()
    frame = sys._getframe(2)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if path is None and isinstance(owner, keras.Variable):
            path = owner.path
        elif isinstance(owner, keras.Model):
            models.add(owner.name)
        frame = frame.f_back
    return None if path is None else relative_path(path, models)


@keras.saving.register_keras_serializable(package="fastinit")
class Initializer(keras.initializers.Initializer):
    """A Keras initializer that fills with fastinit; usable as ``kernel_initializer=``.

    Parameters
    ----------
    scheme : str
        A fastinit scheme with its Keras meaning (see the module's docstring).
    seed : int in [0, 2**64)
    stream : int or str, optional
        Without it, the stream is the path of the variable being created, without the
        names of models (``relative_path``: "dense_1/kernel", "mha/query/kernel"), read
        from the call stack since Keras does not pass it to initializers. So layers
        share no values (but the same-named layers of two sub-models share their path
        and so their values; init_model refuses them), a model rebuilt from its config
        (model_from_json, from_config, clone_model: the same layer names) gets the same
        weights, and these are the values that init_model gives the variable with the
        same seed and scheme. Called directly, outside variable creation, it reads
        stream 0, the same values on every call (as a seeded Keras initializer does).
        With a stream, every call reads that stream.
    **params
        The scheme's parameters (gain=, mode=, std=, ...).

    Variables may be float32, float64, bfloat16 or float16 (a narrow dtype holds the
    float32 values rounded to nearest even, as docs/stream.md says). The configuration
    (get_config) is the scheme, seed, stream and params; the class is registered as
    "fastinit>Initializer", so a saved model reloads with it wherever fastinit.keras has
    been imported.
    """

    def __init__(self, scheme: str, *, seed: Seed, stream: Stream | None = None,
                 **params: Any) -> None:
        params = _frameworks.initializer_params("keras", scheme, params)
        # Check what can be checked without a shape now, rather than at the first build.
        probe = {"fan_in": 1, "fan_out": 1, **params} if _frameworks.is_fan_scheme(scheme) \
            else params
        fastinit.sample((2, 2), scheme, seed=_frameworks.require_seed(seed),
                        stream=0 if stream is None else stream,
                        **fill_params(scheme, (2, 2), probe))
        self.scheme, self.seed, self.stream, self.params = scheme, seed, stream, dict(params)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _frameworks.check_shape(shape)
        dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
        stream = self.stream if self.stream is not None else _path_being_created() or 0
        values = fastinit.fill(_frameworks.aligned_empty(shape, dtype), self.scheme,
                               seed=self.seed, stream=stream,
                               **fill_params(self.scheme, shape, self.params))
        return keras.ops.convert_to_tensor(values, dtype=dtype)  # no copy where it can

    def get_config(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "seed": self.seed, "stream": self.stream, **self.params}


# Keras' built-in initializers as fastinit schemes with the same formula (their seeds are
# not used: init_model's seed and the variable's path say which values are drawn).
_BUILT_INS = {
    keras.initializers.Zeros: lambda i: ("zeros", {}),
    keras.initializers.Ones: lambda i: ("ones", {}),
    keras.initializers.Constant: lambda i: ("constant", {"value": float(i.value)}),
    keras.initializers.RandomUniform: lambda i: ("uniform", {"low": float(i.minval),
                                                             "high": float(i.maxval)}),
    keras.initializers.RandomNormal: lambda i: ("normal", {"mean": float(i.mean),
                                                           "std": float(i.stddev)}),
    keras.initializers.TruncatedNormal: lambda i: ("truncated_normal", {
        "mean": float(i.mean), "std": float(i.stddev), "bound": 2.0}),
    keras.initializers.Orthogonal: lambda i: ("orthogonal", {"gain": float(i.gain)}),
}
for _cls in (keras.initializers.VarianceScaling, keras.initializers.GlorotUniform,
             keras.initializers.GlorotNormal, keras.initializers.HeUniform,
             keras.initializers.HeNormal, keras.initializers.LecunUniform,
             keras.initializers.LecunNormal):
    _BUILT_INS[_cls] = lambda i: ("variance_scaling", {
        "scale": float(i.scale), "mode": i.mode, "distribution": i.distribution,
        "input_axes": i.input_axes, "output_axes": i.output_axes})


def scheme_of(initializer: Any) -> tuple[str, dict[str, Any]]:
    """(scheme, params) with the formula of a Keras built-in initializer (or of a
    fastinit.keras.Initializer), or a ValueError for any other initializer."""
    if isinstance(initializer, Initializer):
        return initializer.scheme, initializer.params
    mapping = _BUILT_INS.get(type(initializer))
    if mapping is None:
        raise ValueError(f"its initializer {type(initializer).__name__} has no fastinit "
                         f"equivalent")
    return mapping(initializer)


# The variables whose initializer is not NAME_initializer: the recurrent layers' and the
# separable convolutions' kernels, and DepthwiseConv*D's "kernel".
_INITIALIZER_NAMES = {"recurrent_kernel": "recurrent", "depthwise_kernel": "depthwise",
                      "pointwise_kernel": "pointwise"}
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)


def _layer_initializer(layer, variable):
    """The initializer that `layer` was configured with for `variable`: the attribute
    NAME_initializer for a variable called NAME, or as _INITIALIZER_NAMES says."""
    if layer is None:
        raise ValueError("no layer of the model owns it")
    if variable.name == "bias" and getattr(layer, "unit_forget_bias", False):
        raise ValueError(f"{type(layer).__name__}(unit_forget_bias=True) sets part of its bias "
                         f"to ones with a function of its own")
    name = _INITIALIZER_NAMES.get(variable.name, variable.name)
    if name == "kernel" and isinstance(layer, _DEPTHWISE):
        name = "depthwise"
    initializer = getattr(layer, f"{name}_initializer", None)
    if initializer is None:
        raise ValueError(f"{type(layer).__name__} has no {name}_initializer")
    return initializer


def init_model(model: Any, *, seed: Seed, rules: Any = None) -> Any:
    """Assigns every weight of a built Keras model with fastinit; returns the model.

    Parameters
    ----------
    model : keras.Model (or Layer), built
    seed : int in [0, 2**64)
    rules : dict {pattern: spec} or sequence of (pattern, spec), optional
        In order; the first whose glob pattern matches a variable's path without model
        names (relative_path: "dense_1/kernel", not "sequential/dense_1/kernel"; ``*``
        matches across '/') decides: spec is a scheme name, a (scheme, params) pair with
        the Keras meanings, or None to keep the variable's current values.

    A weight that no rule matches takes its layer's configured initializer (the layer's
    NAME_initializer for a variable NAME; recurrent_initializer for recurrent_kernel,
    depthwise_ and pointwise_initializer for the depthwise and separable convolutions'
    kernels) when that is a Keras built-in (Zeros, Ones,
    Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling and its
    Glorot/He/Lecun subclasses, Orthogonal) or a fastinit.keras.Initializer, with the
    same formula; that initializer's seed (and a fastinit one's stream) is not used. Every weight's stream is that
    path, so its values do not depend on the order of the layers, on the backend, or on
    whether the model was built from code or from its config. Weights are
    ``model.weights`` (trainable and not, e.g. BatchNormalization's moving statistics);
    the state of random-number layers (Dropout's seed generator) is left alone.

    Every value is computed before any is assigned (one host copy of the weights), so a
    refused variable leaves the model untouched.

    Raises
    ------
    ValueError
        Naming every weight that has neither a rule nor a mapped initializer (e.g.
        Identity, or LSTM's unit_forget_bias); naming the random weights of sub-models
        whose layers have the same names, whose paths without model names, and so
        streams, are the same; and for a model not yet built.
    """
    seed = _frameworks.require_seed(seed)
    parsed = _frameworks.parse_rules(rules, "keras")
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built, so it has no weights yet; "
                         f"build it first (model.build(input_shape), or call it on data)")
    every_layer = list(model._flatten_layers(include_self=True))
    owners = {layer.path: layer for layer in every_layer}
    models = {layer.name for layer in every_layer if isinstance(layer, keras.Model)}
    chosen, problems = [], []
    for variable in model.weights:
        path = relative_path(variable.path, models)
        rule = _frameworks.first_match(parsed, path)
        if rule is not None:
            chosen.append((variable, path, rule.scheme, rule.params))
            continue
        try:
            owner = owners.get(variable.path.rpartition("/")[0])
            chosen.append((variable, path, *scheme_of(_layer_initializer(owner, variable))))
        except ValueError as error:
            problems.append(f"{path}: {error}")
    if problems:
        raise ValueError("no rule matches these weights and their initializers cannot be "
                         "mapped: " + "; ".join(problems) + ". Give rules for them, e.g. "
                         "rules={'lstm/lstm_cell/bias': 'zeros'}, or None to keep them.")
    values, readers = [], {}
    for variable, path, scheme, params in chosen:
        if scheme is None:
            continue
        shape = tuple(variable.shape)
        try:
            params = fill_params(scheme, shape, params)
            values.append((variable, fastinit.fill(
                _frameworks.aligned_empty(shape, variable.dtype), scheme, seed=seed,
                stream=path, **params)))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{path}: {error}") from error
        if fastinit.schemes.plan(scheme, params, variable.dtype, shape).kind != "constant":
            readers.setdefault(path, []).append(variable.path)
    shared = {path: names for path, names in readers.items() if len(names) > 1}
    if shared:
        # Sub-models holding layers of the same name: their paths differ only by the
        # model names, which are not part of the stream (relative_path).
        raise ValueError("these weights would read the same stream, and so get the same "
                         "values: " + "; ".join(f"{' and '.join(names)} (stream {path!r})"
                                                for path, names in shared.items())
                         + ". The stream is the path without model names; give these "
                         "layers distinct names.")
    for variable, value in values:
        variable.assign(value)
    return model
