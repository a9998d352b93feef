"""Turning what the user passed into a writable NumPy view, never a copy."""
import sys

import numpy as np

from . import _dtypes, _params


def _torch_view(obj):
    # A torch.Tensor's .numpy() shares its storage; detach() so that weights
    # that require grad can be filled, as torch.nn.init does under no_grad.
    dtype = _dtypes.lookup(obj.dtype, "the tensor's dtype")
    device = str(getattr(obj, "device", "cpu"))
    if device == "meta":
        raise TypeError("this tensor is on the meta device, so it has no memory to fill: give "
                        "it memory first (module.to_empty(device='cpu'), or torch.empty_like("
                        "t, device='cpu')), or let fastinit.torch.materialize(model, seed=...) "
                        "give a whole model memory and initialise it.")
    if device != "cpu":
        raise TypeError(f"fastinit fills CPU tensors in place; this one is on {device}, and "
                        f"fastinit has no GPU support yet. Fill a CPU tensor, then move it with "
                        f".to({device!r}).")
    tensor = obj.detach()
    try:
        if dtype.numpy_module != "numpy":  # no NumPy dtype of NumPy's own: its bits, same strides
            torch = sys.modules[type(obj).__module__.split(".")[0]]
            tensor = tensor.view(getattr(torch, f"int{8 * dtype.itemsize}"))
        return tensor.numpy(), dtype
    except (RuntimeError, TypeError, NotImplementedError) as exc:  # sparse, neg bit, ...
        raise TypeError(f"fastinit fills tensors in place through their NumPy view, and this "
                        f"tensor has none ({exc}).") from None


def torch_wrote(tensor):
    """Bumps the version counter of a torch tensor written in place, as torch's in-place
    ops do: autograd then refuses a backward pass through a graph that saved the old
    values (which would otherwise use the new ones, silently)."""
    torch = sys.modules[type(tensor).__module__.split(".")[0]]
    torch.autograd.graph.increment_version(tensor)


def is_torch_tensor(obj):
    """Whether obj is a torch.Tensor (Parameter, DTensor...), without importing torch."""
    return type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach")


def writable_view(obj):
    """(arr, dtype): a NumPy array sharing obj's memory, checked to be writable, and
    the _dtypes row its elements are to be written as (arr holds a bfloat16 torch
    tensor's bits as 16-bit integers)."""
    if isinstance(obj, np.ndarray):
        arr, dtype = obj, _dtypes.of_numpy(obj.dtype, "the array's dtype")
    elif is_torch_tensor(obj):
        arr, dtype = _torch_view(obj)
    else:
        try:
            arr = np.asarray(obj, copy=False)
        except (ValueError, TypeError):
            if isinstance(obj, memoryview) and _released(obj):
                raise TypeError("this memoryview was released (m.release(), or the end of its "
                                "with-block), so it no longer has memory to fill: fill it "
                                "before releasing it, or fill the object it viewed.") from None
            raise TypeError(
                f"fastinit fills arrays in place, so it needs memory it can write to: a NumPy "
                f"array or anything NumPy can view without copying (buffer protocol, "
                f"np.memmap, a CPU torch.Tensor); got {type(obj).__name__}. "
                f"Create the array first, e.g. np.empty(shape, dtype=np.float32).") from None
        dtype = _dtypes.of_numpy(arr.dtype, "the array's dtype")
    if not arr.flags.writeable:
        raise ValueError("the array is read-only, so fastinit cannot fill it in place; pass a "
                         "writable array (arr.copy(), or np.memmap with mode='r+' or 'w+').")
    return arr, dtype


def check_region(shape, global_shape, origin):
    """Validated (global_shape, origin) tuples for a box of `shape`.

    With neither given, the array is the whole tensor. The box must lie inside
    the global shape, which must have one entry per dimension of the array.
    """
    shape = tuple(shape)
    if global_shape is None:
        if origin is not None:
            raise ValueError("origin= says where the array sits in a larger tensor; "
                             "give that tensor's shape as global_shape= too")
        return shape, (0,) * len(shape)
    global_shape = _params.shape(global_shape, "global_shape", scalar=False)
    origin = (0,) * len(shape) if origin is None else _params.integers("origin", origin)
    if len(global_shape) != len(shape) or len(origin) != len(shape):
        raise ValueError(f"the array has {len(shape)} dimensions, so global_shape and origin "
                         f"need {len(shape)} entries each; got global_shape={global_shape}, "
                         f"origin={origin}")
    for k, (n, g, o) in enumerate(zip(shape, global_shape, origin)):
        if o + n > g:
            raise ValueError(f"the region does not fit its global shape in dimension {k}: "
                             f"origin {o} + size {n} > global size {g} (global_shape="
                             f"{global_shape}, origin={origin}, array shape={shape})")
    return global_shape, origin


def _released(view):
    try:
        view.nbytes
    except ValueError:
        return True
    return False
