"""fastinit: neural-network weight initialisation at memory speed, the same
bits on any number of threads, SIMD path or shards (stream: docs/stream.md)."""
import importlib as _importlib
import os as _os
from typing import TYPE_CHECKING as _TYPE_CHECKING
import warnings as _warnings

try:
    from . import _engine
except ImportError as error:  # most often: Python found the source checkout, not the install
    raise ImportError(
        f"fastinit's compiled core (fastinit._engine) is missing from {__path__[0]}. If that "
        f"is a source checkout, run Python from another directory so the installed package is "
        f"imported, or build in place with `python setup.py build_ext --inplace`.") from error
from ._version import __version__


def _choose_simd():
    wanted = _os.environ.get("FASTINIT_SIMD", "").strip().lower()
    if not wanted:
        return
    if wanted not in _engine.simd_all():
        raise ImportError(f"FASTINIT_SIMD={wanted!r} is not a SIMD path; "
                          f"choose one of {', '.join(_engine.simd_all())} or unset it")
    if wanted not in _engine.simd_available():
        _warnings.warn(f"FASTINIT_SIMD={wanted!r}: this CPU cannot run that path; "
                       f"using {_engine.simd_current()!r}", RuntimeWarning, stacklevel=3)
        return
    _engine.simd_select(wanted)


_choose_simd()

from . import schemes  # noqa: E402
from .api import fill, get_config, random_raw, sample  # noqa: E402
from .checkpoint import TensorSpec, save_safetensors  # noqa: E402
from .fans import compute_fans  # noqa: E402
from .gain import calculate_gain  # noqa: E402
from .generator import Generator, default_generator, seed  # noqa: E402

# The diagnostics are imported on first use (PEP 562), so that `import fastinit` does not
# pay for them. Type checkers see the imports below instead; the hook is set through
# globals() because one they could see would make every misspelt name an attribute.
_LAZY = {"audit": "auditing", "propagate": "propagation"}
if _TYPE_CHECKING:
    from .auditing import audit
    from .propagation import propagate


def _lazy_attribute(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fastinit' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


globals()["__getattr__"] = _lazy_attribute

__all__ = ["Generator", "TensorSpec", "audit", "calculate_gain", "compute_fans",
           "default_generator", "fill", "get_config", "propagate", "random_raw", "sample",
           "save_safetensors", "schemes", "seed", "__version__"]
