"""The dtypes fastinit writes: one row each, the table the Python layer reads.

The C core's table (src/fastinit.h, through _engine.DTYPES) says how each is
computed: its code, its size and the float stream it draws. This one adds
what Python needs to know of it: its NumPy dtype, the dtype its parameters are
rounded to, and the names other libraries give it. A new dtype is one row
there and one here.

bfloat16 has no NumPy dtype of NumPy's own: ml_dtypes provides one, imported
only when a bfloat16 array is to be made. Filling raw 16-bit buffers as
bfloat16 needs no ml_dtypes (_fill.fill_as).
"""
from __future__ import annotations

import importlib
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _engine


@dataclass(frozen=True)
class DType:
    """One dtype fastinit writes."""
    name: str           # canonical name: "float32", "float64", "bfloat16", "float16"
    code: int           # the C core's fi_dtype
    itemsize: int       # bytes per element
    draws: str          # the float dtype whose stream it draws and whose values it rounds
    safetensors: str    # its name in safetensors headers: "F32", "F64", "BF16", "F16"
    torch: str          # its attribute in torch: torch.bfloat16 is getattr(torch, "bfloat16")
    numpy_module: str   # where its NumPy scalar type lives: numpy, or ml_dtypes for bfloat16
    digits: int         # significand bits, the leading one included (np.finfo's nmant + 1)
    max_exp: int        # 2**max_exp is the least power of two past its largest value (finfo's)
    # Derived from the above once (every fill reads them):
    narrow: bool = field(init=False)    # its values are those of the dtype it draws, rounded
    bits: np.dtype = field(init=False)  # an unsigned integer NumPy dtype of its size
    max: float = field(init=False)      # its largest finite value
    tiny: float = field(init=False)     # its least positive value (a subnormal)
    # The least |x| that rounds to infinity in it (to nearest, ties to even: halfway
    # past max), an exact int: a value of the dtype drawn overflows iff |value| >= it.
    overflow: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "narrow", self.name != self.draws)
        object.__setattr__(self, "bits", np.dtype(f"u{self.itemsize}"))
        object.__setattr__(self, "max", math.ldexp(1 - 2.0**-self.digits, self.max_exp))
        # IEEE-754 formats: the least normal exponent is 2 - max_exp (1 - emax)
        object.__setattr__(self, "tiny", math.ldexp(1.0, 3 - self.max_exp - self.digits))
        object.__setattr__(self, "overflow", ((1 << (self.digits + 1)) - 1)
                           << (self.max_exp - self.digits - 1))

    @property
    def params(self) -> str:
        """The dtype its parameters are rounded to (docs/stream.md): the one it draws."""
        return self.draws

    def numpy(self) -> np.dtype:
        """Its NumPy dtype; bfloat16's comes from ml_dtypes, imported now.

        Raises ImportError, saying what to install, where that is missing.
        """
        try:
            module = importlib.import_module(self.numpy_module)
        except ImportError:
            raise ImportError(f"{self.name} arrays need the {self.numpy_module} package, which "
                              f"gives NumPy a {self.name} dtype: pip install {self.numpy_module}"
                              ) from None
        return np.dtype(getattr(module, self.name))

    def __str__(self) -> str:
        return self.name


# name: (safetensors name, torch attribute, module of its NumPy type, digits, max_exp);
# the rest is C's.
_ROWS = {
    "float32": ("F32", "float32", "numpy", 24, 128),
    "float64": ("F64", "float64", "numpy", 53, 1024),
    "bfloat16": ("BF16", "bfloat16", "ml_dtypes", 8, 128),
    "float16": ("F16", "float16", "numpy", 11, 16),
}
if set(_ROWS) != set(_engine.DTYPES):
    raise ImportError(f"fastinit/_dtypes.py knows {sorted(_ROWS)}, the C core "
                      f"{sorted(_engine.DTYPES)}: give every dtype a row in both")

BY_NAME: dict[str, DType] = {}
for _name, (_code, _size, _draws) in _engine.DTYPES.items():
    BY_NAME[_name] = DType(_name, _code, _size, _draws, *_ROWS[_name])
NAMES = tuple(BY_NAME)  # in the C core's order
FLOAT32, FLOAT64, BFLOAT16, FLOAT16 = (BY_NAME[n] for n in
                                       ("float32", "float64", "bfloat16", "float16"))

# NumPy dtypes in native byte order -> row, for the common case: a dict lookup.
# NumPy's own from the start; others (ml_dtypes.bfloat16) once seen.
NATIVE = {np.dtype(row.name): row for row in BY_NAME.values() if row.numpy_module == "numpy"}


def supported() -> str:
    """The dtypes fastinit writes, for messages: "float32, float64, bfloat16 or float16"."""
    return ", ".join(NAMES[:-1]) + " or " + NAMES[-1]


def _unsupported(what: str, got: Any) -> TypeError:
    return TypeError(f"fastinit writes {supported()}; {what} is {got}. Use one of those (a "
                     f"name, NumPy dtype, ml_dtypes.bfloat16 or torch dtype), then cast a copy "
                     f"if you need another type.")


def _is_torch_dtype(obj: Any) -> bool:
    return type(obj).__module__ == "torch" and type(obj).__name__ == "dtype"


def lookup(dtype_like: Any, what: str = "dtype") -> DType:
    """The row of a dtype given as a name ("bfloat16"), a NumPy dtype or scalar
    type (np.float16, ml_dtypes.bfloat16), a torch dtype (torch.bfloat16,
    recognised without importing torch) or a row.

    Raises TypeError, naming `what` and listing the supported dtypes, for
    anything else (integers, float8 kinds, complex, object, ...) or for a NumPy
    dtype in non-native byte order.
    """
    if isinstance(dtype_like, DType):
        return dtype_like
    if isinstance(dtype_like, str) and dtype_like in BY_NAME:
        return BY_NAME[dtype_like]
    if _is_torch_dtype(dtype_like):  # str(torch.bfloat16) == "torch.bfloat16"
        name = str(dtype_like).partition(".")[2]
        for row in BY_NAME.values():
            if row.torch == name:
                return row
        raise _unsupported(what, str(dtype_like))
    if dtype_like is None:
        raise _unsupported(what, "None")
    try:
        dt = np.dtype(dtype_like)
    except (TypeError, ValueError):
        raise _unsupported(what, repr(dtype_like)) from None
    return of_numpy(dt, what)


def of_numpy(dt: np.dtype, what: str = "dtype") -> DType:
    """The row of a NumPy dtype (see lookup)."""
    row = NATIVE.get(dt)
    if row is not None:
        return row
    row = BY_NAME.get(dt.name)
    if row is not None and not dt.isnative:
        raise TypeError(f"{what} must be in native byte order; got {dt.str}. Fill a native "
                        f"array, then convert a copy with .astype(arr.dtype.newbyteorder('>')).")
    # A bfloat16 dtype comes from ml_dtypes, which is imported if one exists.
    module = sys.modules.get(row.numpy_module) if row is not None else None
    if module is not None and dt == np.dtype(getattr(module, row.name)):
        NATIVE[dt] = row
        return row
    raise _unsupported(what, dt.name if dt.names is None else str(dt))
