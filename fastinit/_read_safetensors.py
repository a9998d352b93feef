"""Reading a .safetensors file for the audit, without the safetensors package: an
8-byte little-endian header length, that many bytes of JSON (name -> dtype, shape,
data_offsets from the end of the header), then the data, little-endian, C order.

The file is memory-mapped, read-only: the audit reads each tensor a chunk at a
time, so a checkpoint larger than memory can be audited.
"""
import json
import math
import os

import numpy as np

from . import _dtypes
from .auditing import Raw

MAX_HEADER_BYTES = 100_000_000  # what safetensors itself accepts

# safetensors' dtype code -> (NumPy dtype of the stored values, the dtype's name): the
# float dtypes from fastinit's table, bfloat16 (no NumPy dtype of NumPy's own) as its bits,
# which the audit widens to float32 exactly; the integer and bool ones only to be listed
# as skipped.
FLOATS = {row.safetensors: (np.dtype(row.name) if row.numpy_module == "numpy" else row.bits,
                            row.name) for row in _dtypes.BY_NAME.values()}
OTHERS = {row.safetensors: (row.numpy(), row.name) for row in _dtypes.HELD.values()}


class FormatError(ValueError):
    """The file is not a well-formed safetensors file."""


def _entry(path, name, entry, data_bytes):
    """(code, shape, begin, end) of one header entry, checked."""
    if not (isinstance(entry, dict) and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
            and all(type(n) is int and n >= 0 for n in entry["shape"])
            and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2
            and all(type(n) is int for n in entry["data_offsets"])):
        raise FormatError(f"{path}: tensor {name!r} needs a dtype, a shape of non-negative "
                          f"ints and two data_offsets; its header entry is {entry!r:.200}")
    begin, end = entry["data_offsets"]
    if not 0 <= begin <= end <= data_bytes:
        raise FormatError(f"{path}: tensor {name!r} lies at bytes {begin}..{end} of the data, "
                          f"which holds {data_bytes} bytes (a truncated file?)")
    return entry["dtype"], tuple(entry["shape"]), begin, end


def read_safetensors(path):
    """{name: Raw} for every tensor of the file, in the header's order."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
            raise FormatError(f"{path}: not a safetensors file (its first 8 bytes do not give "
                              f"the length of a header that fits in its {size} bytes)")
        try:
            header = json.loads(f.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise FormatError(f"{path}: not a safetensors file (its header is not JSON: "
                              f"{error})") from None
    if not isinstance(header, dict):
        raise FormatError(f"{path}: not a safetensors file (its header is not a JSON object)")
    header.pop("__metadata__", None)
    start = 8 + length
    data = np.memmap(path, np.uint8, mode="r") if size > start else np.empty(0, np.uint8)
    tensors = {}
    for name, entry in header.items():
        code, shape, begin, end = _entry(path, name, entry, size - start)
        if code not in FLOATS and code not in OTHERS:
            tensors[name] = Raw(None, shape, code, skip=f"a {code} tensor: not read")
            continue
        stored, dtype = FLOATS.get(code) or OTHERS[code]
        stored = np.dtype(stored).newbyteorder("<")
        if end - begin != math.prod(shape) * stored.itemsize:
            raise FormatError(f"{path}: tensor {name!r} has {end - begin} bytes of data, but "
                              f"shape {list(shape)} of {code} needs "
                              f"{math.prod(shape) * stored.itemsize}")
        if code not in FLOATS:
            tensors[name] = Raw(None, shape, dtype, skip=f"not floating point ({dtype})")
            continue
        values = data[start + begin:start + end].view(stored).reshape(shape)
        tensors[name] = Raw(values, shape, dtype, bfloat16=dtype == "bfloat16")
    return tensors
