"""Flax: fill a whole parameter tree by rules on the parameters' paths.

Build the tree's shapes without computing anything (``jax.eval_shape(model.init, key,
x)`` for linen, ``nnx.split(nnx.eval_shape(lambda: Model(rngs=nnx.Rngs(0))))`` for nnx),
then fill every leaf on the host with fastinit:

>>> import fastinit.flax
>>> import flax.linen as nn
>>> model = nn.Sequential([nn.Dense(16), nn.LayerNorm(), nn.Dense(4)])
>>> x = jax.numpy.ones((1, 8))
>>> shapes = jax.eval_shape(model.init, jax.random.key(0), x)["params"]
>>> params = fastinit.flax.init_params(shapes, seed=0, rules=[
...     ("*/kernel", "lecun_normal"), ("*/bias", "zeros"), ("*/scale", "ones")])
>>> params["layers_0"]["kernel"].shape, float(params["layers_1"]["scale"].sum())
((8, 16), 16.0)

Each leaf's stream is its path, so its values do not depend on the order of the tree or
on which other leaves it has, and a leaf with a sharding comes back with that sharding.
"""
from __future__ import annotations

from typing import Any, Sequence

import jax

from . import _frameworks
from . import jax as fastinit_jax
from ._typing import Seed


def path_string(key_path: Sequence[Any]) -> str:
    """A pytree key path in Flax's form: the keys joined by '/' ("Dense_0/kernel",
    "layers/0/kernel"). The value inside a box (an nnx.Variable, a linen Partitioned) is
    named by the box: its trailing "value" attribute is left out."""
    parts = []
    for entry in key_path:
        if isinstance(entry, jax.tree_util.DictKey):
            parts.append(str(entry.key))
        elif isinstance(entry, jax.tree_util.SequenceKey):
            parts.append(str(entry.idx))
        elif isinstance(entry, jax.tree_util.GetAttrKey):
            parts.append(entry.name)
        elif isinstance(entry, jax.tree_util.FlattenedIndexKey):
            parts.append(str(entry.key))
        else:
            parts.append(str(entry))
    if key_path and isinstance(key_path[-1], jax.tree_util.GetAttrKey) and parts[-1] == "value":
        parts.pop()
    return "/".join(parts)


def init_params(params: Any, *, seed: Seed, rules: Any) -> Any:
    """A new tree like `params` whose leaves are filled by the first rule matching their path.

    Parameters
    ----------
    params : pytree of jax.Array or jax.ShapeDtypeStruct
        E.g. ``jax.eval_shape(model.init, key, x)["params"]``, an nnx State, or an
        existing parameter tree. Only shapes, dtypes and shardings are read.
    seed : int in [0, 2**64)
    rules : dict {pattern: spec} or sequence of (pattern, spec)
        In order; the first whose glob pattern matches a leaf's whole path wins (``*``
        matches across '/', so "*/kernel" matches every kernel at any depth, and
        "Dense_0/kernel" one). spec is a scheme name ("zeros"), a (scheme, params) pair
        (("normal", {"std": 0.02})), with the meanings of fastinit.jax (JAX's truncated
        glorot/he/lecun_normal, fans by in_axis/out_axis/batch_axis), or None to keep
        the leaf as given (it must then hold values, not a ShapeDtypeStruct).

    Returns
    -------
    The same tree structure with jax.Arrays: leaf ``path`` holds
    fastinit.jax.sample(shape, scheme, seed=seed, stream=path, dtype=dtype,
    sharding=leaf.sharding, **params), so a sharded leaf is filled shard by shard and
    its values do not depend on the sharding.

    Raises
    ------
    ValueError
        Naming every leaf that no rule matches, before anything is filled: a parameter
        without values is never silently left as it was.
    """
    seed = _frameworks.require_seed(seed)
    parsed = _frameworks.parse_rules(rules, "jax")
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    chosen = []
    for key_path, leaf in leaves:
        path = path_string(key_path)
        rule = _frameworks.first_match(parsed, path)
        if rule is not None and rule.scheme is None and isinstance(leaf, jax.ShapeDtypeStruct):
            raise ValueError(f"{path}: rule {rule.pattern!r} keeps the leaf as it is, but it "
                             f"is a {type(leaf).__name__}, which has no values; give it a scheme")
        if rule is not None and rule.scheme is not None and not (
                hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            raise TypeError(f"{path}: rule {rule.pattern!r} gives it a scheme, but it is a "
                            f"{type(leaf).__name__}, not an array or ShapeDtypeStruct; keep it "
                            f"with a rule None")
        chosen.append((path, leaf, rule))
    missing = [path for path, _, rule in chosen if rule is None]
    if missing:
        raise _frameworks.unmatched_error(missing, parsed)
    return jax.tree_util.tree_unflatten(treedef, [_fill(path, leaf, rule, seed)
                                                  for path, leaf, rule in chosen])


def _fill(path, leaf, rule, seed):
    if rule.scheme is None:
        return leaf
    try:
        return fastinit_jax.sample(leaf.shape, rule.scheme, seed=seed, stream=path,
                                   dtype=leaf.dtype, sharding=getattr(leaf, "sharding", None),
                                   **rule.params)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{path} (rule {rule.pattern!r}): {error}") from error
