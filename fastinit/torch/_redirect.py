"""redirect(): a module's random initialisation, drawn from fastinit instead of torch.

While a redirect is active, the functions of torch.nn.init (wherever a module
holds a reference to them: torch's own modules, `from torch.nn.init import
normal_` in user code, transformers' table of torch's functions) and the
tensor methods `uniform_`/`normal_` are replaced by functions that:

1. find out whether the tensor belongs to the module (by its storage, offset,
   shape and strides, so `param.data` and slices of a parameter are found too);
2. if not, call torch's own function, unchanged;
3. if so, compute the distribution exactly as torch's function would (its fan
   rules and gains, in Python floats, on the global shape for a DTensor) and
   draw it with fastinit.fill, seed=seed, stream=the tensor's qualified name.

Constants (`zeros_`, `ones_`, `constant_`, `Tensor.zero_`/`fill_`/`copy_`) are
not random, so torch writes them; they are only noted, so that init_module can
tell which tensors the model's own code initialised. Values that reach the
module's tensors from torch's own generator all the same are found (TorchDraws)
and warned about.
"""
import math
import sys
import threading
import warnings
import weakref

import numpy as np
import torch
from torch.autograd.graph import increment_version
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import fastinit

from . import _shards

# Torch's functions, taken before anything replaces them: a redirect finds the
# places that hold them by identity and calls them for tensors that are not its own.
INIT_NAMES = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
              "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
              "kaiming_normal_", "orthogonal_", "sparse_")
TORCH_INIT = {name: getattr(torch.nn.init, name) for name in INIT_NAMES}
METHOD_NAMES = ("uniform_", "normal_", "zero_", "fill_", "copy_")
TORCH_METHOD = {name: getattr(torch.Tensor, name) for name in METHOD_NAMES}

_lock = threading.Lock()
_active = None  # the Session of the redirect in progress, if any


def storage_id(tensor):
    # The StorageImpl's address: unique while the storage lives (a Session keeps its
    # tensors alive), shared by views and `.data`, defined for empty and meta tensors.
    return tensor.untyped_storage()._cdata


def _key(tensor):
    return (storage_id(tensor), tensor.storage_offset(), tuple(tensor.shape),
            tuple(tensor.stride()), tensor.dtype)


class Target:
    """One parameter or buffer of the module: its name (the stream), the tensor
    that holds this process's values, and where those sit in the global tensor."""

    def __init__(self, name, tensor):
        self.name, self.tensor = name, tensor
        self.dtensor = _shards.is_dtensor(tensor)
        self.local = tensor.to_local() if self.dtensor else tensor
        self.global_shape = tuple(tensor.shape)
        self._boxes = None

    def boxes(self):
        """[(local slices, global origin)] of a DTensor's local shard."""
        if self._boxes is None:
            self._boxes = _shards.local_boxes(self.tensor, self.name)
        return self._boxes

    @property
    def nbytes(self):
        return self.local.numel() * self.local.element_size()


class Spot:
    """Where an init call writes: a whole target, or a box of a plain one. `base` is
    the module's tensor written (the target, but for a spot made by own())."""

    __slots__ = ("session", "target", "tensor", "box", "base")

    def __init__(self, session, target, tensor, box=None, base=None):
        self.session, self.target, self.tensor, self.box = session, target, tensor, box
        self.base = target if base is None else base

    @property
    def whole(self):
        return self.box is None

    def pieces(self):
        """(view, origin) pairs: origin None for the whole of a plain target."""
        t = self.target
        if t.dtensor:
            return [(t.local[s], o) for s, o in t.boxes()]
        if self.box is None:  # the target itself, in its own order, whatever view was passed
            return [(t.local, None)]
        slices, origin = self.box
        return [(t.local[slices], origin)]

    def own(self):
        """This spot as a tensor of its own: for the inits that depend on the shape
        as a whole (orthogonal_, sparse_) called on a box of a plain tensor, which
        then reads the stream "<name>[<box>]" (a box is not such a tensor's region)."""
        if self.box is None:
            return self
        box = ",".join(f"{s.start}:{s.stop}" for s in self.box[0])
        return Spot(self.session, Target(f"{self.target.name}[{box}]", self.tensor), self.tensor,
                    base=self.target)

    def rebased(self, session, real):
        """This spot in `real`, a CPU tensor with the layout of the base's (meta) tensor:
        a recorded init, run again where it can write."""
        base = self.base.local
        view = real.as_strided(self.tensor.size(), self.tensor.stride(),
                               real.storage_offset() + self.tensor.storage_offset()
                               - base.storage_offset())
        target = Target(self.target.name, real if self.target is self.base else view)
        return Spot(session, target, view, self.box)

    def fill(self, scheme, **params):
        """Draws `scheme` into the spot with the session's seed and the target's stream."""
        s, t = self.session, self.target
        s.drawn_by_fastinit(self)
        if s.recorder is not None:
            return s.recorder.add(self, "fill", scheme, params)
        with torch.no_grad():
            for view, origin in self.pieces():
                if origin is None:
                    fastinit.fill(view, scheme, seed=s.seed, stream=t.name, threads=s.threads,
                                  **params)
                else:
                    fastinit.fill(view, scheme, seed=s.seed, stream=t.name, threads=s.threads,
                                  global_shape=t.global_shape, origin=origin, **params)
        return self.done()

    def write(self, values):
        """Writes values(view, origin, global_shape), a tensor or a number, into each
        piece (for inits that are computed rather than drawn); None: values() wrote
        the piece itself."""
        self.session.drawn_by_fastinit(self)
        if self.session.recorder is not None:
            return self.session.recorder.add(self, "write", values)
        with torch.no_grad():
            for view, origin in self.pieces():
                origin = (0,) * view.dim() if origin is None else origin
                value = values(view, origin, self.target.global_shape)
                if isinstance(value, torch.Tensor):
                    TORCH_METHOD["copy_"](view, value)
                elif value is not None:
                    TORCH_METHOD["fill_"](view, value)
        return self.done()

    def zero_row(self, index):
        """Zeroes row `index` (of the global tensor) where this process holds it,
        leaving the rest: an Embedding's padding_idx row."""
        if self.session.recorder is not None:
            return self.session.recorder.add(self, "zero_row", index)
        def zero(view, origin, global_shape):
            row = index % global_shape[0] - origin[0]
            if 0 <= row < view.shape[0]:
                TORCH_METHOD["zero_"](view[row])
        with torch.no_grad():
            for view, origin in self.pieces():
                zero(view, (0,) * view.dim() if origin is None else origin,
                     self.target.global_shape)
        increment_version(self.tensor)

    def done(self):
        increment_version(self.tensor)  # autograd must see the in-place change
        self.session.drawn_by_fastinit(self)  # the fill's own torch ops read the old values
        self.session.wrote(self)
        return self.tensor


class Session:
    """The tensors of one module under redirect, found by storage and layout."""

    def __init__(self, module, seed, threads, recorder=None):
        self.seed, self.threads = seed, threads
        self.recorder = recorder  # records each init instead of running it (meta tensors)
        self.targets = {}      # name -> Target
        self.exact = {}        # _key(local tensor) -> Target
        self.by_storage = {}   # storage id -> [Target], for views
        self.written = set()   # names of targets written whole
        self.on_write = None   # called with each Target when first written whole
        self.torch_drawn = {}  # name -> the torch op whose random values it holds
        self.draws = None      # the TorchDraws of the redirect in progress
        for name, tensor in named_tensors(module):
            target = Target(name, tensor)
            self.targets[name] = target
            if target.local.device.type == "meta" and recorder is None:
                continue  # torch's init is a no-op on meta, and so is ours
            self.exact[_key(target.local)] = target
            self.by_storage.setdefault(storage_id(target.local), []).append(target)

    def drawn_by_fastinit(self, spot):
        """Forgets that the spot held values of torch's generator (TorchDraws)."""
        if self.draws is not None:
            self.draws.forget(spot.tensor)
        if spot.whole:
            self.torch_drawn.pop(spot.target.name, None)

    def wrote(self, spot):
        name = spot.target.name
        if spot.whole and name in self.targets and name not in self.written:
            self.written.add(name)
            if self.on_write is not None:
                self.on_write(spot.target)

    def spot(self, tensor, random=True):
        """The Spot that `tensor` is, or None for a tensor not of the module. A random
        init of a view that cannot be placed is an error (its values would come from
        torch's generator); a constant one is torch's to write."""
        if not isinstance(tensor, torch.Tensor):
            return None
        if _shards.is_dtensor(tensor):
            local = tensor.to_local()
            target = self.exact.get(_key(local))
            if target is None and random and storage_id(local) in self.by_storage:
                raise ValueError(f"a random init function was called on a view of the "
                                 f"sharded tensor "
                                 f"{self.by_storage[storage_id(local)][0].name!r}; fastinit "
                                 f"initialises a DTensor whole")
            return None if target is None else Spot(self, target, tensor)
        if tensor.device.type != "cpu" and not (self.recorder and tensor.device.type == "meta"):
            return None
        try:
            key = _key(tensor)
        except (RuntimeError, NotImplementedError):  # no storage: sparse, nested, ...
            return None
        target = self.exact.get(key)
        if target is not None:
            return Spot(self, target, tensor)
        sharing = [t for t in self.by_storage.get(key[0], ())
                   if not t.dtensor and t.local.dtype == tensor.dtype]
        for target in sharing:
            box = _box_in(tensor, target.local)
            if box is not None:
                slices, origin, covers = box
                return Spot(self, target, tensor, None if covers else (slices, origin))
        if sharing and random:
            raise ValueError(
                f"an init function was called on a view of {sharing[0].name!r} (shape "
                f"{tuple(tensor.shape)}, strides {tuple(tensor.stride())}) that is not a box "
                f"of it; fastinit draws a box of a tensor (a slice, in any order of "
                f"dimensions) from that tensor's stream, and cannot place this view")
        return None


def named_tensors(module):
    """(qualified name, tensor) of every parameter and buffer, each tensor once, under
    the first name it has (tied weights are one tensor with one stream)."""
    seen = set()
    for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            yield name, tensor


def _box_in(view, base):
    """(slices of base, origin, covers_all) if `view` holds exactly a box of `base`
    (the same elements, in any order of dimensions), else None.

    The view's dimensions of size > 1 must each step like one dimension of the
    base; its offset, split over the base's strides, gives the box's corner.
    """
    if base.numel() == 0:
        return None
    if (view.numel() == base.numel() and view.storage_offset() == base.storage_offset()
            and view.is_contiguous() and base.is_contiguous()):  # e.g. weight.view(-1)
        return tuple(slice(None) for _ in base.shape), (0,) * base.dim(), True
    dims = {}  # base dim -> view size, for the view's dimensions of size > 1
    base_dims = [d for d in range(base.dim()) if base.shape[d] > 1]
    for size, stride in zip(view.shape, view.stride()):
        if size == 1:
            continue
        match = [d for d in base_dims if base.stride(d) == stride and d not in dims]
        if len(match) != 1:
            return None
        dims[match[0]] = size
    rel = view.storage_offset() - base.storage_offset()
    if rel < 0:
        return None
    origin = [0] * base.dim()
    for d in sorted(base_dims, key=lambda d: -base.stride(d)):
        origin[d], rel = divmod(rel, base.stride(d))
    if rel != 0:
        return None
    sizes = [dims.get(d, 1) for d in range(base.dim())]
    if any(o < 0 or o + n > base.shape[d] for d, (o, n) in enumerate(zip(origin, sizes))):
        return None
    if math.prod(sizes) != view.numel():
        return None
    slices = tuple(slice(o, o + n) for o, n in zip(origin, sizes))
    return slices, tuple(origin), sizes == list(base.shape)


def _spot(tensor, random=True):
    session = _active
    return None if session is None else session.spot(tensor, random)


# ---- torch.nn.init's functions, drawn from fastinit for the module's tensors -------
# Each computes its distribution as torch's function of the same name does (see
# torch/nn/init.py), then draws it; `generator` is not used for the module's tensors:
# the seed and the tensor's name replace it.

def _fans(tensor):
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer "
                         "than 2 dimensions")
    return fastinit.compute_fans(shape, layout="torch")


def _fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _empty_warning(tensor):
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["uniform_"](tensor, a, b, generator)
    return spot.fill("uniform", low=a, high=b)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["normal_"](tensor, mean, std, generator)
    return _normal(spot, mean, std)


def _normal(spot, mean, std):
    if std == 0:  # torch allows it: every value is the mean
        return spot.write(lambda view, origin, shape: mean)
    return spot.fill("normal", mean=mean, std=std)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """torch's bounds a, b are absolute. When they are symmetric about the mean (the
    usual case: timm, torchtitan, Hugging Face) this is fastinit's truncated normal
    at +-(b - mean)/std, exactly. Otherwise see _asymmetric_truncated_normal."""
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["trunc_normal_"](tensor, mean, std, a, b, generator)
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    if b - mean == mean - a:
        return spot.fill("truncated_normal", mean=mean, std=std, bound=(b - mean) / std)
    return _asymmetric_truncated_normal(spot, mean, std, a, b)


def _asymmetric_truncated_normal(spot, mean, std, a, b):
    """N(mean, std**2) restricted to [a, b] with a, b not symmetric about the mean:
    the inverse CDF of a fastinit uniform draw, s in (-1, 1) from the tensor's
    stream (a float64 uniform(-1, 1) fill, which is s exactly), mapped to
    z = sqrt(2) * erfinv(m + h * s) with m, h the middle and half width of
    [erf(alpha / sqrt(2)), erf(beta / sqrt(2))], alpha, beta = (a, b) in std units.
    Exact in distribution, element by element (so shards agree), no rejection; the
    erfinv is torch's, in float64. The mean must lie in [a, b]."""
    if not (std > 0 and a < b and a <= mean <= b):
        raise ValueError(f"fastinit draws trunc_normal_ with std > 0 and the mean inside "
                         f"[a, b]; got mean={mean}, std={std}, a={a}, b={b}")
    ea, eb = math.erf((a - mean) / std / math.sqrt(2)), math.erf((b - mean) / std / math.sqrt(2))
    mid, half = (ea + eb) / 2, (eb - ea) / 2
    s = spot.session

    def values(view, origin, global_shape):
        u = np.empty(tuple(view.shape), np.float64)
        fastinit.fill(u, "uniform", low=-1.0, high=1.0, seed=s.seed, stream=spot.target.name,
                      threads=s.threads, global_shape=global_shape, origin=origin)
        z = torch.special.erfinv(torch.from_numpy(u).mul_(half).add_(mid))
        z = z.mul_(math.sqrt(2.0) * std).add_(mean).clamp_(a, b)
        # A narrow value is the float32 value rounded, as docs/stream.md has it for draws.
        return z.float() if view.element_size() < 4 else z
    return spot.write(values)


def constant_(tensor, val):
    return _noted(TORCH_INIT["constant_"], tensor, val)


def ones_(tensor):
    return _noted(TORCH_INIT["ones_"], tensor)


def zeros_(tensor):
    return _noted(TORCH_INIT["zeros_"], tensor)


def _noted(function, tensor, *args, **kwargs):
    """Calls torch's own (non-random) function, and notes the write if it is ours."""
    spot = _spot(tensor, random=False)
    if spot is not None and spot.session.draws is not None:
        draws = spot.session.draws  # copy_(w, torch.rand(n)): w holds torch's draws
        if any(draws.holds(a) for a in tree_leaves((args, kwargs))):
            spot.session.torch_drawn.setdefault(spot.base.name, function.__name__)
    if spot is not None and spot.session.recorder is not None:
        return spot.session.recorder.add(spot, "call", function, args, kwargs)
    out = function(tensor, *args, **kwargs)
    if spot is not None:
        spot.session.wrote(spot)
    return out


def eye_(tensor):
    spot = _spot(tensor)
    if spot is None or not spot.target.dtensor:
        return _noted(TORCH_INIT["eye_"], tensor)
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")

    def values(view, origin, global_shape):
        rows = torch.arange(origin[0], origin[0] + view.shape[0])
        cols = torch.arange(origin[1], origin[1] + view.shape[1])
        return rows[:, None] == cols[None, :]
    return spot.write(values)


def dirac_(tensor, groups=1):
    spot = _spot(tensor)
    if spot is None or not spot.target.dtensor:
        return _noted(TORCH_INIT["dirac_"], tensor, groups)
    dims, sizes = tensor.dim(), tuple(tensor.shape)
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    ones = [(g * per_group + d, d, *(n // 2 for n in sizes[2:]))
            for g in range(groups) for d in range(min(per_group, sizes[1]))]

    def values(view, origin, global_shape):
        out = torch.zeros(tuple(view.shape), dtype=view.dtype)
        for index in ones:
            local = tuple(i - o for i, o in zip(index, origin))
            if all(0 <= i < n for i, n in zip(local, view.shape)):
                out[local] = 1
        return out
    return spot.write(values)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["xavier_uniform_"](tensor, gain, generator)
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return spot.fill("uniform", low=-a, high=a)


def xavier_normal_(tensor, gain=1.0, generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["xavier_normal_"](tensor, gain, generator)
    fan_in, fan_out = _fans(tensor)
    return _normal(spot, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    return fastinit.calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["kaiming_uniform_"](tensor, a, mode, nonlinearity, generator)
    if _empty_warning(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return spot.fill("uniform", low=-bound, high=bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["kaiming_normal_"](tensor, a, mode, nonlinearity, generator)
    if _empty_warning(tensor):
        return tensor
    return _normal(spot, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor, gain=1, generator=None):
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["orthogonal_"](tensor, gain, generator)
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    return spot.own().fill("orthogonal", gain=gain, layout="torch")


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std**2) on the tensor's stream; in each column, the rows holding the
    ceil(sparsity * rows) smallest keys of a float64 uniform draw on the stream
    "<name>#sparse" are zeroed (torch takes them from a randperm per column)."""
    spot = _spot(tensor)
    if spot is None:
        return TORCH_INIT["sparse_"](tensor, sparsity, std, generator)
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tuple(tensor.shape)
    num_zeros = math.ceil(sparsity * rows)
    spot = spot.own()
    s, name = spot.session, spot.target.name
    _normal(spot, 0.0, std)

    def values(view, origin, global_shape):
        keys = np.empty((rows, view.shape[1]), np.float64)
        fastinit.fill(keys, "uniform", seed=s.seed, stream=name + "#sparse", threads=s.threads,
                      global_shape=(rows, cols), origin=(0, origin[1]))
        zero = np.zeros(keys.shape, bool)
        np.put_along_axis(zero, np.argsort(keys, axis=0, kind="stable")[:num_zeros], True, 0)
        mine = torch.from_numpy(zero[origin[0]:origin[0] + view.shape[0]])
        return view.masked_fill(mine, 0)
    return spot.write(values)


REPLACEMENTS = {name: globals()[name] for name in INIT_NAMES}


def zero_padding_row(module):
    """Embedding(Bag)._fill_padding_idx_with_zero: torch writes `weight[padding_idx]`,
    which on a DTensor is a gathered copy (a collective, and the shard keeps its
    values); this zeroes the row in the shard that holds it."""
    spot = _spot(module.weight) if module.padding_idx is not None else None
    if spot is not None:
        spot.zero_row(module.padding_idx)
        return
    for cls in PADDING_CLASSES:
        if isinstance(module, cls):
            TORCH_PADDING[cls](module)


PADDING_CLASSES = (torch.nn.Embedding, torch.nn.EmbeddingBag)
TORCH_PADDING = {cls: cls.__dict__["_fill_padding_idx_with_zero"] for cls in PADDING_CLASSES}


# ---- tensor methods ----------------------------------------------------------------

def _arguments(args, kwargs, names, defaults):
    values = list(args) + [kwargs.get(n, d) for n, d in zip(names[len(args):],
                                                           defaults[len(args):])]
    return values


def _tensor_uniform_(self, *args, **kwargs):
    spot = _spot(self)
    if spot is None:
        return TORCH_METHOD["uniform_"](self, *args, **kwargs)
    low, high = _arguments(args, kwargs, ("from", "to"), (0.0, 1.0))
    return spot.fill("uniform", low=low, high=high)


def _tensor_normal_(self, *args, **kwargs):
    spot = _spot(self)
    if spot is None:
        return TORCH_METHOD["normal_"](self, *args, **kwargs)
    mean, std = _arguments(args, kwargs, ("mean", "std"), (0.0, 1.0))
    return _normal(spot, mean, std)


def _tensor_zero_(self):
    return _noted(TORCH_METHOD["zero_"], self)


def _tensor_fill_(self, value):
    return _noted(TORCH_METHOD["fill_"], self, value)


def _tensor_copy_(self, src, non_blocking=False):
    return _noted(TORCH_METHOD["copy_"], self, src, non_blocking)


METHOD_REPLACEMENTS = {"uniform_": _tensor_uniform_, "normal_": _tensor_normal_,
                       "zero_": _tensor_zero_, "fill_": _tensor_fill_, "copy_": _tensor_copy_}


# ---- installing and removing the replacements ------------------------------------------

_MISSING = object()


def _install():
    """Replaces torch's functions wherever a module holds them; returns what to undo."""
    undo = []
    try:
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for name, original in TORCH_INIT.items():
                if namespace.get(name) is original:
                    undo.append((namespace, name, original, REPLACEMENTS[name]))
                    namespace[name] = REPLACEMENTS[name]
        # transformers.initialization calls torch's functions through this table.
        hf = sys.modules.get("transformers.initialization")
        table = getattr(hf, "TORCH_INIT_FUNCTIONS", None)
        if isinstance(table, dict):
            for name, original in TORCH_INIT.items():
                if table.get(name) is original:
                    undo.append((table, name, original, REPLACEMENTS[name]))
                    table[name] = REPLACEMENTS[name]
        for name, replacement in METHOD_REPLACEMENTS.items():
            undo.append((torch.Tensor, name, torch.Tensor.__dict__.get(name, _MISSING),
                         replacement))
            setattr(torch.Tensor, name, replacement)
        for cls in PADDING_CLASSES:
            undo.append((cls, "_fill_padding_idx_with_zero", TORCH_PADDING[cls],
                         zero_padding_row))
            cls._fill_padding_idx_with_zero = zero_padding_row
    except BaseException:
        _uninstall(undo)
        raise
    return undo


def _uninstall(undo):
    """Puts torch's functions back where ours still are (where something else has
    replaced ours since, that code puts ours back, and ours then call torch's)."""
    for place, name, original, replacement in reversed(undo):
        if isinstance(place, dict):
            if place.get(name) is replacement:
                place[name] = original
        elif place.__dict__.get(name) is replacement:
            if original is _MISSING:
                delattr(place, name)
            else:
                setattr(place, name, original)


class TorchDraws(TorchDispatchMode):
    """Finds the module's tensors that the init code gives values drawn from torch's own
    generator: written by a random op that the redirect does not replace
    (``Tensor.bernoulli_``, ``torch.normal(..., out=w)``), or copied from a tensor made
    from such draws (Mamba2's ``copy_(dt_bias, f(torch.rand(n)))``, transformers'
    orthogonal_ of a bfloat16 tensor, drawn into a float32 copy). Their values depend
    on torch.manual_seed, not on the seed, and differ between the ranks of a sharded
    model: the redirect warns about them (Session.torch_drawn)."""

    def __init__(self, session):
        super().__init__()
        self.session = session
        self.drawn = {}  # storage id -> [(byte range, weak reference)] of torch's draws

    def holds(self, value):
        """Whether `value` is a tensor whose bytes overlap values of torch's draws."""
        place = _place(value)
        return place is not None and any(
            _overlap(span, place[1]) and ref() is not None  # a freed storage's id is reused
            for span, ref in self.drawn.get(place[0], ()))

    def forget(self, tensor):
        """`tensor` was written by fastinit: its bytes no longer hold torch's draws."""
        place = _place(tensor)
        if place is not None and place[0] in self.drawn:
            self.drawn[place[0]] = [(span, ref) for span, ref in self.drawn[place[0]]
                                    if not _overlap(span, place[1])]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if (torch.Tag.nondeterministic_seeded in func.tags
                or any(self.holds(a) for a in tree_leaves((args, kwargs)))):
            for tensor in tree_leaves(out):
                place = _place(tensor)
                if place is None:
                    continue
                sid, span = place
                owner = tensor if tensor._base is None else tensor._base  # a view keeps it
                self.drawn.setdefault(sid, []).append((span, weakref.ref(owner)))
                for target in self.session.by_storage.get(sid, ()):
                    if _overlap(span, _place(target.local)[1]):
                        self.session.torch_drawn.setdefault(target.name, str(func))
        return out


def _place(value):
    """(storage id, (first byte, end byte)) of a tensor's elements, or None (not a
    tensor, no elements or no storage)."""
    if not isinstance(value, torch.Tensor):
        return None
    try:
        local = value.to_local() if _shards.is_dtensor(value) else value
        if local.numel() == 0:
            return None
        size = local.element_size()
        first = local.storage_offset() * size
        last = first + sum((n - 1) * abs(st) for n, st in zip(local.shape, local.stride())) * size
        return storage_id(local), (first, last + size)
    except (RuntimeError, NotImplementedError):  # no storage: sparse, nested, ...
        return None


def _overlap(a, b):
    return a[0] < b[1] and b[0] < a[1]


def warn_torch_drawn(session):
    """The warning for the module's tensors that hold values of torch's generator."""
    if session.torch_drawn:
        found = ", ".join(f"{name} ({op})" for name, op in session.torch_drawn.items())
        warnings.warn(
            f"the init code gave {found} values drawn from torch's random generator, not "
            f"from fastinit: they depend on torch.manual_seed rather than on seed=, and the "
            f"ranks of a sharded model disagree on them. Give them a rule (rules=[(name, "
            f"scheme, params)]) or a fastinit.fill of their own to draw them from fastinit.",
            UserWarning, stacklevel=3)


class Redirect:
    """The context manager that fastinit.torch.redirect returns."""

    def __init__(self, session, module=None):
        self.session, self.module = session, module
        self._undo = None

    def __enter__(self):
        global _active
        with _lock:
            if _active is not None:
                raise RuntimeError(
                    "a fastinit.torch.redirect is already active (in this or another "
                    "thread); redirects cannot be nested or run at once. Initialise the "
                    "whole model inside one redirect.")
            _active = self.session
        try:
            self._undo = _install()
            self.session.draws = TorchDraws(self.session)
            self.session.draws.__enter__()
        except BaseException:
            _uninstall(self._undo or [])
            self.session.draws = None
            _active = None
            raise
        return self.module

    def __exit__(self, kind, error, traceback):
        global _active
        try:
            self.session.draws.__exit__(kind, error, traceback)
            _uninstall(self._undo)
        finally:
            self.session.draws = None
            _active = None
        if kind is None:
            warn_torch_drawn(self.session)
        return False
