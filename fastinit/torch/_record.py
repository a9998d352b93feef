"""A model's init, recorded instead of run: what materialize would write, without memory.

On a meta-device model, a recording redirect notes every init call on the model's
tensors. A tensor whose last whole write is one draw or one constant is then a
`("spec", scheme, params)` that fastinit can write anywhere (a checkpoint, by
region, in bounded memory); any other tensor (a computed buffer such as a rotary
table, an Embedding with its padding row zeroed after the draw) is materialised
alone, by running its recorded calls again on CPU memory.

An in-place operation on a model's tensor that the recording does not see (say
`w.mul_(2)` after `normal_(w)`) would be lost, so a guard refuses it.
"""
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ._redirect import TORCH_INIT, TORCH_METHOD, storage_id

# The recorded calls that write one constant everywhere: function -> its value.
_CONSTANTS = {TORCH_INIT["zeros_"]: lambda args: 0.0, TORCH_METHOD["zero_"]: lambda args: 0.0,
              TORCH_INIT["ones_"]: lambda args: 1.0, TORCH_INIT["constant_"]: lambda args: args[0],
              TORCH_METHOD["fill_"]: lambda args: args[0]}


class Recorder:
    """The init calls on each tensor of a module, in order, since its last whole write."""

    def __init__(self):
        self.calls = {}  # name of the module's tensor -> [(spot, method, args)]

    def add(self, spot, method, *args):
        if method == "call":  # torch's own function: keep the values its tensors have now
            function, call_args, call_kwargs = args
            args = (function, tuple(_kept(a) for a in call_args),
                    {k: _kept(v) for k, v in call_kwargs.items()})
        calls = self.calls.setdefault(spot.base.name, [])
        if method in ("fill", "call") and spot.whole and spot.target is spot.base:
            calls.clear()  # all of it written anew: what came before does not matter
        calls.append((spot, method, args))
        spot.session.wrote(spot)
        return spot.tensor

    def result(self, target, dtype, seed, threads):
        """("spec", scheme, params), ("constant", value) or ("values", a CPU tensor)
        for the values `target` gets; None if nothing wrote it."""
        calls = self.calls.get(target.name)
        if not calls:
            return None
        spot, method, args = calls[0]
        if len(calls) == 1 and spot.whole and spot.target is spot.base:
            if method == "fill":
                return ("spec", args[0], dict(args[1]))
            if method == "call" and args[0] in _CONSTANTS and not args[2]:
                return ("constant", _CONSTANTS[args[0]](args[1]))
        return ("values", self.replay(target, dtype, seed, threads))

    def replay(self, target, dtype, seed, threads):
        """The recorded calls run again on CPU memory of the target's layout."""
        meta = target.local
        real = torch.empty_strided(tuple(meta.shape), tuple(meta.stride()),
                                   dtype=dtype if meta.is_floating_point() else meta.dtype)
        session = _Replay(seed, threads)
        with torch.no_grad():
            for spot, method, args in self.calls[target.name]:
                again = spot.rebased(session, real)
                if method == "call":
                    function, call_args, call_kwargs = args
                    function(again.tensor, *call_args, **call_kwargs)
                elif method == "fill":
                    again.fill(args[0], **args[1])
                else:
                    getattr(again, method)(*args)
        return real


def _kept(value):
    if not isinstance(value, torch.Tensor):
        return value
    if value.is_meta:
        raise ValueError("the model's init copies a tensor of the meta device, whose values "
                         "are not known until it is materialised; use "
                         "fastinit.torch.materialize for this model")
    return value.detach().clone()


class _Replay:
    """The session a recorded call runs again in: the same seed, nothing recorded."""
    recorder = None

    def __init__(self, seed, threads):
        self.seed, self.threads = seed, threads

    def wrote(self, spot):
        pass

    def drawn_by_fastinit(self, spot):
        pass


class Guard(TorchDispatchMode):
    """Refuses an in-place operation on a model's tensor that reaches torch: under a
    recording, the init calls that write them are noted, not run, so this one's
    effect would be lost."""

    def __init__(self, session):
        super().__init__()
        self.names = {sid: targets[0].name for sid, targets in session.by_storage.items()}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        schema = func._schema
        if schema.is_mutable:
            for i, argument in enumerate(schema.arguments):
                value = args[i] if i < len(args) else kwargs.get(argument.name)
                if (argument.alias_info is not None and argument.alias_info.is_write
                        and isinstance(value, torch.Tensor)
                        and storage_id(value) in self.names):
                    raise ValueError(
                        f"the model's init code writes {self.names[storage_id(value)]} with "
                        f"{func}, which fastinit cannot record (it records the torch.nn.init "
                        f"functions and a tensor's uniform_, normal_, zero_, fill_ and copy_); "
                        f"use fastinit.torch.materialize for this model")
        return func(*args, **kwargs)

