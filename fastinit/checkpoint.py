"""Checkpoints straight to disk: `TensorSpec` and `save_safetensors`.

A safetensors file is an 8-byte little-endian header length, a JSON header
that gives every tensor's dtype, shape and byte range, and the tensors' bytes.
When every shape is known up front, so is the header: the writer puts it
first, then fills the data region by region into a small reused buffer and
writes each buffer at its place in the file. Memory stays at two buffers
(`CHUNK_BYTES` each) whatever the size of the checkpoint.

The format is written here by hand, exactly as safetensors' own writer
(`prepare` in safetensors/src/tensor.rs) lays it out, so that the same tensors
give the same bytes; this module does not import safetensors.
"""
from __future__ import annotations

import errno
import functools
import json
import math
import os
import pathlib
import re
import secrets
import sys
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence, Tuple, Union

import numpy as np

from . import _dtypes, _fill, _params, _progress, _streams, _threads
from ._typing import Seed, Shape
from ._version import __version__

# Bytes of one fill-and-write buffer; there are two, one filling while the other is
# written. Small enough that Ctrl-C is seen within a fraction of a second, large enough
# that a write costs a few system calls per hundred MB. Tests lower it.
CHUNK_BYTES = 32 << 20

SINGLE_FILE = "model.safetensors"            # the names Hugging Face's save_pretrained uses
INDEX_FILE = "model.safetensors.index.json"
SHARD_FILE = "model-{index:05d}-of-{count:05d}.safetensors"
_CHECKPOINT_FILE = re.compile(r"model(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?")

MAX_HEADER_BYTES = 100_000_000  # safetensors refuses to read a longer header

# safetensors' Dtype enum, in its declaration order (tensor.rs): its writer puts the
# tensors of the later dtypes first ("descending alignment"), then orders them by name.
_SAFETENSORS_ORDER = ("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3",
                      "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
                      "I32", "U32", "F32", "C64", "F64", "I64", "U64")


class TensorSpec:
    """One tensor of a checkpoint, to be initialised: shape, dtype, scheme and its parameters.

    Parameters
    ----------
    shape : int or tuple of int
        The tensor's shape (sizes >= 0; ``()`` is a scalar).
    dtype : str or dtype
        "float32", "float64", "bfloat16" or "float16" (or np.float16, torch.bfloat16,
        ...). A bfloat16 or float16 value is the float32 value rounded (docs/stream.md,
        "Narrow formats: bfloat16 and float16"). An integer or bool dtype ("int64",
        "int32", "int16", "int8", "uint8", ..., "bool") holds one constant, exactly:
        a step counter such as BatchNorm's ``num_batches_tracked``.
    scheme : str
        Any fastinit scheme ("normal", "he_uniform", "orthogonal", "zeros", ...); for
        an integer or bool dtype "zeros", "ones" or "constant" (random draws are
        floating-point: such a tensor's other values are given as an array).
    **params
        The scheme's parameters, e.g. ``std=0.02`` or ``layout="torch"``; an integer
        tensor's ``value`` is a whole number that its dtype holds.

    The scheme and parameters are checked against the shape and dtype here, so a
    bad spec fails before any file is created. A TensorSpec is immutable, compares
    by value and can be hashed.

    >>> fastinit.TensorSpec((4096, 4096), "bfloat16", "normal", std=0.02)
    TensorSpec((4096, 4096), 'bfloat16', 'normal', std=0.02)
    """

    __slots__ = ("_shape", "_dtype", "_scheme", "_params")

    def __init__(self, shape: Shape, dtype: Any, scheme: str, **params: Any) -> None:
        shape = _params.shape(shape)
        kind = _dtypes.stored(dtype)
        if isinstance(kind, _dtypes.Held):
            _held_constant(scheme, params, kind, shape)
        else:
            _fill.plan(scheme, params, kind, shape)  # raises what is wrong, naming it
        object.__setattr__(self, "_shape", shape)
        object.__setattr__(self, "_dtype", kind.name)
        object.__setattr__(self, "_scheme", scheme)
        object.__setattr__(self, "_params", tuple(params.items()))

    @property
    def shape(self) -> Tuple[int, ...]:
        """The tensor's shape."""
        return self._shape

    @property
    def dtype(self) -> str:
        """The dtype's name: "float32", "float64", "bfloat16", "float16", "int64", ..."""
        return self._dtype

    @property
    def scheme(self) -> str:
        """The scheme's name, as given."""
        return self._scheme

    @property
    def params(self) -> dict[str, Any]:
        """The scheme's parameters, as given (a new dict each time)."""
        return dict(self._params)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self._shape)

    @property
    def nbytes(self) -> int:
        """Bytes of the tensor's data."""
        return self.size * _dtypes.STORED[self._dtype].itemsize

    def __setattr__(self, name, value):
        raise AttributeError("a TensorSpec cannot be changed; make a new one")

    def __delattr__(self, name):
        raise AttributeError("a TensorSpec cannot be changed; make a new one")

    def _key(self):
        return self._shape, self._dtype, self._scheme, tuple(sorted(self._params))

    def __eq__(self, other):
        return type(other) is TensorSpec and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        params = "".join(f", {k}={v!r}" for k, v in self._params)
        return f"TensorSpec({self._shape!r}, {self._dtype!r}, {self._scheme!r}{params})"

    def __reduce__(self):
        return _make_spec, (self._shape, self._dtype, self._scheme, self._params)


def _make_spec(shape, dtype, scheme, params):
    return TensorSpec(shape, dtype, scheme, **dict(params))


def _held_constant(scheme, params, dtype, shape):
    """The one value of a tensor of an integer or bool dtype (a _dtypes.Held): that of
    a constant scheme, exact in the dtype. fastinit's draws are floating-point only."""
    # "constant"'s value as the dtype holds it (an int64 may not be a float64); the
    # scheme and its parameters checked by planning it in float64
    value = dtype.exact(params["value"], "value") if "value" in params else None
    planned = params if value is None else {**params, "value": float(value)}
    kind, args = _fill.plan(scheme, planned, _dtypes.FLOAT64, shape)
    if kind != "constant":
        raise TypeError(f"scheme {scheme!r} gives floating-point values, and the tensor is "
                        f"{dtype}: an integer or bool tensor holds one constant (scheme "
                        f"'zeros', 'ones' or 'constant'), or values given as an array")
    return value if value is not None else dtype.exact(args[0], "value")


# ---- sizes ----------------------------------------------------------------------

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(size: Union[int, str], what: str = "max_shard_size") -> int:
    """Bytes, from an int or a string such as "5GB", "500MB", "2GiB", "1.5GB".

    As Hugging Face reads sizes: KB, MB, GB, TB are powers of 1000 (huggingface_hub's
    parse_size_to_int, which save_pretrained uses), KiB, MiB, GiB, TiB powers of 1024
    (transformers' convert_file_size_to_int); units in any case, a number may have a
    fraction. The result must be at least 1.
    """
    if isinstance(size, bool):
        raise TypeError(f"{what} must be a number of bytes or a string like '5GB'; got a bool")
    if isinstance(size, str):
        found = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", size)
        unit = found.group(2).upper() if found else None
        if unit not in _UNITS:
            raise ValueError(f"{what} must be a number of bytes or a size such as '5GB', "
                             f"'500MB' or '2GiB' (units: KB, MB, GB, TB, KiB, MiB, GiB, TiB); "
                             f"got {size!r}")
        n = int(float(found.group(1)) * _UNITS[unit])
    else:
        try:
            n = _streams.as_int(size, what, 1 << 63, "2**63")
        except TypeError:
            raise TypeError(f"{what} must be a number of bytes or a string like '5GB'; "
                            f"got {size!r}") from None
    if n < 1:
        raise ValueError(f"{what} must be at least 1 byte; got {size!r}")
    return n


# ---- what goes into the files -------------------------------------------------------

class _Entry:
    """One tensor to write: its name, dtype, shape, and where its bytes come from."""

    def __init__(self, name, dtype, shape, spec=None, data=None):
        self.name, self.dtype, self.shape = name, dtype, shape
        self.spec, self.data = spec, data  # a TensorSpec, or the bytes of an array
        self.nbytes = math.prod(shape) * dtype.itemsize

    def ranges(self, most):
        """The tensor's bytes in order, as _Ranges of at most `most` bytes, except an
        orthogonal tensor's: one range, since Q depends on the whole draw."""
        if self.data is not None:
            for start in range(0, self.data.nbytes, most):
                yield _Range(self.data[start:start + most])
            return
        spec = self.spec
        if not isinstance(self.dtype, _dtypes.Held) and \
                _fill.plan(spec.scheme, spec.params, self.dtype, self.shape).kind == "orthogonal":
            yield _Range(None, self, (0,) * len(self.shape), self.shape)
            return
        for origin, box in _boxes(self.shape, max(1, most // self.dtype.itemsize)):
            yield _Range(None, self, origin, box)

    def pieces(self, seed, threads, chunk_bytes):
        """(nbytes, write) pairs that give the tensor's bytes in order: write(out)
        puts them into `out`, a uint8 array of nbytes (aligned for the dtype)."""
        for r in self.ranges(chunk_bytes):
            if r.nbytes <= chunk_bytes:
                yield r.nbytes, functools.partial(r.fill, seed=seed, threads=threads)
                continue
            # An orthogonal tensor: Q computed once for the whole tensor (a float64
            # workspace a few times its size, see orthogonal.py), then copied out.
            whole = np.empty(r.nbytes, np.uint8)
            r.fill(whole, seed, threads)
            yield from _copies(whole, chunk_bytes)


class _Range:
    """Consecutive bytes of one tensor: a box of a TensorSpec's tensor, contiguous in
    C order (_boxes), or a slice of an array's bytes. It holds only what filling it
    takes, so that it can be sent to another process (fastinit.dask)."""

    __slots__ = ("nbytes", "data", "stream", "dtype", "shape", "scheme", "params", "origin",
                 "box")

    def __init__(self, data, entry=None, origin=None, box=None):
        self.data, self.origin, self.box = data, origin, box
        if data is not None:
            self.nbytes = data.nbytes
            return
        self.stream = _streams.stream_id(entry.name)
        self.dtype, self.shape = entry.dtype, entry.shape
        self.scheme, self.params = entry.spec.scheme, entry.spec.params
        self.nbytes = math.prod(box) * self.dtype.itemsize

    def fill(self, out, seed, threads):
        """Puts the bytes into `out`, a uint8 array of nbytes aligned for the dtype."""
        if self.data is not None:
            np.copyto(out, self.data)
            return
        if isinstance(self.dtype, _dtypes.Held):
            out.view(self.dtype.numpy())[...] = _held_constant(self.scheme, self.params,
                                                               self.dtype, self.shape)
            return
        # out holds the dtype's bits (NumPy has no bfloat16); fill_as writes them.
        view = out.view(self.dtype.bits).reshape(self.box)
        whole = self.box == self.shape
        _fill.fill_as(view, self.dtype, self.scheme, self.params, seed, self.stream, threads,
                      None if whole else self.shape, None if whole else self.origin)


def _copies(data, chunk_bytes):
    """Pieces of a uint8 array already in memory."""
    for start in range(0, data.nbytes, chunk_bytes):
        part = data[start:start + chunk_bytes]
        yield part.nbytes, lambda out, part=part: np.copyto(out, part)


def _boxes(shape, most):
    """(origin, box shape) of boxes that cover a tensor of `shape` in C order, each of
    at most `most` >= 1 elements and contiguous in memory: single indices in the
    leading dimensions, a range of one dimension, and whole trailing dimensions."""
    if math.prod(shape) <= most:
        yield (0,) * len(shape), shape
        return
    k, slab = len(shape) - 1, 1  # slab: elements of one index of dimension k
    while slab * shape[k] <= most:
        slab *= shape[k]
        k -= 1
    step = most // slab
    for outer in np.ndindex(*shape[:k]):
        for start in range(0, shape[k], step):
            stop = min(start + step, shape[k])
            yield (outer + (start,) + (0,) * (len(shape) - k - 1),
                   (1,) * k + (stop - start,) + shape[k + 1:])


def _entries(specs):
    """The checked (name, value) pairs of `specs` as _Entry objects, in the given order."""
    items = specs.items() if isinstance(specs, Mapping) else specs
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"specs must map tensor names to TensorSpecs or arrays, or be a "
                        f"sequence of (name, spec) pairs; got {type(specs).__name__}")
    entries, seen = [], set()
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(f"specs must be (name, spec) pairs; got {item!r}") from None
        _check_name(name)
        if name in seen:
            raise ValueError(f"tensor name {name!r} appears twice in specs; every tensor "
                             f"needs its own name")
        seen.add(name)
        entries.append(_entry(name, value))
    return entries


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(f"tensor names must be str; got {type(name).__name__} {name!r}")
    if name == "__metadata__":
        raise ValueError("'__metadata__' is the key of the safetensors header's metadata; "
                         "name the tensor otherwise")
    _check_utf8(name, "tensor name")


def _check_utf8(text, what):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} is not valid Unicode text (it holds a lone "
                         f"surrogate); safetensors stores text as UTF-8") from None


def _entry(name, value):
    if isinstance(value, TensorSpec):
        return _Entry(name, _dtypes.STORED[value.dtype], value.shape, spec=value)
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        return _torch_entry(name, value)
    if isinstance(value, np.ndarray):
        dtype = _dtypes.stored(value.dtype.newbyteorder("="), f"tensor {name!r}'s dtype")
        little = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return _Entry(name, dtype, value.shape, data=little.reshape(-1).view(np.uint8))
    raise TypeError(f"tensor {name!r}: a value must be a fastinit.TensorSpec, a NumPy array "
                    f"or a CPU torch.Tensor; got {type(value).__name__}")


def _torch_entry(name, tensor):
    """A torch tensor's bytes, read through a uint8 view (NumPy has no bfloat16)."""
    torch = sys.modules["torch"]
    dtype = _dtypes.stored(tensor.dtype, f"tensor {name!r}'s dtype")
    if tensor.is_meta:
        raise ValueError(f"tensor {name!r} is on the meta device, so it has no values to "
                         f"write; give it a fastinit.TensorSpec, or write a meta model with "
                         f"fastinit.torch.save_initialized")
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    return _Entry(name, dtype, tuple(tensor.shape), data=flat.view(torch.uint8).numpy())


def _metadata(user, seed):
    """The header's __metadata__: format "pt", the user's, then what fastinit records."""
    meta = {"format": "pt"}  # what save_pretrained writes; older transformers require it
    if user is not None:
        if not isinstance(user, Mapping):
            raise TypeError(f"metadata must be a dict of str to str; got {type(user).__name__}")
        for key, value in user.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"metadata keys and values must be str, as safetensors "
                                f"requires; got {key!r}: {value!r}. Convert the value with "
                                f"str() or json.dumps().")
            _check_utf8(key, "metadata key")
            _check_utf8(value, f"metadata[{key!r}]")
            if key.startswith("fastinit_"):
                raise ValueError(f"metadata key {key!r}: keys starting with 'fastinit_' "
                                 f"are fastinit's own record of how the values were made")
        meta.update(user)
    from ._engine import STREAM_VERSION
    meta.update({"fastinit_version": __version__, "fastinit_stream_version":
                 str(STREAM_VERSION), "fastinit_seed": str(seed)})
    return meta


def header_bytes(entries, metadata):
    """(header, data offsets): the JSON header as safetensors writes it, and each entry's
    offset in the data region, for `entries` already in the file's order."""
    tensors, offset, offsets = {}, 0, []
    for e in entries:
        tensors[e.name] = {"dtype": e.dtype.safetensors, "shape": list(e.shape),
                           "data_offsets": [offset, offset + e.nbytes]}
        offsets.append(offset)
        offset += e.nbytes
    document = ({"__metadata__": dict(sorted(metadata.items()))} if metadata else {})
    document.update(tensors)
    # serde_json's compact form: no spaces, non-ASCII as UTF-8, the same escapes.
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    if len(text) > MAX_HEADER_BYTES:
        raise ValueError(f"the header would take {len(text)} bytes; safetensors reads at "
                         f"most {MAX_HEADER_BYTES}. Split the tensors over more files.")
    return len(text).to_bytes(8, "little") + text, offsets


def _file_order(entries):
    """safetensors' order of tensors in a file: later dtypes of its enum first, then name."""
    return sorted(entries, key=lambda e: (-_SAFETENSORS_ORDER.index(e.dtype.safetensors),
                                          e.name))


def _split(entries, max_size):
    """Hugging Face's split into shards (huggingface_hub split_state_dict_into_shards):
    in the given order, a shard grows until the next tensor would take it past
    max_size; a tensor larger than max_size gets a shard of its own."""
    shards, current, size = [], [], 0
    for e in entries:
        if e.nbytes > max_size:
            shards.append([e])
            continue
        if size + e.nbytes > max_size:
            shards.append(current)
            current, size = [], 0
        current.append(e)
        size += e.nbytes
    if current or not shards:
        shards.append(current)
    return shards


# ---- writing ---------------------------------------------------------------------------

class _Sink:
    """Consecutive bytes of one file, gathered in a buffer and written by a second
    thread while the next buffer fills (pwrite releases the GIL)."""

    def __init__(self, fd, offset, buffers, pool, written):
        self.fd, self.offset, self.pool, self.written = fd, offset, pool, written
        self.buffers = buffers
        self.pending = [None] * len(buffers)  # (future, nbytes) of each buffer's write
        self.current, self.used = 0, 0

    def reserve(self, nbytes):
        """nbytes of the buffer, to be filled before the next call."""
        if self.used + nbytes > self.buffers[self.current].nbytes:
            self._flush()
        start = self.used
        self.used += nbytes
        return self.buffers[self.current][start:self.used]

    def _flush(self):
        if self.used:
            data = self.buffers[self.current][:self.used]
            future = self.pool.submit(_pwrite_all, self.fd, data, self.offset)
            self.pending[self.current] = future, self.used
            self.offset += self.used
            self.current, self.used = (self.current + 1) % len(self.buffers), 0
        self._wait(self.current)  # a buffer is reused only once it is written out

    def _wait(self, index):
        if self.pending[index] is not None:
            future, nbytes = self.pending[index]
            future.result()  # if this raises (Ctrl-C too), abandon() still waits for it
            self.pending[index] = None
            self.written(nbytes)

    def close(self):
        """Writes what is left and waits for every write."""
        self._flush()
        for index in range(len(self.buffers)):
            self._wait(index)

    def abandon(self):
        """Waits for the writes in flight, ignoring their errors: the file descriptor
        must outlive them."""
        from concurrent.futures import wait
        wait([p[0] for p in self.pending if p is not None])


def _pwrite_all(fd, data, offset):
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        if n <= 0:  # not expected from a regular file, but never loop forever
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view, offset = view[n:], offset + n


def _write_data(fd, file, seed, threads, buffers, pool, written):
    """The data of `file` after its header, filled and written in order, two buffers
    taking turns (the single-process writer)."""
    sink = _Sink(fd, len(file.header), buffers, pool, written)
    try:
        for e in file.entries:
            for nbytes, write in e.pieces(seed, threads, buffers[0].nbytes):
                write(sink.reserve(nbytes))
        sink.close()
    except BaseException:
        sink.abandon()
        raise


def _write_ranges(fd, offset, ranges, seed, threads):
    """Consecutive ranges of a file from `offset` on, filled into one buffer and written
    with positioned writes: the same bytes at the same place however often it runs (a
    writer that runs ranges in other processes, fastinit.dask). Returns the bytes written."""
    out = np.empty(sum(r.nbytes for r in ranges), np.uint8)
    at = 0
    for r in ranges:
        r.fill(out[at:at + r.nbytes], seed, threads)
        at += r.nbytes
    _pwrite_all(fd, out, offset)
    return out.nbytes


def _target(path, sharded):
    """(folder, file name, whether the path names a folder) of the checkpoint; the
    file name is None when the shards decide it."""
    trailing_slash = os.fspath(path).endswith(("/", os.sep))
    path = pathlib.Path(path)
    if sharded or trailing_slash or path.is_dir():
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path} is a file, not a folder for the checkpoint")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot write the checkpoint folder {path}: the folder "
                                    f"{path.parent} does not exist; create it first")
        return path, None if sharded else SINGLE_FILE, True
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not "
                                f"exist; create it first")
    return path.parent, path.name, False


def _layout(entries, name, limit):
    """[(file name, its entries in file order)]: one file, or Hugging Face's shards."""
    if name is not None:
        return [(name, _file_order(entries))]
    shards = _split(entries, limit)
    if len(shards) == 1:
        return [(SINGLE_FILE, _file_order(shards[0]))]
    return [(SHARD_FILE.format(index=i + 1, count=len(shards)), _file_order(shard))
            for i, shard in enumerate(shards)]


def _refuse_existing(folder, targets, in_folder, overwrite):
    """The checkpoint files of an earlier save that this one leaves behind (in a folder:
    other shard counts); FileExistsError if anything is in the way without overwrite."""
    existing = [t for t in targets if os.path.lexists(folder / t)]
    stale = []
    if in_folder and folder.is_dir():
        stale = sorted(n for n in os.listdir(folder)
                       if _CHECKPOINT_FILE.fullmatch(n) and n not in targets)
    found = [str(folder / n) for n in existing + stale]
    if found and not overwrite:
        raise FileExistsError(f"{', '.join(found)} already exist{'s' if len(found) == 1 else ''}"
                              f"; pass overwrite=True (fastinit init --overwrite) to replace "
                              f"{'it' if len(found) == 1 else 'them'}")
    for name in existing:
        if (folder / name).is_dir():
            raise IsADirectoryError(f"{folder / name} is a folder, not a file to replace")
    return stale, sum(os.path.getsize(folder / n) for n in existing + stale)


def _check_free_space(folder, needed, freed):
    stat = os.statvfs(folder if folder.is_dir() else folder.parent)
    free = stat.f_bavail * stat.f_frsize
    if needed > free + freed:
        raise OSError(errno.ENOSPC, f"no space left for the checkpoint: it takes {needed} "
                                    f"bytes, and {folder} has {free} bytes free")


def save_safetensors(path: Union[str, os.PathLike],
                     specs: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]], *,
                     seed: Seed, metadata: Mapping[str, str] | None = None,
                     max_shard_size: Union[int, str, None] = None, threads: int | None = None,
                     progress: Union[bool, Callable[[int, int], Any], None] = None,
                     overwrite: bool = False) -> list[pathlib.Path]:
    """Writes initialised tensors to safetensors file(s) without holding them in memory.

    Each tensor gets the values of ``fastinit.fill(..., seed=seed, stream=name)``
    for its whole shape: a checkpoint equals the model fastinit fills in memory.

    Parameters
    ----------
    path : str or path
        Without max_shard_size: the file to write (e.g. "model.safetensors"), or a
        folder (one that exists, or a path ending in "/"), which gets
        "model.safetensors". With max_shard_size: the folder, laid out as Hugging
        Face's save_pretrained does, so that ``from_pretrained`` loads it. A
        missing folder is created; its parent must exist.
    specs : mapping or sequence of (name, value) pairs
        Tensor names (any str: dots and slashes are fine) to a `TensorSpec`, or to
        an array whose values are known already (a NumPy array or CPU torch tensor
        of a TensorSpec dtype, integers and bool included, e.g. a buffer computed by
        code; held in memory). Shards follow this order.
    seed : int in [0, 2**64)
        The seed; each tensor reads the stream of its name.
    metadata : dict of str to str, optional
        Added to the header's ``__metadata__``, which also holds ``format: pt``
        (as save_pretrained writes; yours may replace it) and fastinit's record:
        ``fastinit_version``, ``fastinit_stream_version``, ``fastinit_seed``.
    max_shard_size : int or str, optional
        Largest shard in bytes, or a size such as "5GB", "500MB", "2GiB" (see
        parse_size). Tensors go into shards in the order of `specs`, a new shard
        when the next tensor would not fit, as Hugging Face splits: the shards are
        ``model-00001-of-0000N.safetensors`` with ``model.safetensors.index.json``
        (``metadata.total_size``, ``weight_map``), or ``model.safetensors`` alone
        when everything fits in one.
    threads : int, optional
        Threads for the fills (the values never depend on it).
    progress : bool, callable or None
        A bar on stderr (bytes, rate, time left); default: when stderr is a
        terminal. A callable receives ``(bytes_done, bytes_total)`` instead.
    overwrite : bool
        Replace existing files. Without it an existing file, or in a folder any
        checkpoint file of these names, is refused. With it, checkpoint files of
        an earlier save that this one does not replace (another shard count) are
        removed, as save_pretrained does.

    Returns
    -------
    list of pathlib.Path
        The files written: the safetensors files in order, then the index if any.

    Raises
    ------
    TypeError, ValueError
        For a bad spec, name, metadata or size; raised before anything is created.
    FileExistsError, FileNotFoundError, OSError
        For an existing file without overwrite=True, a missing folder, too little
        free space, or a failed write.

    Notes
    -----
    Each file is written under a temporary name in its folder (``.model...tmp``),
    flushed to disk (fsync), and renamed to its name only when complete; on any
    error or Ctrl-C the temporary files are removed, so no file under a final
    name is ever partial. Memory: two buffers of CHUNK_BYTES (32 MiB), plus for
    an orthogonal tensor its whole Q and float64 workspace, plus the arrays given.
    """
    threads = _threads.resolve(threads)
    plan = _plan(path, specs, seed, metadata, max_shard_size, overwrite)
    bar = _progress.reporter(progress, plan.total, plan.label)
    done = 0

    def written(nbytes):
        nonlocal done
        done += nbytes
        bar.update(done)

    from concurrent.futures import ThreadPoolExecutor
    chunk = max(8, CHUNK_BYTES // 8 * 8)  # whole elements of every dtype in each buffer
    try:
        with _Output(plan) as output, \
                ThreadPoolExecutor(1, thread_name_prefix="fastinit-write") as pool:
            buffers = [np.empty(chunk, np.uint8) for _ in range(2)]
            for file in plan.files:
                fd, _ = output.create(file)
                written(len(file.header))
                try:
                    _write_data(fd, file, plan.seed, threads, buffers, pool, written)
                    os.fsync(fd)  # on disk before it has its name: a crash leaves no torn file
                except OSError as error:
                    raise OSError(error.errno, f"could not write {plan.folder / file.name}: "
                                               f"{error.strerror}") from error
                finally:
                    os.close(fd)
            return output.commit()
    finally:
        bar.close()


class _File(NamedTuple):
    """One file of a checkpoint: its final name, its header (length and JSON), and its
    tensors in the file's order."""
    name: str
    header: bytes
    entries: list

    def ranges(self, most):
        """(offset in the file, _Range) of all its data, in order; see _Entry.ranges."""
        offset = len(self.header)
        for e in self.entries:
            for r in e.ranges(most):
                yield offset, r
                offset += r.nbytes


class _Plan(NamedTuple):
    """What a save writes, decided and checked before anything is created."""
    seed: int
    folder: pathlib.Path
    in_folder: bool          # the path names a folder (shards, or a folder given)
    files: list              # of _File
    index: dict | None       # the shards' index, written as INDEX_FILE
    stale: list              # names of an earlier save's files that this one removes
    total: int               # bytes of all the safetensors files

    @property
    def targets(self):
        """The final names, in the order save_safetensors returns them."""
        return [f.name for f in self.files] + ([INDEX_FILE] if self.index else [])

    @property
    def label(self):
        return (f"writing {self.folder / self.files[0].name}" if len(self.files) == 1
                else f"writing {len(self.files)} files to {self.folder}")


def _plan(path, specs, seed, metadata, max_shard_size, overwrite):
    """The _Plan of save_safetensors' arguments: every check that can be made before
    writing (specs, names, metadata, sizes, the folder, existing files, free space)."""
    seed = _streams.check_seed(seed)
    entries = _entries(specs)
    meta = _metadata(metadata, seed)
    if overwrite is not True and overwrite is not False:
        raise TypeError(f"overwrite must be True or False; got {overwrite!r}")
    limit = None if max_shard_size is None else parse_size(max_shard_size)
    if sys.byteorder != "little":
        raise NotImplementedError("safetensors data is little-endian; this writer runs on "
                                  "little-endian machines only")
    folder, name, in_folder = _target(path, limit is not None)
    files = [_File(n, header_bytes(shard, meta)[0], shard)
             for n, shard in _layout(entries, name, limit)]
    index = None
    if len(files) > 1:
        index = {"metadata": {"total_size": sum(e.nbytes for e in entries)},
                 "weight_map": {e.name: f.name for f in files for e in f.entries}}
    total = sum(len(f.header) + sum(e.nbytes for e in f.entries) for f in files)
    plan = _Plan(seed, folder, in_folder, files, index, [], total)
    stale, freed = _refuse_existing(folder, plan.targets, in_folder, overwrite)
    _check_free_space(folder, total, freed)
    return plan._replace(stale=stale)


class _Output:
    """The files of a plan under temporary names, renamed to their names by commit()
    only when all is written; leaving the `with` block without commit() (an error,
    Ctrl-C) removes them, so no file under a final name is ever partial."""

    def __init__(self, plan):
        self.plan = plan
        self.temporary = []  # the paths made so far, in the order of plan.targets
        self.created_folder = False

    def __enter__(self):
        if not self.plan.folder.exists():
            self.plan.folder.mkdir()
            self.created_folder = True
        return self

    def create(self, file):
        """(fd, path) of `file`'s temporary file, opened for writing, its header written."""
        path = _temporary_name(self.plan.folder, file.name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        self.temporary.append(path)
        try:
            _pwrite_all(fd, file.header, 0)
        except OSError as error:
            os.close(fd)
            raise OSError(error.errno, f"could not write {self.plan.folder / file.name}: "
                                       f"{error.strerror}") from error
        return fd, path

    def commit(self):
        """Writes the index if any, gives every file its name, removes an earlier save's
        files that this one does not replace; returns the final paths."""
        plan = self.plan
        if plan.index is not None:
            path = _temporary_name(plan.folder, INDEX_FILE)
            self.temporary.append(path)
            with open(path, "x", encoding="utf-8") as f:  # as save_pretrained writes it
                f.write(json.dumps(plan.index, indent=2, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
        for path, name in zip(self.temporary, plan.targets):
            os.replace(path, plan.folder / name)
        self.temporary = []
        for name in plan.stale:
            os.remove(plan.folder / name)
        _fsync_folder(plan.folder)
        return [plan.folder / name for name in plan.targets]

    def __exit__(self, kind, error, traceback):
        for path in self.temporary:
            _remove_quietly(path)
        if kind is not None and self.created_folder:
            _remove_quietly(self.plan.folder, os.rmdir)
        return False


def _temporary_name(folder, name):
    """A hidden name beside the final one; os.open(O_EXCL) makes sure it is new."""
    return folder / f".{name}.{secrets.token_hex(4)}.tmp"


def _remove_quietly(path, remove=os.remove):
    try:
        remove(path)
    except OSError:
        pass


def _fsync_folder(folder):
    """Makes the renames durable (POSIX: a rename lives in the folder's own data)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
