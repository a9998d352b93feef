"""fastinit for PyTorch: a model's own initialisation, drawn from fastinit.

Three calls, from the smallest to the largest change to a program:

- ``redirect(module, seed=...)``: inside it, whatever init code runs
  (``reset_parameters()``, a model's ``init_weights()``, Hugging Face's
  ``_init_weights``) draws the module's tensors from fastinit;
- ``init_module(module, seed=...)``: runs the module's own init code under
  redirect, with optional rules that override it, and checks that every
  parameter got values;
- ``materialize(module, seed=...)``: gives a model built on the meta device its
  memory (one allocation, touched first by the fill's threads) and initialises it
  as init_module would;
- ``save_initialized(module, path, seed=...)``: writes the values materialize would
  give a meta-device model as safetensors, without giving it memory.

Each tensor draws the stream named by its qualified name ("layers.3.attn.q_proj.weight"),
so its values depend on the seed and that name only: not on the order in which
modules are built or initialised, on the number of threads, or on how the tensor
is sharded: a DTensor (FSDP2, tensor parallel) rank fills its own shard with the
values the whole tensor has there, so the gathered tensor equals the one a single
process gets, bit for bit, with no communication.

torch is imported by this module only; ``import fastinit`` does not import it.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence, Union

import torch

import os
import pathlib

from .. import auditing
from . import _module, _redirect, _save
from ._redirect import Session

__all__ = ["audit", "init_module", "materialize", "redirect", "save_initialized"]

Rule = Sequence[Any]  # (pattern, scheme) or (pattern, scheme, params)
Progress = Union[bool, Callable[[int, int], None]]


def redirect(module: torch.nn.Module, *, seed: int,
             threads: int | None = None) -> _redirect.Redirect:
    """A context manager inside which torch's random init of `module` draws from fastinit.

    Parameters
    ----------
    module : torch.nn.Module
        Its parameters and buffers (CPU tensors, or DTensors with CPU shards) are the
        tensors redirected; any other tensor is initialised by torch, unchanged.
    seed : int in [0, 2**64)
        Each tensor reads the stream of its qualified name under this seed.
    threads : int, optional
        Threads per fill (default: all this process may use); values never depend on it.

    Notes
    -----
    Redirected: the functions of ``torch.nn.init`` (``uniform_``, ``normal_``,
    ``trunc_normal_``, ``xavier_*``, ``kaiming_*``, ``orthogonal_``, ``sparse_``, and,
    for DTensors, ``eye_`` and ``dirac_``), wherever a module holds them (also
    ``from torch.nn.init import normal_`` and transformers' copies), and the tensor
    methods ``uniform_`` and ``normal_`` (``module.weight.data.normal_()``). Each
    computes its distribution as torch does (fans from the tensor's shape, the
    global one for a DTensor; torch's gains; in Python floats) and draws it with
    fastinit: ``kaiming_uniform_(w, a=math.sqrt(5))`` is
    ``fastinit.fill(w, "uniform", low=-bound, high=bound, seed=seed, stream=name)``
    with torch's bound. A slice of a tensor draws that box of the tensor's stream.
    ``generator=`` is not used for the module's tensors: the seed replaces it.

    Not redirected, because they are not random: ``zeros_``, ``ones_``,
    ``constant_``, ``eye_``, ``dirac_`` of plain tensors, ``Tensor.zero_``,
    ``fill_``, ``copy_`` (torch writes them; the redirect notes which tensors they
    wrote). Other random tensor methods (``random_``, ``bernoulli_``,
    ``exponential_``, ...) are not used by init code and stay torch's. A module's
    tensor that gets values of torch's generator all the same (one of those methods,
    or a ``copy_`` of values made from ``torch.rand``, as Mamba2's ``dt_bias``, or
    transformers' ``orthogonal_`` of a bfloat16 tensor, drawn into a float32 copy) is
    named in a UserWarning on exit: its values depend on ``torch.manual_seed``, not on
    ``seed``; a rule or a fastinit.fill of it draws it from fastinit.

    ``trunc_normal_(mean, std, a, b)`` takes absolute bounds. Symmetric about the
    mean (the usual case) it is fastinit's truncated normal at
    ``(b - mean) / std`` standard deviations, exactly. Asymmetric bounds (the mean
    must lie in ``[a, b]``) use the inverse CDF of a fastinit uniform draw, through
    torch's float64 ``erfinv``: exact in distribution and the same on every shard
    and thread count, but its last bits follow torch's ``erfinv``, not docs/stream.md.

    Redirects cannot be nested or run in two threads at once (a RuntimeError says
    so). Torch's functions are put back on exit, also after an exception. ``with
    redirect(module, seed=0) as m`` gives the module.

    Examples
    --------
    >>> import fastinit.torch
    >>> model = torch.nn.Linear(1024, 1024)
    >>> with fastinit.torch.redirect(model, seed=0):
    ...     model.reset_parameters()   # torch's kaiming_uniform_, drawn by fastinit
    >>> bound = 1 / 1024 ** 0.5
    >>> w = fastinit.sample((1024, 1024), "uniform", low=-bound, high=bound, seed=0,
    ...                     stream="weight")
    >>> bool((model.weight.detach().numpy() == w).all())
    True
    """
    _module.check_module(module, "redirect")
    _module.check_seed_and_threads(seed, threads)
    _module.check_tensors(module, "redirect", meta_ok=True)
    return _redirect.Redirect(Session(module, seed, threads), module)


def init_module(module: torch.nn.Module, *, seed: int, rules: Sequence[Rule] | None = None,
                threads: int | None = None, progress: Progress = False,
                unmatched: str = "error") -> torch.nn.Module:
    """Initialises every parameter and buffer of `module` as its own code would, drawn
    from fastinit, and returns the module.

    Parameters
    ----------
    module : torch.nn.Module
        On the CPU (parameters may be DTensors with CPU shards).
    seed : int in [0, 2**64)
    rules : sequence of (pattern, scheme, params), optional
        Glob patterns over qualified names ("*.bias", "layers.*.mlp.*.weight");
        the first rule that matches a tensor fills it with
        ``fastinit.fill(tensor, scheme, **params)`` (``layout="torch"`` implied)
        instead of the module's own init. A rule that matches nothing is warned about.
    threads : int, optional
    progress : bool or callable, optional
        True: a line on stderr; a callable receives (bytes_done, bytes_total).
    unmatched : "error" or "keep"
        A parameter that no reset method, Hugging Face init or rule initialises is
        an error naming it (before anything is written when the module has no
        init code for it at all, after the init ran when its init code did not
        write it). "keep" leaves such parameters as they are.

    Notes
    -----
    The init that runs, in the order of a model's construction: each submodule's
    ``reset_parameters()`` (or ``_reset_parameters()``), children first (which
    covers BatchNorm's running statistics and Embedding's ``padding_idx`` row); for
    a Hugging Face ``PreTrainedModel``, its ``initialize_weights()`` instead, then
    the reset methods of the modules it leaves alone; then the rules. Everything
    runs under ``redirect(module, seed=seed)``, so a tensor's values depend on the
    seed, its name and the init code only. Arguments, devices, dtypes and rules are
    all checked before the first value is written.
    """
    return _module.init_module(module, seed=seed, rules=rules, threads=threads,
                               progress=progress, unmatched=unmatched)


def materialize(module: torch.nn.Module, *, seed: int, device: str | torch.device = "cpu",
                dtype: torch.dtype | None = None, rules: Sequence[Rule] | None = None,
                threads: int | None = None, progress: Progress = False) -> torch.nn.Module:
    """Gives a model built on the meta device CPU memory, initialised as `init_module`
    would, and returns it.

    Parameters
    ----------
    module : torch.nn.Module
        Built under ``torch.device("meta")`` (tensors already on the CPU are kept
        and initialised too); DTensor parameters (FSDP2 ``fully_shard``,
        ``distribute_tensor``) get memory for their local shard only.
    seed : int in [0, 2**64)
    device : "cpu"
        The only one so far.
    dtype : torch.dtype, optional
        Floating-point tensors get this dtype (as ``module.to(dtype)``).
    rules, threads, progress
        As in init_module.

    Notes
    -----
    Memory: one anonymous mapping for the whole model (freed when all its tensors
    are), and nothing touches it before fastinit's fill, whose threads take the page
    faults in parallel; FASTINIT_HUGE_PAGES=1 asks for transparent huge pages (see
    the README for when they help). Tied weights stay tied, and attributes set on
    parameters are kept. (A DTensor model gets its memory from torch's ``to_empty``, which FSDP2
    hooks.) Buffers that ``__init__`` computed (rotary tables) have no values on
    meta: they need init code that computes them again, as Hugging Face's
    ``_init_weights`` (transformers 5) and a ``reset_parameters()`` that recomputes
    them do. Every parameter and buffer must get values: one that no init code
    reaches is an error before anything is allocated.

    Examples
    --------
    >>> import fastinit.torch
    >>> with torch.device("meta"):     # or transformers.LlamaForCausalLM(config)
    ...     model = torch.nn.Sequential(torch.nn.Embedding(100, 16), torch.nn.Linear(16, 100))
    >>> model = fastinit.torch.materialize(model, seed=0, dtype=torch.bfloat16)
    >>> model[1].weight.dtype, model[1].weight.device
    (torch.bfloat16, device(type='cpu'))
    """
    return _module.materialize(module, seed=seed, device=device, dtype=dtype, rules=rules,
                               threads=threads, progress=progress)


def save_initialized(module: torch.nn.Module, path: str | os.PathLike, *, seed: int,
                     dtype: torch.dtype | None = None, rules: Sequence[Rule] | None = None,
                     max_shard_size: int | str | None = None,
                     progress: Progress | None = None, threads: int | None = None,
                     overwrite: bool = False) -> list[pathlib.Path]:
    """Writes the values that `materialize` would give a meta-device model, as safetensors,
    without giving the model memory; returns the files written.

    Parameters
    ----------
    module : torch.nn.Module
        Built on the meta device (no DTensors: the checkpoint is the whole model).
    path : str or path
        As fastinit.save_safetensors: a file, or a folder (with max_shard_size, Hugging
        Face's shards and index). A Hugging Face model written to a folder also gets its
        config.json there, so that ``from_pretrained(folder)`` loads it.
    seed : int in [0, 2**64)
    dtype : torch.dtype, optional
        Floating-point tensors are written in this dtype (as materialize(dtype=...));
        integer and bool tensors keep theirs.
    rules, threads
        As in init_module.
    max_shard_size, progress, overwrite
        As in fastinit.save_safetensors.

    Notes
    -----
    The model's own init (init_module's: reset methods, Hugging Face's
    ``initialize_weights``, then rules) runs under a redirect that records each call
    instead of running it. A tensor drawn or set whole is written from its
    fastinit.TensorSpec, region by region, in bounded memory; a tensor whose values
    are computed (a rotary table, an Embedding whose padding row is zeroed after the
    draw) is made in memory alone. Integer and bool tensors are written exactly, in
    their dtype: one set to a constant (BatchNorm's ``num_batches_tracked``, zeroed) from
    its TensorSpec, one computed (``arange``, ``copy_``) from memory. The tensors are
    those of ``state_dict()``, a tied weight once (as save_pretrained writes it). Init
    code that changes a tensor in a way the recording cannot see (``w.mul_(2)`` after
    ``normal_(w)``), and a random draw into an integer or bool tensor (fastinit's draws
    are floating-point), are refused, naming the tensor. Nothing is written then.

    Examples
    --------
    >>> import fastinit.torch, tempfile
    >>> with torch.device("meta"):     # or transformers.LlamaForCausalLM(config)
    ...     model = torch.nn.Sequential(torch.nn.Embedding(100, 16), torch.nn.Linear(16, 100))
    >>> folder = tempfile.mkdtemp()
    >>> paths = fastinit.torch.save_initialized(model, folder, seed=0, dtype=torch.bfloat16,
    ...                                         max_shard_size="5kB", progress=False)
    >>> sorted(p.name for p in paths)  # doctest: +NORMALIZE_WHITESPACE
    ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
     'model.safetensors.index.json']
    """
    return _save.save_initialized(module, path, seed=seed, dtype=dtype, rules=rules,
                                  max_shard_size=max_shard_size, progress=progress,
                                  threads=threads, overwrite=overwrite)


def audit(module: torch.nn.Module, *, activation: str | None = None) -> auditing.AuditReport:
    """How each parameter of `module` was initialised, and the traps: fastinit.audit of
    ``module.named_parameters()`` in the torch layout ((out, in, *kernel)).

    activation : str, optional
        The model's nonlinearity (relu, gelu, tanh, ...): flags schemes that do not
        suit it, as fastinit.audit says.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 128), torch.nn.Linear(128, 10))
    >>> report = fastinit.torch.audit(model)
    >>> report["0.weight"].matches  # PyTorch's default: U(+-1/sqrt(fan_in))
    ('fan_in_uniform',)
    """
    return auditing.audit(module.named_parameters(), layout="torch", activation=activation)
