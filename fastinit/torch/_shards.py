"""Where a DTensor's local shard sits in its global tensor, as boxes.

A rank's local tensor holds, along each dimension, the global indices that the
placements give it (torch.chunk-like pieces, uneven ones included, and for
`_StridedShard` several pieces joined). The local tensor is therefore the
product of one index list per dimension; every run of consecutive global
indices is a slice, and the product of one run per dimension is a box that
fastinit fills with ``global_shape``/``origin``. No collective is needed: the
index lists come from DTensor's own splitting of an index vector, done
locally (``distribute_tensor(..., src_data_rank=None)``).
"""
import functools
import itertools

import torch


def is_dtensor(tensor):
    """True for a torch.distributed DTensor (without importing torch.distributed
    for programs that never created one)."""
    return type(tensor).__name__ == "DTensor" and hasattr(tensor, "placements")


def _global_indices(size, mesh, placements):
    """The global indices, in local order, that this rank holds of a dimension of
    `size` sharded by `placements` (each a placement of that dimension, mapped to
    dim 0, or Replicate): DTensor's own split of an index vector, made locally."""
    return _indices(size, mesh, placements, tuple(mesh.get_coordinate() or ()))


@functools.lru_cache(maxsize=4096)
def _indices(size, mesh, placements, coordinate):  # the coordinate is part of the key
    from torch.distributed.tensor import distribute_tensor
    index = distribute_tensor(torch.arange(size), mesh, list(placements), src_data_rank=None)
    return tuple(index.to_local().tolist())


def _runs(indices):
    """[(local_start, global_start, length)] of consecutive global indices."""
    runs = []
    for local, g in enumerate(indices):
        if runs and runs[-1][1] + runs[-1][2] == g:
            start_local, start_global, n = runs[-1]
            runs[-1] = (start_local, start_global, n + 1)
        else:
            runs.append((local, g, 1))
    return runs


def _placements_of_dim(placements, dim):
    """The placements as they act on one tensor dimension: shards of `dim` moved
    to dim 0, everything else Replicate (it does not split this dimension)."""
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.placement_types import _StridedShard
    mapped, sharded = [], False
    for p in placements:
        if isinstance(p, _StridedShard) and p.dim == dim:
            mapped.append(_StridedShard(0, split_factor=p.split_factor))
            sharded = True
        elif isinstance(p, Shard) and not isinstance(p, _StridedShard) and p.dim == dim:
            mapped.append(Shard(0))
            sharded = True
        else:
            mapped.append(Replicate())
    return tuple(mapped), sharded


def local_boxes(dtensor, name):
    """[(slices of dtensor.to_local(), global origin)] covering the local shard.

    Raises ValueError for a Partial placement (a sum of tensors has no single
    initial value to give) and if DTensor's local shape disagrees with the
    placements (a layout this module does not know).
    """
    from torch.distributed.tensor import Partial
    placements = tuple(dtensor.placements)
    if any(isinstance(p, Partial) for p in placements):
        raise ValueError(f"{name} is a DTensor with a Partial placement {placements}: its "
                         f"value is a sum over ranks, which an initialisation cannot give; "
                         f"initialise it with Shard or Replicate placements")
    local = dtensor.to_local()
    mesh = dtensor.device_mesh
    per_dim = []
    for dim, size in enumerate(tuple(dtensor.shape)):
        mapped, sharded = _placements_of_dim(placements, dim)
        if not sharded:
            per_dim.append([(0, 0, size)])
            continue
        indices = _global_indices(size, mesh, mapped)
        if len(indices) != local.shape[dim]:
            raise ValueError(f"{name}: the local shard has {local.shape[dim]} entries in "
                             f"dimension {dim}, but placements {placements} on a mesh of "
                             f"shape {tuple(mesh.shape)} give it {len(indices)}")
        per_dim.append(_runs(indices))
    boxes = []
    for pieces in itertools.product(*per_dim):
        local_slices = tuple(slice(lo, lo + n) for lo, _, n in pieces)
        origin = tuple(g for _, g, _ in pieces)
        boxes.append((local_slices, origin))
    return boxes
