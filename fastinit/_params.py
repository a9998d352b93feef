"""Arguments checked, and scheme parameters rounded to the target dtype as docs/stream.md says.

Every integer a user passes (seeds, streams, counts, fans, threads, shapes, regions) is
checked by integer() or integers(), every real parameter by finite() or positive(), so
that each message names the argument and what it must be.

The C core takes each parameter already rounded once to float32 or float64
(the dtype that the array's dtype draws: float32 for bfloat16 and float16);
doing it here, in exact rational arithmetic, keeps the C side free of
double-rounding questions. Parameters whose values the array's dtype cannot hold are
refused here too ("what the dtype can hold" below). `dtype` below is anything
_dtypes.lookup takes.
"""
import math
import operator
from decimal import Decimal
from fractions import Fraction

import numpy as np

from . import _dtypes


def round_to(q, dtype):
    """The float nearest to the rational q (ties to even) in the dtype that dtype's
    parameters are rounded to (float32 or float64), as a Python float."""
    x = float(q)  # correctly rounded to float64
    if _dtypes.lookup(dtype).params == "float64":
        return x
    with np.errstate(over="ignore"):
        f = np.float32(x)
    if not np.isfinite(f) or Fraction(float(f)) == q:
        return float(f)
    # Rounding twice (to float64, then float32) can miss when q sits near the
    # midpoint of two float32s: pick the nearer neighbour of q exactly.
    if Fraction(float(f)) > q:
        lo, hi = np.nextafter(f, np.float32(-np.inf)), f
    else:
        lo, hi = f, np.nextafter(f, np.float32(np.inf))
    d_lo, d_hi = q - Fraction(float(lo)), Fraction(float(hi)) - q
    if d_lo != d_hi:
        return float(lo if d_lo < d_hi else hi)
    return float(lo if int(lo.view(np.uint32)) % 2 == 0 else hi)


def finite(name, value):
    """value as a finite Python float, or a TypeError/ValueError naming `name`."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def positive(name, value):
    """value as a float > 0 (NaN and infinities refused)."""
    v = finite(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


def number_text(n):
    """n for a message: 2**64 - 1 as "2**64 - 1", an integer of hundreds of digits by its
    size."""
    for k, text in ((0, ""), (1, " - 1"), (-1, " + 1")):
        m = n + k
        if m >= 1 << 20 and m & (m - 1) == 0:
            return f"2**{m.bit_length() - 1}{text}"
    digits = str(n)
    return digits if len(digits) <= 40 else f"an integer of {len(digits.lstrip('-'))} digits"


def _shown(value):
    """A value the user passed, for a message: its type and (briefly) what it is."""
    text = repr(value) if isinstance(value, (str, bytes)) else str(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _range_text(low, high):
    if high is None:
        return f">= {number_text(low)}"
    return f"in [{number_text(low)}, {number_text(high)}]"


def integer(name, value, low=0, high=None):
    """value as a Python int in [low, high] (no upper end for high=None), or a
    TypeError (not an integer) or ValueError (out of range) naming `name`.

    Every integer fastinit takes from a user goes through here. Any integer type is
    taken (int, NumPy integers, anything with __index__); bools, floats (even 2.0)
    and strings are not, so that a mistake is not rounded into a valid value.
    """
    if type(value) is int and value >= low and (high is None or value <= high):
        return value  # the common case, kept cheap
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer {_range_text(low, high)}, got a bool "
                        f"({value!r})")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer {_range_text(low, high)}, got "
                        f"{_shown(value)}") from None
    if n < low or (high is not None and n > high):
        raise ValueError(f"{name} must be {_range_text(low, high)}, got {number_text(n)}")
    return n


def integers(name, values, low=0):
    """values as a tuple of Python ints >= low, each checked by integer().

    Takes a tuple, list or range (torch.Size is a tuple) or a 1-D NumPy array of
    integers; a dict, a set (which have no order), a string or a bare int is a TypeError
    naming `name`, an entry out of range a ValueError naming it (``origin[1]``).
    """
    if not (isinstance(values, (tuple, list, range)) or (
            isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iu")):
        why = " (a set or dict has no order)" if isinstance(values, (set, frozenset, dict)) else ""
        raise TypeError(f"{name} must be a tuple or list of ints (or a 1-D NumPy array of "
                        f"integers); got {_shown(values)}{why}")
    return tuple(integer(f"{name}[{k}]", v, low) for k, v in enumerate(values))


# No tensor has 2**63 elements or more (so a fan, which counts some of them, is below too).
MAX_ELEMENTS = MAX_FAN = (1 << 63) - 1


def shape(value, name="shape", scalar=True):
    """A tensor's shape as a tuple of ints >= 0, with at most 2**63 - 1 elements: a tuple
    or list of ints (or a 1-D NumPy integer array) or, if `scalar`, an int for a 1-D shape."""
    # Only a number is a 1-D shape; any collection (a set too) is read, or refused, as dims.
    if scalar and not isinstance(value, (tuple, list, range, np.ndarray, str, set,
                                         frozenset, dict)):
        dims = (integer(name, value),)
    else:
        dims = integers(name, value)
    if math.prod(dims) > MAX_ELEMENTS:
        raise ValueError(f"{name} {dims} has {math.prod(dims)} elements; at most 2**63 - 1")
    return dims


def fan(name, value):
    """A fan given by the user: an int in [1, 2**63 - 1]."""
    return integer(name, value, 1, MAX_FAN)


def flag(name, value):
    """A True/False switch; anything else is refused rather than guessed."""
    if value is not True and value is not False:
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def choice(name, value, choices):
    """value (lower-cased) if it is one of `choices`, else a ValueError listing them."""
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


# ---- what the dtype can hold ---------------------------------------------------------
#
# A scale that rounds to 0 in the array's dtype (a uniform of it would be all zeros), and
# values past its largest finite one (written as infinities), are refused before anything
# is written (docs/stream.md, "Parameters"). The rules, for the array's dtype D (bfloat16
# and float16 included: their values are the float32 values rounded) and the parameters
# already rounded to the dtype drawn:
#
# - uniform(low, high): (high - low) / 2 must not round to 0 in D unless low == high,
#   and mid +- half * (1 - 2**-p), the values of the extreme draws, must be finite in D;
# - normal(mean, std): std must not round to 0 in D, and mean +- Z_MAX * std, computed
#   as the values are, must be finite in D, Z_MAX bounding the stream's |z| from above;
# - truncated normal: std and bound * std must not round to 0 in D, and
#   mean +- bound * std must be finite in D;
# - constant(value): value must be finite in D (rounding it to 0 is allowed: it is
#   the nearest value, as np.full writes it);
# - orthogonal(gain): gain, rounded to the dtype drawn, must neither round to 0 in D nor
#   overflow it.

# The largest |z| of the stream's normal by the dtype drawn, rounded up: 5.89 in float32,
# 8.66 in float64 (docs/stream.md, "normal(mean, std)").
NORMAL_Z_MAX = {"float32": Fraction(59, 10), "float64": Fraction(87, 10)}


class ScaleError(ValueError):
    """Parameters whose values the array's dtype cannot hold: a scale that rounds to 0
    there, or values past its largest finite value. schemes.plan adds which of the
    scheme's arguments made it so."""


def _underflows(x, row):
    """Whether x (a value of the dtype row draws) rounds to 0 in row's dtype."""
    return abs(x) <= row.tiny / 2  # halfway to the least subnormal is a tie: to even, 0


def _overflows(x, row):
    """Whether x (a float, int or Fraction, exactly) rounds to infinity in row's dtype."""
    return not abs(x) < row.overflow  # NaN (inf - inf) included


def _zero(what, x, row):
    return ScaleError(f"{what} {x:.6g}, rounds to 0 in {row.name}, whose least positive value "
                      f"is {row.tiny:.6g}")


def _past(what, x, row):
    try:
        text = f"{float(x):.6g}"
    except OverflowError:  # an exact Fraction past float64
        text = f"{Decimal(x.numerator) / Decimal(x.denominator):.6g}"
    return ScaleError(f"{what} {text}, past {row.name}'s largest finite value {row.max:.6g}")


def _extremes(mid, half, s, row):
    """mid + half * s and mid - half * s, computed in the dtype drawn as the kernels
    compute values (docs/stream.md: each operation rounded, no fused multiply-add)."""
    f = np.dtype(row.draws).type
    with np.errstate(over="ignore", invalid="ignore"):
        return [float(f(mid) + f(half) * f(s)), float(f(mid) + f(half) * f(-s))]


def constant(value, dtype):
    """value in dtype, refused if it is not a finite number there. A zero keeps its
    sign, as NumPy's np.full does (a Fraction has none)."""
    row = _dtypes.lookup(dtype)
    v = finite("value", value)
    rounded = round_to(Fraction(v), row) if v != 0 else v
    if _overflows(rounded, row):
        raise _past("the value is", v, row)
    return rounded


def uniform(low, high, dtype):
    """(mid, half) of uniform(low, high) in dtype: low and high are floats, not NaN
    (a scheme's bound may be infinite: it overflowed float64)."""
    row = _dtypes.lookup(dtype)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise _past("the bound of the uniform is", max(abs(low), abs(high)), row)
    if not low <= high:
        raise ValueError(f"uniform needs low <= high, got low={low}, high={high}")
    mid = round_to((Fraction(low) + Fraction(high)) / 2, row)
    half = round_to((Fraction(high) - Fraction(low)) / 2, row)
    if low < high and _underflows(half, row):
        raise _zero("the half-width of the uniform,", (high - low) / 2, row)
    if not (math.isfinite(mid) and math.isfinite(half)):
        raise _past("the bound of the uniform is", max(abs(low), abs(high)), row)
    s_max = 1 - 2.0**-_dtypes.BY_NAME[row.draws].digits  # the largest |s|: docs/stream.md
    if any(_overflows(v, row) for v in _extremes(mid, half, s_max, row)):
        raise _past("the values of the uniform reach", max(abs(low), abs(high)), row)
    return mid, half


def normal(mean, std, dtype):
    """(mean, std) of normal(mean, std) in dtype: mean finite, std > 0 (or a scheme's
    std, computed: 0 or infinite when it underflowed or overflowed float64)."""
    row = _dtypes.lookup(dtype)
    rounded_mean, rounded = _rounded(mean, std, "normal", row)
    if _underflows(rounded, row):
        raise _zero("the std of the normal,", std, row)
    z = NORMAL_Z_MAX[row.draws]
    # As the values are computed (a narrow value is its float32 value rounded, and that
    # rounding may reach the narrow overflow threshold), z bounding |z| from above.
    if any(_overflows(v, row) for v in _extremes(rounded_mean, rounded, float(z), row)):
        raise _past(f"the values of the normal can reach |mean| + {float(z)} * std =",
                    abs(Fraction(mean)) + z * Fraction(std), row)
    return rounded_mean, rounded


def truncated_normal(mean, std, bound, dtype):
    """(mean, std, bound) of the normal truncated at mean +- bound * std, in dtype:
    bound > 0; mean and std as normal() takes them."""
    row = _dtypes.lookup(dtype)
    rounded_mean, rounded = _rounded(mean, std, "truncated normal", row)
    c = round_to(Fraction(bound), row)
    if _underflows(rounded, row):
        raise _zero("the std of the truncated normal,", std, row)
    if not math.isfinite(c):
        raise _past("the bound of the truncated normal is", bound, row)
    if _underflows(_extremes(0.0, rounded, c, row)[0], row):  # bound * std, as computed
        raise _zero("the half-width of the truncated normal, bound * std =", bound * std, row)
    if any(_overflows(v, row) for v in _extremes(rounded_mean, rounded, c, row)):
        raise _past("the values of the truncated normal reach |mean| + bound * std =",
                    abs(Fraction(mean)) + Fraction(bound) * Fraction(std), row)
    return rounded_mean, rounded, c


def _rounded(mean, std, name, row):
    """mean and std rounded to the dtype row draws, refused where that overflows."""
    if math.isinf(std):
        raise _past(f"the std of the {name} is", std, row)
    rounded_mean, rounded = round_to(Fraction(mean), row), round_to(Fraction(std), row)
    if math.isinf(rounded_mean) or math.isinf(rounded):
        raise _past(f"the {'mean' if math.isinf(rounded_mean) else 'std'} of the {name} is",
                    mean if math.isinf(rounded_mean) else std, row)
    return rounded_mean, rounded


def scale(name, value, dtype):
    """value, a scale that multiplies values of magnitude up to 1 (orthogonal's gain),
    checked to neither round to 0 nor overflow in dtype."""
    row = _dtypes.lookup(dtype)
    rounded = round_to(Fraction(value), row)  # a narrow dtype's values: rounded twice
    if _underflows(rounded, row):
        raise _zero(f"{name},", value, row)
    if _overflows(rounded, row):
        raise _past(f"{name} is", value, row)
    return value
