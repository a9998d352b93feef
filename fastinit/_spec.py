"""fastinit's JSON description of a checkpoint, read by `fastinit init SPEC`.

    {"seed": 0,
     "dtype": "float32",
     "metadata": {"model": "tiny-llama"},
     "tensors": {
       "model.embed_tokens.weight": {"shape": [32000, 4096], "scheme": "normal", "std": 0.02},
       "model.norm.weight": {"shape": [4096], "scheme": "ones"}}}

Top level: "tensors" (required: tensor names to tensors, written in this order),
and optionally "seed" (an int), "dtype" (for the tensors that give none) and
"metadata" (str to str, added to the header's __metadata__). A tensor: "shape"
(a list of ints), "scheme", "dtype" (unless the top level gives one), and the
scheme's parameters by name (e.g. "std", "layout"). An integer or bool tensor
("int64", ..., "bool") takes "zeros", "ones" or "constant" with a whole "value".
"""
import json

from . import _dtypes
from .checkpoint import TensorSpec

TOP_LEVEL = ("tensors", "seed", "dtype", "metadata")


class SpecError(ValueError):
    """A SPEC that cannot be used; the message says which file, where, and why."""


def load(path):
    """The JSON document in the file at `path`, or a SpecError."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as error:
        raise SpecError(f"{path}: cannot read SPEC: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise SpecError(f"{path}: SPEC is not UTF-8 text: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise SpecError(f"{path}: SPEC is not valid JSON: {error.msg} at line "
                        f"{error.lineno}, column {error.colno}") from None


def is_huggingface_config(document):
    """Whether the document looks like a Hugging Face config.json, not a fastinit spec."""
    return (isinstance(document, dict) and "tensors" not in document
            and ("model_type" in document or "architectures" in document))


def parse(document, where, dtype=None):
    """(specs, seed or None, metadata or None) of a fastinit spec; `dtype`, if given,
    replaces every tensor's dtype but an integer or bool one. Errors name `where` (the
    file) and the tensor."""
    unknown = sorted(set(document) - set(TOP_LEVEL)) if isinstance(document, dict) else []
    if unknown:
        raise SpecError(f"{where}: unknown top-level key{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(map(repr, unknown))}; a spec has {', '.join(TOP_LEVEL)}")
    if not isinstance(document, dict) or "tensors" not in document:
        raise SpecError(f"{where}: a fastinit spec is a JSON object with \"tensors\": "
                        f"{{name: {{\"shape\": [...], \"dtype\": ..., \"scheme\": ..., "
                        f"parameters}}}} (see examples/tiny_llama.json)")
    tensors = document["tensors"]
    if not isinstance(tensors, dict):
        raise SpecError(f"{where}: \"tensors\" must be an object of tensor names to tensors")
    specs = {}
    for name, entry in tensors.items():
        specs[name] = _tensor(entry, document.get("dtype"), dtype, f"{where}: tensors[{name!r}]")
    seed = document.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise SpecError(f"{where}: \"seed\" must be an integer, got {seed!r}")
    metadata = document.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, str) for v in metadata.values())):
        raise SpecError(f"{where}: \"metadata\" must be an object of strings, got {metadata!r}")
    return specs, seed, metadata


def _tensor(entry, default_dtype, override, where):
    if not isinstance(entry, dict):
        raise SpecError(f"{where}: a tensor is an object with \"shape\", \"scheme\" and "
                        f"\"dtype\"; got {entry!r}")
    params = dict(entry)
    missing = [k for k in ("shape", "scheme") if k not in params]
    if "dtype" not in params and default_dtype is None and override is None:
        missing.append("dtype")
    if missing:
        raise SpecError(f"{where}: missing {', '.join(map(repr, missing))}"
                        + (" (or a top-level \"dtype\")" if "dtype" in missing else ""))
    shape, scheme = params.pop("shape"), params.pop("scheme")
    dtype = params.pop("dtype", default_dtype)
    if override is not None and not (isinstance(dtype, str) and dtype in _dtypes.HELD):
        dtype = override
    if not isinstance(shape, list):
        raise SpecError(f"{where}: \"shape\" must be a list of ints, got {shape!r}")
    try:
        return TensorSpec(shape, dtype, scheme, **params)
    except (TypeError, ValueError) as error:
        raise SpecError(f"{where}: {error}") from None
