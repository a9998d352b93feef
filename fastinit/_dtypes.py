"""The dtypes fastinit writes: one row each, the table the Python layer reads.

The C core's table (src/fastinit.h, through _engine.DTYPES) says how each is
computed: its code, its size and the float stream it draws. This one adds
what Python needs to know of it: its NumPy dtype, the dtype its parameters are
rounded to, and the names other libraries give it. A new dtype is one row
there and one here.

bfloat16 has no NumPy dtype of NumPy's own: ml_dtypes provides one, imported
only when a bfloat16 array is to be made. Filling raw 16-bit buffers as
bfloat16 needs no ml_dtypes (_fill.fill_as).

A checkpoint also holds integer and bool tensors (a step counter, position ids),
which fastinit never draws: rows of HELD, found by stored(), never by lookup(),
so that fastinit.fill keeps refusing them.
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


# Every dtype a checkpoint holds, by name (NumPy's and torch's attribute name), with its
# name in safetensors headers. fastinit draws the floating ones (BY_NAME below); the
# others (HELD) hold values given as arrays, or one constant, never draws.
SAFETENSORS = {"float32": "F32", "float64": "F64", "bfloat16": "BF16", "float16": "F16",
               "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
               "uint64": "U64", "uint32": "U32", "uint16": "U16", "uint8": "U8",
               "bool": "BOOL"}

# name: (torch attribute, module of its NumPy type, digits, max_exp); the rest is C's.
_ROWS = {
    "float32": ("float32", "numpy", 24, 128),
    "float64": ("float64", "numpy", 53, 1024),
    "bfloat16": ("bfloat16", "ml_dtypes", 8, 128),
    "float16": ("float16", "numpy", 11, 16),
}
if set(_ROWS) != set(_engine.DTYPES):
    raise ImportError(f"fastinit/_dtypes.py knows {sorted(_ROWS)}, the C core "
                      f"{sorted(_engine.DTYPES)}: give every dtype a row in both")

BY_NAME: dict[str, DType] = {}
for _name, (_code, _size, _draws) in _engine.DTYPES.items():
    BY_NAME[_name] = DType(_name, _code, _size, _draws, SAFETENSORS[_name], *_ROWS[_name])
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


# ---- dtypes a checkpoint holds but fastinit does not draw -------------------------------

@dataclass(frozen=True)
class Held:
    """An integer or bool dtype of a checkpoint: its tensors hold values given as
    arrays (a buffer a model's init computes) or one constant. fastinit.fill
    refuses it: lookup() does not know it, stored() does."""
    name: str          # NumPy's and torch's name: "int64", "uint8", "bool", ...
    safetensors: str   # its name in safetensors headers: "I64", "U8", "BOOL", ...

    @property
    def itemsize(self) -> int:
        return self.numpy().itemsize

    def numpy(self) -> np.dtype:
        """Its NumPy dtype, in native byte order."""
        return np.dtype(self.name)

    def exact(self, value: Any, what: str = "value") -> int | bool:
        """`value` as an int (a bool for bool), refused unless this dtype holds it exactly:
        no fraction to drop, no wrap-around."""
        whole = isinstance(value, (bool, int, np.integer, np.bool_)) or (
            isinstance(value, (float, np.floating)) and math.isfinite(value)
            and value == int(value))
        if not whole:
            raise ValueError(f"{what} must be an exact {self.name} value (a whole number"
                             f"{', 0 or 1' if self.name == 'bool' else ''}); got {value!r}")
        number = int(value)
        if self.name == "bool":
            low, high = 0, 1
        else:
            low, high = int(np.iinfo(self.name).min), int(np.iinfo(self.name).max)
        if not low <= number <= high:
            raise ValueError(f"{what} {number} does not fit in {self.name} (from {low} to "
                             f"{high})")
        return bool(number) if self.name == "bool" else number

    def __str__(self) -> str:
        return self.name


HELD = {name: Held(name, code) for name, code in SAFETENSORS.items() if name not in BY_NAME}
STORED: dict[str, DType | Held] = {**BY_NAME, **HELD}  # every dtype a checkpoint holds


def stored(dtype_like: Any, what: str = "dtype") -> DType | Held:
    """The row of a dtype a checkpoint holds: a row of BY_NAME (see lookup) or of HELD
    (an integer or bool dtype, given as a name, NumPy dtype or scalar type, or torch dtype).

    Raises TypeError, naming `what` and listing them all, for anything else.
    """
    if isinstance(dtype_like, (DType, Held)):
        return dtype_like
    name = dtype_like if isinstance(dtype_like, str) else None
    if _is_torch_dtype(dtype_like):
        name = str(dtype_like).partition(".")[2]
    elif name is None and dtype_like is not None:
        try:
            dt = np.dtype(dtype_like)
        except (TypeError, ValueError):
            dt = None
        if dt is not None and dt.isnative and dt.name in HELD:
            name = dt.name
    if name in HELD:
        return HELD[name]
    try:
        return lookup(dtype_like, what)
    except TypeError:
        got = str(dtype_like) if _is_torch_dtype(dtype_like) else repr(dtype_like)
        raise TypeError(f"a checkpoint holds {supported()}, or {', '.join(HELD)} (values "
                        f"given or one constant); {what} is {got}") from None
