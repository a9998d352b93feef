"""JAX: initializers with JAX's signature, and sharded arrays that equal the unsharded ones.

Values are filled on the host by fastinit (see docs/stream.md) and then placed on the devices,
so they depend on (seed, stream, shape, dtype, scheme) only: not on the mesh, the
PartitionSpec, the number of devices or any JAX setting.

Scheme names mean what they mean in JAX: ``glorot_normal``, ``he_normal`` and
``lecun_normal`` draw JAX's truncated normal (``truncated=True`` is the default here;
pass ``truncated=False`` for PyTorch's untruncated form). Fans follow
``jax.nn.initializers.variance_scaling``: ``in_axis=-2``, ``out_axis=-1``,
``batch_axis=()`` by default, the receptive field is the product of the other axes.
In ``initializer`` and in fastinit.flax's rules the plain schemes take the defaults of
``jax.nn.initializers``: ``normal`` and ``truncated_normal`` std 0.01, ``uniform`` high
0.01; ``sample`` keeps ``jax.random``'s (std 1, high 1), which are fastinit's.

>>> import fastinit.jax
>>> import flax.linen
>>> from jax.sharding import NamedSharding, PartitionSpec as P
>>> dense = flax.linen.Dense(512, kernel_init=fastinit.jax.initializer("he_normal", seed=0))
>>> mesh = jax.make_mesh((len(jax.devices()), 1), ("x", "y"))
>>> w = fastinit.jax.sample((1024, 512), "glorot_uniform", seed=0, stream="w",
...                         sharding=NamedSharding(mesh, P("x", "y")))
>>> w.sharding.spec, bool((np.asarray(w) == fastinit.sample((1024, 512), "glorot_uniform",
...                                                         seed=0, stream="w")).all())
(P('x', 'y'), True)
"""
from __future__ import annotations

import hashlib
import math
from typing import Any, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

import fastinit

from . import _frameworks
from ._typing import Seed, Stream

FAN_AXES = ("in_axis", "out_axis", "batch_axis")
Axes = Union[int, Sequence[int]]


def compute_fans(shape: Sequence[int], in_axis: Axes = -2, out_axis: Axes = -1,
                 batch_axis: Axes = ()) -> tuple[int, int]:
    """(fan_in, fan_out) of a tensor of `shape` as jax.nn.initializers computes them.

    fan_in = prod(shape[in_axis]) * receptive, fan_out = prod(shape[out_axis]) *
    receptive, receptive = the product of the axes that are in none of the three.
    An axis is an int or a sequence of ints; axes may not be shared.
    """
    shape = _frameworks.check_shape(shape)
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"a tensor of shape {shape} has no input axis -2, so its fans are "
                         f"undefined (as in jax.nn.initializers); pass in_axis= and out_axis=, "
                         f"or fan_in= and fan_out=, or use a scheme without fans for it "
                         f"(biases: 'zeros')")
    groups = [_axes(a, len(shape), name)
              for a, name in ((in_axis, "in_axis"), (out_axis, "out_axis"),
                              (batch_axis, "batch_axis"))]
    used = [axis for group in groups for axis in group]
    if len(set(used)) != len(used):
        raise ValueError(f"in_axis={in_axis!r}, out_axis={out_axis!r} and batch_axis="
                         f"{batch_axis!r} share an axis of the shape {shape}; each axis may "
                         f"be in one of them only")
    receptive = math.prod(n for axis, n in enumerate(shape) if axis not in used)
    n_in, n_out = (math.prod(shape[axis] for axis in group) for group in groups[:2])
    return n_in * receptive, n_out * receptive


def _axes(value, rank, name):
    axes = _frameworks.int_list(value, name)
    for axis in axes:
        if not -rank <= axis < rank:
            raise ValueError(f"{name}={value!r} is out of range for a tensor of rank {rank}")
    return [axis % rank for axis in axes]


def fill_params(scheme: str, shape: Sequence[int], params: dict[str, Any]) -> dict[str, Any]:
    """fastinit.fill's parameters for `scheme` as JAX means it, for a tensor of `shape`:
    JAX's truncation, and the fans computed by JAX's rules and given as fan_in/fan_out."""
    region = [name for name in ("global_shape", "origin") if name in params]
    if region:
        raise TypeError(f"{' and '.join(region)} do not apply here: fastinit.jax makes whole "
                        f"arrays, and a sharding= says which part each device holds; for "
                        f"one region on the host, use fastinit.sample(..., global_shape=, "
                        f"origin=)")
    params = _frameworks.framework_params(scheme, params)
    if not _frameworks.is_fan_scheme(scheme):
        return params
    if "layout" in params:
        raise TypeError("fastinit.jax computes fans as JAX does, from in_axis=, out_axis= and "
                        "batch_axis= (or fan_in=, fan_out=); layout= does not apply here")
    axes = {k: params[k] for k in FAN_AXES if k in params}
    out = {k: v for k, v in params.items() if k not in FAN_AXES}
    if out.get("fan_in") is None or out.get("fan_out") is None:
        fans = compute_fans(shape, **axes)
        # A tensor with a zero-size axis gets no values; its fans only need to be valid.
        for name, fan in zip(("fan_in", "fan_out"), fans):
            if out.get(name) is None:
                out[name] = max(fan, 1)
    return out


def numpy_dtype(dtype: Any) -> np.dtype[Any]:
    """The NumPy dtype of a JAX dtype; float64 only under jax_enable_x64, as JAX would
    otherwise make it float32 behind the caller's back."""
    dt = jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.float64) if dtype is None else dtype)
    if dt == np.float64 and not jax.config.read("jax_enable_x64"):
        raise TypeError("dtype float64 needs jax_enable_x64 (jax.config.update("
                        "'jax_enable_x64', True) at startup, or JAX_ENABLE_X64=1); without it "
                        "JAX would store the values as float32. Ask for float32 instead.")
    return dt


def key_to_stream(key: Any) -> int:
    """The stream that a JAX PRNG key selects when an initializer has no stream=.

    A key of 64 bits (JAX's default threefry2x32 keys, typed ``jax.random.key(n)`` or
    legacy ``uint32[2]`` ``jax.random.PRNGKey(n)``) is its two 32-bit words packed, first
    word high: key(n) gives stream n for n < 2**32, and distinct keys give distinct
    streams. A wider key (e.g. impl="rbg") gives the 8-byte BLAKE2b digest of its words
    (little-endian), read little-endian, as fastinit hashes stream names.
    """
    if isinstance(key, jax.core.Tracer):
        raise TypeError("this fastinit initializer got a traced PRNG key (it is running "
                        "inside jax.jit, jax.eval_shape or another transformation), but it "
                        "reads the stream from the key's value. Initialise eagerly (call "
                        "model.init outside jit), pass stream= to fastinit.jax.initializer "
                        "(not under nn.scan, nn.vmap or jax.vmap: every layer would get the "
                        "same values), or fill a jax.eval_shape tree with "
                        "fastinit.flax.init_params (a stack of layers made by nn.scan: "
                        "batch_axis=0 in the rule's params).")
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = np.asarray(key)
    if words.dtype != np.uint32 or words.ndim != 1:
        raise TypeError(f"key must be one JAX PRNG key (jax.random.key(n), or a uint32 "
                        f"PRNGKey); got an array of dtype {words.dtype} and shape {words.shape}")
    if words.size == 2:
        return (int(words[0]) << 32) | int(words[1])
    digest = hashlib.blake2b(words.astype("<u4").tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _sharding(sharding):
    """A jax.sharding.Sharding, or None; a PartitionSpec takes the mesh set by jax.set_mesh."""
    if sharding is None or isinstance(sharding, jax.sharding.Sharding):
        return sharding
    if isinstance(sharding, jax.sharding.PartitionSpec):
        mesh = jax.sharding.get_mesh()
        if mesh.empty:
            raise ValueError(f"sharding={sharding} is a PartitionSpec and no mesh is set; pass "
                             f"NamedSharding(mesh, spec), or call under jax.set_mesh(mesh)")
        return jax.sharding.NamedSharding(mesh, sharding)
    raise TypeError(f"sharding must be a jax.sharding.Sharding (e.g. NamedSharding(mesh, "
                    f"PartitionSpec(...))), got {type(sharding).__name__}")


def sample(shape: Sequence[int], scheme: str, *, seed: Seed, stream: Stream = 0,
           dtype: Any = jnp.float32, sharding: Any = None, **params: Any) -> jax.Array:
    """A new jax.Array of `shape` and `dtype` filled with `scheme`.

    Parameters
    ----------
    shape : tuple of int
    scheme : str
        A fastinit scheme; glorot/he/lecun_normal are JAX's truncated forms (see the
        module's docstring), fans follow in_axis=, out_axis=, batch_axis=.
    seed, stream
        As in fastinit.fill: the values are those of fastinit.fill(np.empty(shape, dtype),
        scheme, seed=seed, stream=stream, ...), whatever the sharding.
    dtype : float32, bfloat16, float16, or float64 (only with jax_enable_x64)
    sharding : jax.sharding.Sharding, optional
        Where the array lives (NamedSharding, SingleDeviceSharding, ...; a PartitionSpec
        uses the mesh of jax.set_mesh). Each distinct shard is filled on the host, with
        global_shape/origin, and placed by jax.make_array_from_callback; replicas of a
        shard are filled once. Default: JAX's default device.
    **params
        The scheme's parameters (gain=, mode=, std=, ...), and in_axis=, out_axis=,
        batch_axis= for fan schemes.
    """
    seed = _frameworks.require_seed(seed)
    shape = _frameworks.check_shape(shape)
    dt = numpy_dtype(dtype)
    params = fill_params(scheme, shape, params)
    sharding = _sharding(sharding)
    if sharding is None:  # on the CPU, JAX keeps the aligned host memory: no copy
        host = fastinit.fill(_frameworks.aligned_empty(shape, dt), scheme, seed=seed,
                             stream=stream, **params)
        return jax.device_put(host, may_alias=True)
    blocks: dict = {}

    def shard(index):
        bounds = tuple(s.indices(n) for s, n in zip(index, shape))
        if bounds not in blocks:  # a replicated shard is filled once for all its devices
            block = _frameworks.aligned_empty(tuple(stop - start for start, stop, _ in bounds), dt)
            blocks[bounds] = fastinit.fill(block, scheme, seed=seed, stream=stream,
                                           global_shape=shape,
                                           origin=tuple(b[0] for b in bounds), **params)
        return blocks[bounds]

    return jax.make_array_from_callback(shape, sharding, shard, dtype=dt)


class Initializer:
    """A JAX initializer, ``init(key, shape, dtype=jnp.float32, out_sharding=None)``,
    made by fastinit.jax.initializer."""

    def __init__(self, scheme: str, seed: Seed, stream: Stream | None,
                 params: dict[str, Any]) -> None:
        self.scheme, self.seed, self.stream, self.params = scheme, seed, stream, params

    def __call__(self, key: Any, shape: Sequence[int], dtype: Any = jnp.float32,
                 out_sharding: Any = None) -> jax.Array:
        stream = key_to_stream(key) if self.stream is None else self.stream
        return sample(shape, self.scheme, seed=self.seed, stream=stream, dtype=dtype,
                      sharding=out_sharding, **self.params)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return (f"fastinit.jax.initializer({self.scheme!r}, seed={self.seed!r}, "
                f"stream={self.stream!r}{args})")


def initializer(scheme: str, *, seed: Seed, stream: Stream | None = None,
                **params: Any) -> Initializer:
    """A JAX/Flax initializer, ``init(key, shape, dtype=jnp.float32)``, that fills with
    fastinit.

    Parameters
    ----------
    scheme : str
        A fastinit scheme ("glorot_uniform", "he_normal", "normal", ...).
        glorot/he/lecun_normal are JAX's truncated forms; fans follow JAX's rules
        (in_axis=-2, out_axis=-1, batch_axis=() unless given).
    seed : int in [0, 2**64)
    stream : int or str, optional
        Without it, each call reads the stream of its key (fastinit.jax.key_to_stream):
        Flax passes each parameter its own key, split from the init key, so each
        parameter gets its own values, the same on every init with that key. The key
        must then be concrete: inside jax.jit or jax.eval_shape the call is refused. With
        a stream, every call reads that stream and the key is ignored: so under nn.scan or
        vmap, which trace one layer for all, every layer would get the same values (fill
        such a stack with fastinit.flax.init_params and batch_axis=0).
    **params
        The scheme's parameters (gain=, mode=, std=, truncated=, ...), and in_axis=,
        out_axis=, batch_axis= for fan schemes.

    >>> import flax.linen as nn
    >>> dense = nn.Dense(512, kernel_init=fastinit.jax.initializer("he_normal", seed=0))
    """
    params = _frameworks.initializer_params("jax", scheme, params)
    # Check now what can be checked without a shape, rather than at the first init.
    probe = dict(params)
    if _frameworks.is_fan_scheme(scheme):
        probe = {k: v for k, v in params.items() if k not in FAN_AXES}
        probe.setdefault("fan_in", 1)
        probe.setdefault("fan_out", 1)
    fastinit.sample((2, 2), scheme, seed=_frameworks.require_seed(seed),
                    stream=0 if stream is None else stream, **fill_params(scheme, (2, 2), probe))
    return Initializer(scheme, seed, stream, params)
