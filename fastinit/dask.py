"""fastinit on Dask: lazy arrays of initial weights, the same bits for any chunking.

Every value of a fastinit stream is a function of its index alone (docs/stream.md,
"Regions"), so each block of a Dask array is filled on its own, by
`fastinit.fill` with the block's place in the whole tensor, and the array is
the same whatever the chunks, the workers or the cluster: unlike
`dask.array.random`, whose values change with the chunking.

    import fastinit.dask
    w = fastinit.dask.array((65536, 65536), "glorot_uniform", seed=0, chunks=(8192, 8192))
    w.to_zarr("weights.zarr")          # each worker fills and writes its own chunks

A checkpoint written by a cluster, `save_safetensors`, has the same bytes as
fastinit.save_safetensors writes in one process: the same plan (files,
headers, the byte range of every tensor), with the ranges written by the
workers.

Needs ``pip install 'fastinit[dask]'`` (dask[array], distributed, zarr); ``import
fastinit`` alone never imports Dask.
"""
from __future__ import annotations

import functools
import itertools
import os
import pathlib
from typing import Any, Callable, Mapping, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

try:
    import dask
    import dask.array as da
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError("fastinit.dask needs Dask: pip install 'fastinit[dask]' "
                      "(dask[array] and distributed)") from error

import fastinit

from . import _params, _progress, checkpoint
from ._typing import Seed, Shape, Stream

__all__ = ["array", "save_safetensors"]

# Bytes that one task of save_safetensors fills and writes: about the memory it takes on
# its worker. Large enough that a task's scheduling costs little next to its writing.
# Tests lower it.
TASK_BYTES = 64 << 20


def array(shape: Shape, scheme: str, *, seed: Seed, stream: Stream = 0, chunks: Any = "auto",
          dtype: npt.DTypeLike = "float32", **params: Any) -> da.Array:
    """A lazy Dask array of `shape` filled with `scheme`, equal to fastinit.sample bit for bit.

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the whole tensor: fan schemes take their fans from it,
        whatever the chunks.
    scheme : str
        A scheme name, as for fastinit.fill ("glorot_uniform", "he_normal", ...).
    seed : int in [0, 2**64)
        Required: every block, on whichever worker, must read the same seed.
    stream : int in [0, 2**64) or str, default 0
        The stream, e.g. the tensor's name.
    chunks : int, tuple, "auto" or -1, default "auto"
        Any chunking Dask accepts (dask.array.core.normalize_chunks); the
        values do not depend on it.
    dtype : float32, float64, bfloat16 or float16, default "float32"
        A name or a NumPy dtype; bfloat16 arrays have ml_dtypes' dtype (``pip
        install 'fastinit[bfloat16]'``).
    **params
        The scheme's parameters (``gain=``, ``layout="torch"``, ``std=``, ...).

    Returns
    -------
    dask.array.Array
        One task per block and no data in the graph; each task allocates its
        block and fills it on one thread (Dask's workers are the parallelism).
        ``.compute()`` equals ``fastinit.sample(shape, scheme, seed=seed,
        stream=stream, dtype=dtype, **params)``.

    Raises
    ------
    TypeError, ValueError
        At the call, not at compute time: a bad shape, seed, stream, dtype,
        scheme or parameter, or chunks that do not fit the shape; threads=,
        global_shape= and origin=, which the blocks set themselves.

    Notes
    -----
    ``orthogonal`` has no value per element: Q depends on the whole draw. Its
    array computes the whole Q once, in one task (one worker, with a float64
    workspace of a few times the tensor), and its blocks are slices of it,
    rather than every block computing Q again.
    """
    if seed is None:
        raise TypeError("seed is required: every block must draw from the same seed, so "
                        "pass seed=<int>")
    shape = _params.shape(shape)
    placed = [name for name in ("threads", "global_shape", "origin") if name in params]
    if placed:
        raise TypeError(f"fastinit.dask.array takes no {', '.join(n + '=' for n in placed)}: "
                        f"each block is filled on one thread (the workers are the "
                        f"parallelism) at its place in `shape`, the whole tensor; for a part "
                        f"of a larger tensor, slice the array of the whole")
    # An empty box of the whole tensor checks everything (scheme, parameters with the
    # whole tensor's fans, dtype, seed, stream) now, writes nothing, and is the meta of
    # the Dask array.
    zeros = (0,) * len(shape)
    meta = fastinit.sample(zeros, scheme, dtype=dtype, seed=seed, stream=stream, threads=1,
                           global_shape=shape, origin=zeros, **params)
    chunks = da.core.normalize_chunks(chunks, shape, dtype=meta.dtype)
    starts = tuple(tuple(itertools.accumulate(c[:-1], initial=0)) for c in chunks)
    name = "fastinit-" + dask.base.tokenize(shape, scheme, meta.dtype.name, seed, stream,
                                            chunks, params)
    if fastinit.schemes.lookup(scheme).name == "orthogonal":
        whole = dask.delayed(fastinit.sample, pure=True)(
            shape, scheme, dtype=meta.dtype, seed=seed, stream=stream, threads=1, **params)
        return da.map_blocks(functools.partial(_cut_block, chunks, starts), whole, name=name,
                             chunks=chunks, dtype=meta.dtype, meta=meta)
    block = functools.partial(_fill_block, scheme, meta.dtype, seed, stream, shape, chunks,
                              starts, params)
    return da.map_blocks(block, name=name, chunks=chunks, dtype=meta.dtype, meta=meta)


def _box(chunks, starts, block_id):
    """The shape and origin of block `block_id` in the whole tensor."""
    return (tuple(c[i] for c, i in zip(chunks, block_id)),
            tuple(s[i] for s, i in zip(starts, block_id)))


def _fill_block(scheme, dtype, seed, stream, global_shape, chunks, starts, params,
                block_id=None):
    """Block `block_id` of the array: its values in the whole tensor."""
    shape, origin = _box(chunks, starts, block_id)
    return fastinit.fill(np.empty(shape, dtype), scheme, seed=seed, stream=stream, threads=1,
                         global_shape=global_shape, origin=origin, **params)


def _cut_block(chunks, starts, whole, block_id=None):
    """Block `block_id` cut from the whole tensor (a copy, so the whole can be freed)."""
    shape, origin = _box(chunks, starts, block_id)
    return whole[tuple(slice(o, o + n) for o, n in zip(origin, shape))].copy()


def save_safetensors(path: Union[str, os.PathLike],
                     specs: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]], *,
                     seed: Seed, client: Any = None, metadata: Mapping[str, str] | None = None,
                     max_shard_size: Union[int, str, None] = None,
                     progress: Union[bool, Callable[[int, int], Any], None] = None,
                     overwrite: bool = False) -> list[pathlib.Path]:
    """Writes a checkpoint with the workers of a Dask cluster: the same files, byte for
    byte, as fastinit.save_safetensors.

    Parameters
    ----------
    path, specs, seed, metadata, max_shard_size, overwrite
        As for fastinit.save_safetensors. `path` must be on a filesystem that this
        process and every worker see at the same absolute path (a local disk for a
        cluster of this machine; NFS, Lustre, GPFS, ... across machines).
    client : distributed.Client, optional
        The cluster to write with; default: the current client (the last one made).
    progress : bool, callable or None
        As for fastinit.save_safetensors: a bar on stderr (default: when stderr is a
        terminal), False for none, or a function of ``(bytes_done, bytes_total)``,
        called here as the workers' writes complete.

    Returns
    -------
    list of pathlib.Path
        The files written: the safetensors files in order, then the index if any.

    Raises
    ------
    TypeError, ValueError, FileExistsError, FileNotFoundError, OSError
        As fastinit.save_safetensors, and ValueError if there is no client.
        A write that fails on a worker (disk full, a path it cannot see) fails
        the save with that error.

    Notes
    -----
    This process checks everything, then creates each file under a temporary
    name with its header. The tensors' bytes are cut into independent ranges of
    at most TASK_BYTES (64 MiB; an orthogonal tensor is one range, as its Q
    depends on the whole draw); each is a Dask task that fills its range and
    writes it with a positioned write (pwrite) into the temporary file, then
    flushes it (fsync). When every task has succeeded, the files get their
    names; on any failure, or Ctrl-C, the tasks are cancelled and the temporary
    files removed, so no file under a final name is ever partial.

    A task writes bytes that depend on nothing but its range, at a place fixed
    by the plan: running it twice writes the same bytes again. So when a
    worker dies, Dask running its tasks again elsewhere still gives a correct
    file; if Dask gives up (its ``allowed-failures``), the save fails and
    leaves no file. Arrays given in `specs` travel to the workers with their
    tasks. Memory on a worker: TASK_BYTES per task it runs at once.
    """
    import distributed

    plan = checkpoint._plan(path, specs, seed, metadata, max_shard_size, overwrite)
    client = _client(client, distributed)
    bar = _progress.reporter(progress, plan.total, plan.label)
    most = max(8, TASK_BYTES // 8 * 8)  # whole elements of every dtype in each task
    futures, fds = [], []
    try:
        with checkpoint._Output(plan) as output:
            try:
                done = 0
                for file in plan.files:
                    fd, temporary = output.create(file)
                    fds.append(fd)
                    done += len(file.header)
                    target = os.path.abspath(temporary)  # workers may run elsewhere
                    token = dask.base.tokenize(target)
                    for offset, ranges in _tasks(file, most):
                        futures.append(client.submit(
                            _write_task, target, str(plan.folder / file.name), offset, ranges,
                            plan.seed, key=f"fastinit-write-{token}-{offset}"))
                bar.update(done)
                for future in distributed.as_completed(futures, loop=client.loop):
                    done += future.result()  # raises a task's error
                    bar.update(done)
                for fd in fds:
                    os.fsync(fd)  # the headers, written here
            except BaseException:
                client.cancel(futures)  # before the temporary files go
                raise
            finally:
                for fd in fds:
                    os.close(fd)
            return output.commit()
    finally:
        bar.close()


def _client(client, distributed):
    """`client`, or the current one; a ValueError that says what to do if there is none."""
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise ValueError("no Dask client: pass client=, or make one first "
                         "(distributed.Client() starts a cluster on this machine). "
                         "fastinit.save_safetensors writes the same files in one "
                         "process.") from None


def _tasks(file, most):
    """(offset in the file, ranges) of consecutive ranges of `file`, at most `most`
    bytes together; a larger range (an orthogonal tensor) is a task of its own."""
    start, ranges, size = 0, [], 0
    for offset, r in file.ranges(most):
        if ranges and size + r.nbytes > most:
            yield start, ranges
            ranges, size = [], 0
        if not ranges:
            start = offset
        ranges.append(r)
        size += r.nbytes
    if ranges:
        yield start, ranges


def _write_task(temporary, final, offset, ranges, seed):
    """One task of save_safetensors, on a worker: the ranges written into the temporary
    file, which must exist (never created here: a save that was given up stays gone).
    Returns the bytes written."""
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CLOEXEC)
        try:
            nbytes = checkpoint._write_ranges(fd, offset, ranges, seed, threads=1)
            os.fsync(fd)
        finally:
            os.close(fd)
    except FileNotFoundError as error:
        raise FileNotFoundError(error.errno, f"could not write {final}: this worker does not "
                                             f"see {temporary}; the checkpoint's folder must "
                                             f"be on a filesystem every worker shares, at "
                                             f"the same path") from error
    except OSError as error:
        raise OSError(error.errno, f"could not write {final}: {error.strerror}") from error
    return nbytes
