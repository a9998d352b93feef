"""save_initialized: the values materialize would give a meta-device model, written as
safetensors without giving the model memory.

The model's own init runs in a recording redirect (_record): a tensor drawn or set
whole becomes a fastinit.TensorSpec, which save_safetensors fills region by region
into a small buffer; only tensors whose values are computed (a rotary table, an
Embedding with its padding row zeroed, position ids from arange) are made in memory,
before the write. Integer and bool tensors keep their dtype (dtype= casts floating
ones only, as materialize does) and hold exact values: a constant (BatchNorm's
num_batches_tracked) or computed ones; a draw into one is refused.
"""
import json
import os
import pathlib

import torch

import fastinit

from . import _module
from ._redirect import named_tensors


def save_initialized(module, path, *, seed, dtype=None, rules=None, max_shard_size=None,
                     progress=None, threads=None, overwrite=False):
    records = _module.record(module, seed, threads, rules, dtype)
    canonical = {id(t): name for name, t in named_tensors(module)}
    specs = {}
    for name, tensor in module.state_dict(keep_vars=True).items():
        if canonical.get(id(tensor)) != name:
            continue  # a tied weight's other name: written once, as save_pretrained does
        cast = dtype is not None and tensor.is_floating_point()
        try:
            specs[name] = _spec(records[name], tuple(tensor.shape),
                                dtype if cast else tensor.dtype)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name} ({tensor.dtype}): {error}") from None
    folder = pathlib.Path(path)
    hf_config = getattr(module, "config", None) if _is_hf(module) else None
    paths = fastinit.save_safetensors(path, specs, seed=seed, max_shard_size=max_shard_size,
                                      threads=threads, progress=progress, overwrite=overwrite)
    if hf_config is not None and folder.is_dir() and paths[0].parent == folder:
        # from_pretrained reads the model's config.json next to its weights.
        config = json.loads(hf_config.to_json_string())
        if dtype is not None:
            config["dtype"] = str(dtype).removeprefix("torch.")
        target = folder / "config.json"
        temporary = folder / f".config.json.{os.getpid()}"
        temporary.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, target)
        paths.append(target)
    return paths


def _spec(record, shape, dtype):
    kind, *what = record
    if kind == "spec":
        scheme, params = what
        return fastinit.TensorSpec(shape, dtype, scheme, **params)
    if kind == "constant":
        value = what[0]
        if not dtype.is_floating_point:  # the value torch's fill_ stores, exactly
            value = torch.empty((), dtype=dtype).fill_(value).item()
        return fastinit.TensorSpec(shape, dtype, "constant", value=value)
    return what[0].to(dtype)


def _config_dtype(config):
    """The torch dtype a config.json names ("dtype", or the older "torch_dtype"), None
    for none or "auto" (the model's own, as from_pretrained reads it)."""
    named = config.get("dtype") or config.get("torch_dtype")
    if named is None or named == "auto":
        return None
    dtype = getattr(torch, named, None) if isinstance(named, str) else None
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"the config's dtype {named!r} is not a floating-point torch dtype "
                         f"(\"float32\", \"bfloat16\", ...): correct it, or pass --dtype")
    return dtype


def _is_hf(module):
    return _module._hf_model_class() is not None and isinstance(module, _module._hf_model_class())


def init_from_config(config, output, *, seed, dtype=None, max_shard_size=None, threads=None,
                     progress=None, overwrite=False):
    """`fastinit init config.json`: the Hugging Face model of this config (a dict): its
    first "architectures" class (as from_pretrained builds it), else AutoModel's base
    model, built on the meta device and written by save_initialized, in the config's
    dtype unless `dtype` says otherwise. Returns the paths written."""
    import transformers
    config = dict(config)
    model_type = config.pop("model_type", None)
    if model_type is None:
        raise ValueError("a Hugging Face config.json needs its \"model_type\"")
    if dtype is None:
        dtype = _config_dtype(config)
    for key in ("dtype", "torch_dtype"):  # the model is built in float32, then written in dtype
        config.pop(key, None)
    hf_config = transformers.AutoConfig.for_model(model_type, **config)
    names = [a for a in (config.get("architectures") or []) if hasattr(transformers, a)]
    build = getattr(transformers, names[0]) if names else transformers.AutoModel.from_config
    with torch.device("meta"):
        model = build(hf_config)
    return save_initialized(model, output, seed=seed, dtype=dtype, max_shard_size=max_shard_size,
                            threads=threads, progress=progress, overwrite=overwrite)
