"""init_module and materialize: a whole model initialised by its own code, drawn
from fastinit.

What "its own code" is, in the order a model's construction runs it:

1. every submodule's ``reset_parameters()`` (or ``_reset_parameters()``), children
   before parents (a parent may re-initialise a child's tensors, as
   MultiheadAttention does with its out_proj bias);
2. for a Hugging Face ``PreTrainedModel``, its ``initialize_weights()`` (the
   ``_init_weights`` of each module, which transformers 5 also uses to compute
   buffers such as rotary tables) instead of the reset methods of the modules it
   initialises: those would be overwritten, and would cost a second fill;
3. ``rules``, last: they override the module's own init for the tensors they match
   (and a module whose tensors are all matched is not reset at all).
"""
import contextlib
import fnmatch
import mmap
import os
import sys
import warnings
from collections.abc import Mapping

import numpy as np
import torch

import fastinit
from fastinit import _progress

from . import _record, _redirect, _shards
from ._redirect import Session, Spot, named_tensors

RESET_METHODS = ("reset_parameters", "_reset_parameters")
ALIGN = 64  # bytes between tensors in one allocation: a cache line, SIMD-aligned
_FLOATS = (torch.float32, torch.float64, torch.bfloat16, torch.float16)  # named in errors


def check_module(module, caller):
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"fastinit.torch.{caller} takes a torch.nn.Module; got "
                        f"{type(module).__name__}")


def check_seed_and_threads(seed, threads):
    """seed and threads checked by fastinit itself, on a fill that writes nothing."""
    fastinit.fill(np.empty(0, np.float32), "zeros", seed=seed, stream=0, threads=threads)


_FILLABLE = {}


def fillable(dtype):
    """Whether fastinit.fill takes a tensor of this dtype (asked of fastinit itself)."""
    if dtype not in _FILLABLE:
        try:
            fastinit.fill(torch.empty(0, dtype=dtype), "zeros", seed=0, stream=0)
            _FILLABLE[dtype] = True
        except TypeError:
            _FILLABLE[dtype] = False
    return _FILLABLE[dtype]


def check_tensors(module, caller, dtype=None, meta_ok=False):
    """Every parameter and buffer where fastinit can write it: on the CPU (or meta,
    for materialize), of a dtype fastinit fills if it is floating point."""
    for name, tensor in named_tensors(module):
        if isinstance(tensor, torch.nn.parameter.UninitializedTensorMixin):
            raise ValueError(f"{name} is an uninitialized (lazy) parameter; run a forward "
                             f"pass to give it a shape before {caller}")
        local = tensor.to_local() if _shards.is_dtensor(tensor) else tensor
        device = local.device
        if device.type == "meta" and not meta_ok:
            raise ValueError(f"{name} is on the meta device, so it has no memory to fill; "
                             f"use fastinit.torch.materialize(module, seed=...) to give the "
                             f"model CPU memory and initialise it")
        if device.type not in ("cpu", "meta"):
            raise ValueError(f"{name} is on {device}; fastinit fills CPU tensors (GPU support "
                             f"is not there yet): initialise the model on the CPU, or build it "
                             f"on the meta device and use fastinit.torch.materialize, then move "
                             f"it with .to({str(device)!r})")
        target = dtype if dtype is not None and tensor.is_floating_point() else tensor.dtype
        if tensor.is_floating_point() and not fillable(target):
            raise TypeError(f"{name} is {target}, which fastinit does not fill; use one of "
                            f"{', '.join(str(d) for d in _FLOATS if fillable(d))}")


# ---- rules -----------------------------------------------------------------------------

class Rules:
    """(pattern, scheme, params) rules, checked and matched against every tensor's
    names (glob patterns, first match wins)."""

    def __init__(self, rules, module, dtype=None):
        self.items = self._parse(rules)
        self.of = {}  # canonical name -> index of the rule that matches it
        names = _aliases(module)
        tensors = dict(named_tensors(module))
        for canonical, all_names in names.items():
            for i, (pattern, _, _) in enumerate(self.items):
                if any(fnmatch.fnmatchcase(n, pattern) for n in all_names):
                    self.of[canonical] = i
                    break
        unused = [self.items[i][0] for i in range(len(self.items)) if i not in self.of.values()]
        if unused:
            warnings.warn(f"rules match no parameter or buffer (or only ones an earlier rule "
                          f"took): {', '.join(map(repr, unused))}", UserWarning, stacklevel=3)
        for name, i in self.of.items():
            self._check(i, name, tensors[name], dtype)

    @staticmethod
    def _parse(rules):
        if rules is None:
            return []
        if isinstance(rules, (str, bytes, Mapping)) or not hasattr(rules, "__iter__"):
            raise TypeError(f"rules must be a sequence of (pattern, scheme, params) tuples; "
                            f"got {type(rules).__name__}")
        items = []
        for i, rule in enumerate(rules):
            if isinstance(rule, (str, bytes)) or not hasattr(rule, "__len__") \
                    or len(rule) not in (2, 3):
                raise TypeError(f"rules[{i}] must be (pattern, scheme) or (pattern, scheme, "
                                f"params); got {rule!r}")
            pattern, scheme, params = (*rule, {}) if len(rule) == 2 else rule
            if not isinstance(pattern, str) or not isinstance(scheme, str):
                raise TypeError(f"rules[{i}]: the pattern and the scheme are str; got {rule!r}")
            if not isinstance(params, Mapping):
                raise TypeError(f"rules[{i}]: params must be a dict of the scheme's parameters; "
                                f"got {params!r}")
            items.append((pattern, scheme, fastinit.schemes.with_layout(scheme, dict(params),
                                                                        "torch")))
        return items

    def _check(self, i, name, tensor, dtype):
        pattern, scheme, params = self.items[i]
        target = dtype if dtype is not None else tensor.dtype
        if not tensor.is_floating_point():
            raise TypeError(f"rules[{i}] ({pattern!r}) matches {name}, a {target} tensor; "
                            f"rules fill floating-point tensors")
        try:  # in the dtype written: what float32 holds, float16 or bfloat16 may not
            fastinit.schemes.plan(scheme, params, target, tuple(tensor.shape))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"rules[{i}] ({pattern!r}, {scheme!r}) for {name}: {exc}") from None

    def covers(self, name):
        return name in self.of

    def fill(self, session):
        for name, i in self.of.items():
            target = session.targets[name]
            _, scheme, params = self.items[i]
            Spot(session, target, target.tensor).fill(scheme, **params)


def _aliases(module):
    """canonical name -> every name of that tensor (a tied weight has several)."""
    canonical = {id(t): n for n, t in named_tensors(module)}
    names = {n: [] for n in canonical.values()}
    for n, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names[canonical[id(t)]].append(n)
    return names


# ---- what initialises what ---------------------------------------------------------------

def _reset_method(module):
    for name in RESET_METHODS:
        if callable(getattr(type(module), name, None)):
            return getattr(module, name)
    return None


def _hf_model_class():
    """transformers' PreTrainedModel if transformers is imported (a model of it can
    exist only then), else None; fastinit never imports transformers itself."""
    return getattr(sys.modules.get("transformers.modeling_utils"), "PreTrainedModel", None)


def _own_tensors(module):
    return [t for t in list(module._parameters.values()) + list(module._buffers.values())
            if t is not None]


def uncovered(module, rules, with_buffers):
    """Names of tensors that no reset method, Hugging Face init or rule would reach:
    the tensor's module and all its ancestors have none."""
    hf = _hf_model_class()
    reached = set()

    def walk(m, covered):
        covered = covered or _reset_method(m) is not None or (hf is not None and isinstance(m, hf))
        if covered:
            reached.update(id(t) for t in _own_tensors(m))
        for child in m.children():
            walk(child, covered)
    walk(module, False)
    missing = []
    for name, tensor in named_tensors(module):
        if (id(tensor) in reached or rules.covers(name) or tensor.numel() == 0
                or (not with_buffers and not isinstance(tensor, torch.nn.Parameter))):
            continue
        missing.append(name)
    return missing


def _run_inits(module, session, rules):
    """Steps 1-3 of the module docstring, under the session's redirect."""
    hf = _hf_model_class()
    ruled = {id(session.targets[n].tensor) for n in rules.of}
    done = set()

    def all_ruled(m):
        own = _own_tensors(m)
        return bool(own) and all(id(t) in ruled for t in own)

    def reset(m):
        method = _reset_method(m)
        if method is not None and not all_ruled(m):
            method()

    def visit(m):
        if id(m) in done:
            return
        done.add(id(m))
        if hf is not None and isinstance(m, hf):
            _run_hf(m, session, all_ruled, reset)
            return
        for child in m.children():
            visit(child)
        reset(m)

    with _redirect.Redirect(session), torch.no_grad(), _untied(module):
        visit(module)
        rules.fill(session)


@contextlib.contextmanager
def _untied(module):
    """Tied weights (one tensor in several modules) are initialised by the module of
    their first name only, as in a model's construction, where a model ties them
    after each module's init (Hugging Face's tie_weights, `head.weight =
    embed.weight`): the other modules see a meta stand-in, which init leaves alone."""
    first, stand_ins = {}, {}  # id(tensor) -> its first slot; later slots -> (store, key, tensor)
    for m in module.modules():
        for store in (m._parameters, m._buffers):
            for key, tensor in store.items():
                slot = (id(store), key)
                if tensor is not None and first.setdefault(id(tensor), slot) != slot:
                    stand_ins[slot] = (store, key, tensor)
    try:
        for store, key, tensor in stand_ins.values():
            meta = torch.empty_like(tensor, device="meta")
            store[key] = (torch.nn.Parameter(meta, tensor.requires_grad)
                          if isinstance(tensor, torch.nn.Parameter) else meta)
        yield
    finally:
        for store, key, tensor in stand_ins.values():
            store[key] = tensor


def _run_hf(model, session, all_ruled, reset):
    """A Hugging Face model: its own initialize_weights(), then the reset methods of
    the modules it left alone. Modules whose tensors rules cover are marked as
    initialised, transformers' own way, so that it skips them."""
    subs = list(model.modules())
    for m in subs:
        m.__dict__.pop("_is_hf_initialized", None)
        if all_ruled(m):
            m._is_hf_initialized = True
    initialise = getattr(model, "initialize_weights", None) or model.init_weights
    initialise()
    names = {id(target.tensor): name for name, target in session.targets.items()}
    for m in subs:
        # transformers zeroes `weight[padding_idx]`, which of a DTensor is a gathered copy.
        if (isinstance(m, _redirect.PADDING_CLASSES) and _shards.is_dtensor(m.weight)
                and names.get(id(m.weight)) in session.written):
            _redirect.zero_padding_row(m)
    for m in reversed(subs):  # children before parents
        own = _own_tensors(m)
        if any(id(t) in names and names[id(t)] not in session.written
               and not getattr(t, "_is_hf_initialized", False) for t in own):
            reset(m)


def _tensor_slots(module):
    """(module, store, key, tensor) of every parameter and buffer slot."""
    for m in module.modules():
        for store in (m._parameters, m._buffers):
            for key, tensor in store.items():
                if tensor is not None:
                    yield m, store, key, tensor


def _check_written(module, session, slots_before, rules, with_buffers, fix):
    """Raises if a tensor that needed values got none from the init that ran."""
    replaced = {id(t) for m, store, key, t in slots_before if store.get(key) is not t}
    missing = [name for name, target in session.targets.items()
               if name not in session.written and not rules.covers(name)
               and id(target.tensor) not in replaced and target.local.numel() > 0
               and not getattr(target.tensor, "_is_hf_initialized", False)
               and (with_buffers or isinstance(target.tensor, torch.nn.Parameter))]
    if missing:
        raise ValueError(f"the model's init code ran but did not initialise "
                         f"{', '.join(missing)}; {fix}")


def record(module, seed, threads=None, rules=None, dtype=None):
    """{name: ("spec", scheme, params) | ("constant", value) | ("values", CPU tensor)}
    for every parameter and buffer of a meta-device model: what materialize would
    write, recorded from the model's own init (see _record), without its memory."""
    check_module(module, "save_initialized")
    check_tensors(module, "save_initialized", dtype=dtype, meta_ok=True)
    if any(_shards.is_dtensor(t) for _, t in named_tensors(module)):
        raise ValueError("a model with DTensor parameters is sharded; record its "
                         "single-process form, built without fully_shard")
    rules = Rules(rules, module, dtype)
    missing = uncovered(module, rules, with_buffers=True)
    if missing:
        raise ValueError(f"no reset_parameters(), Hugging Face init or rule would give "
                         f"values to {', '.join(missing)}; add a rule for each")
    recorder = _record.Recorder()
    session = Session(module, seed, threads, recorder)
    slots = list(_tensor_slots(module))
    with _record.Guard(session):
        _run_inits(module, session, rules)
    _check_written(module, session, slots, rules, with_buffers=True,
                   fix="add rules for them")
    return {name: recorder.result(target, dtype or target.local.dtype, seed, threads)
            for name, target in session.targets.items()}


# ---- memory ---------------------------------------------------------------------------------

def fresh_memory(nbytes):
    """nbytes of memory that nothing has touched yet, as a uint8 tensor.

    One anonymous private mapping: the kernel gives it pages on first touch, which
    fastinit's fill then does with all its threads at once. With FASTINIT_HUGE_PAGES=1
    it is asked for transparent huge pages (one fault per 2 MiB instead of per 4 KiB),
    as torch's THP_MEM_ALLOC_ENABLE=1 does for its allocator: faster where the
    kernel's free memory is already backed (bare metal, a warm VM), 3x slower on the
    project's freshly started VMs, whose huge pages come from memory the host has
    not backed yet (README, PyTorch). The tensors made from it keep the mapping alive.
    """
    if nbytes == 0:
        return torch.empty(0, dtype=torch.uint8)
    try:
        memory = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except (AttributeError, OSError, ValueError):  # no mmap flags (Windows), or refused
        return torch.empty(nbytes, dtype=torch.uint8)
    if os.environ.get("FASTINIT_HUGE_PAGES") == "1" and hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            memory.madvise(mmap.MADV_HUGEPAGE)
        except OSError:
            pass
    return torch.frombuffer(memory, dtype=torch.uint8)


def allocate(module, dtype):
    """Gives every meta tensor of `module` CPU memory, all from one allocation, untouched
    (to_empty's job, keeping tied weights tied and parameter attributes)."""
    slots = list(_tensor_slots(module))
    plan, offset = {}, 0
    for _, _, _, tensor in slots:
        if tensor.is_meta and id(tensor) not in plan:
            target = dtype if dtype is not None and tensor.is_floating_point() else tensor.dtype
            nbytes = tensor.numel() * target.itemsize
            plan[id(tensor)] = (offset, nbytes, target)
            offset += -(-nbytes // ALIGN) * ALIGN
    memory = fresh_memory(offset)
    new = {}
    for _, store, key, tensor in slots:
        if id(tensor) not in new:
            new[id(tensor)] = _placed(tensor, memory, plan.get(id(tensor)), dtype)
        store[key] = new[id(tensor)]


def _placed(tensor, memory, place, dtype):
    if place is None:  # already has memory: kept, converted if dtype says so
        if dtype is not None and tensor.is_floating_point() and tensor.dtype != dtype:
            converted = tensor.detach().to(dtype)
            return (torch.nn.Parameter(converted, tensor.requires_grad)
                    if isinstance(tensor, torch.nn.Parameter) else converted)
        return tensor
    offset, nbytes, target = place
    data = memory[offset:offset + nbytes].view(target).view(tuple(tensor.shape))
    if not isinstance(tensor, torch.nn.Parameter):
        return data
    param = torch.nn.Parameter(data, requires_grad=tensor.requires_grad)
    param.__dict__.update(tensor.__dict__)  # attributes other code set on it (sharding hints...)
    return param


# ---- the public functions (documented in fastinit.torch) ------------------------------------

def _progress_session(session, progress, total, label):
    report = _progress.reporter(progress, total, label)
    done = [0]

    def on_write(target):
        done[0] = min(total, done[0] + target.nbytes)
        report.update(done[0])
    session.on_write = on_write
    return report


def init_module(module, *, seed, rules=None, threads=None, progress=False, unmatched="error"):
    check_module(module, "init_module")
    check_seed_and_threads(seed, threads)
    if unmatched not in ("error", "keep"):
        raise ValueError(f"unmatched must be 'error' (a parameter that nothing initialises "
                         f"is an error) or 'keep' (it keeps its values); got {unmatched!r}")
    check_tensors(module, "init_module")
    rules = Rules(rules, module)
    if unmatched == "error":
        missing = uncovered(module, rules, with_buffers=False)
        if missing:
            raise ValueError(f"no reset_parameters(), Hugging Face init or rule initialises "
                             f"{', '.join(missing)}; add a rule for them, e.g. rules=[("
                             f"{missing[0]!r}, 'normal', {{'std': 0.02}})], or pass "
                             f"unmatched='keep' to leave their values as they are")
    _initialise(module, seed, threads, rules, progress, "init_module",
                check="parameters" if unmatched == "error" else None)
    return module


def materialize(module, *, seed, device="cpu", dtype=None, rules=None, threads=None,
                progress=False):
    check_module(module, "materialize")
    check_seed_and_threads(seed, threads)
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be a torch device; got {device!r}") from None
    if device.type != "cpu":
        raise ValueError(f"materialize gives the model CPU memory; device={str(device)!r} is "
                         f"not supported yet (GPU support is a later step): materialize on the "
                         f"CPU, then move the model with .to({str(device)!r})")
    if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point
                              or not fillable(dtype)):
        raise TypeError(f"dtype must be None or a floating-point torch dtype that fastinit "
                        f"fills ({', '.join(str(d) for d in _FLOATS if fillable(d))}); "
                        f"got {dtype!r}")
    check_tensors(module, "materialize", dtype=dtype, meta_ok=True)
    rules = Rules(rules, module, dtype)
    missing = uncovered(module, rules, with_buffers=True)
    if missing:
        raise ValueError(f"no reset_parameters(), Hugging Face init or rule would give "
                         f"values to {', '.join(missing)}; add a rule for each (e.g. rules=[("
                         f"{missing[0]!r}, 'zeros')]), or give its module a reset_parameters() "
                         f"that computes it")
    if any(_shards.is_dtensor(t) for _, t in named_tensors(module)):
        # FSDP2 and DTensor keep their own bookkeeping of local shards, which their
        # _apply hooks redo: their own to_empty gives the memory.
        if dtype is not None:
            module.to(dtype=dtype)
        module.to_empty(device="cpu")
    else:
        allocate(module, dtype)
    _initialise(module, seed, threads, rules, progress, "materialize", check="all")
    return module


def _initialise(module, seed, threads, rules, progress, label, check):
    """Runs the module's init under redirect, then checks that what needed values got
    them: check "parameters" (init_module), "all" (materialize: buffers too), or None."""
    slots = list(_tensor_slots(module))
    session = Session(module, seed, threads)
    report = _progress_session(session, progress,
                               sum(t.nbytes for t in session.targets.values()), label)
    try:
        _run_inits(module, session, rules)
    finally:
        report.close()
    if check == "parameters":
        _check_written(module, session, slots, rules, with_buffers=False,
                       fix="add rules for them, or pass unmatched='keep'")
    elif check == "all":
        _check_written(module, session, slots, rules, with_buffers=True,
                       fix="their memory holds no values: add rules for them")
