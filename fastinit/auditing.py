"""fastinit.audit: how the tensors of a model or a checkpoint were initialised, and
the traps among them.

For each weight (rank >= 2) it measures the std and the largest |value|, reads the
fans from the shape, and tells which known schemes the values are consistent with,
by the tests below, each at level ALPHA under the hypothesis that the tensor holds
n independent draws of that scheme's distribution (mean 0, variance v, kurtosis k):

- mean: |mean| <= z * sqrt(v / n), with z the two-sided normal quantile of ALPHA;
- variance: the second moment about 0, m2, has mean v and std v * sqrt((k - 1) / n)
  under the hypothesis: |m2 - v| <= z * v * sqrt((k - 1) / n);
- shape, from the largest |value| M, which sets uniform (M close to its bound
  b = sqrt(3 v)), truncated normal (close to 2 s', s' = sqrt(v) / 0.8796) and normal
  (M near sqrt(2 ln n) std, unbounded) far apart, where the kurtosis (1.8, 2.36, 3)
  needs many more values to tell them apart. A bounded scheme must have M <= bound
  (plus the storage format's rounding) and M >= the value below which all n draws
  fall with probability ALPHA; a normal must have M between the ALPHA-quantile of
  the largest of n |N(0, v)| (capped at 5 std: generators whose float32 draws stop
  near 5.9 std are not refused for that) and its 1 - ALPHA quantile.

So a correct tensor is missed with probability at most 4 * ALPHA. Too few values
(fewer than MIN_VALUES) are not judged. Orthogonal matrices are recognised by
their Gram matrix instead (their entries are not independent).

Rank-0 and rank-1 tensors (biases, norm scales) are described, not judged as
weights; tensors that are not floating point are listed and skipped.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import statistics
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _activations, schemes as _schemes
from .fans import check_layout, compute_fans

ALPHA = 1e-4           # level of each test
MIN_VALUES = 100       # fewer values than this are described, not matched
MAX_NORMAL_CAP = 5.0   # see the module docstring
CHUNK = 1 << 20        # values read at a time: a memory-mapped checkpoint is not loaded whole
# Rows or columns shorter than this are not compared for duplicates: random draws repeat
# one or two values by chance (bfloat16 has 128 values per octave), so the equal inputs
# of a Linear(4096, 1) head mean nothing. Two lines of 8 random bfloat16 values are
# equal by chance with probability about 2**-77 (2**-9.6 a value).
MIN_LINE = 8
_PHI = statistics.NormalDist()
_Z = -_PHI.inv_cdf(ALPHA / 2)  # two-sided: 3.89


# ---- the known schemes ------------------------------------------------------------------

class Known(NamedTuple):
    label: str            # what the report calls it
    scheme: str           # the fastinit scheme that writes it
    params: Dict[str, Any]
    family: Optional[str]  # "he", "glorot", "lecun", "fan_in" or None: for activation checks
    slip: bool = False    # Glorot normal with half its variance: a trap, not a scheme


KNOWN = (
    Known("fan_in_uniform", "fan_in_uniform", {}, "fan_in"),  # PyTorch's Linear/Conv default
    Known("glorot_uniform", "glorot_uniform", {}, "glorot"),
    Known("glorot_normal", "glorot_normal", {}, "glorot"),
    Known("glorot_normal(truncated=True)", "glorot_normal", {"truncated": True}, "glorot"),
    Known("he_uniform", "he_uniform", {}, "he"),
    Known("he_uniform(mode='fan_out')", "he_uniform", {"mode": "fan_out"}, "he"),
    Known("he_normal", "he_normal", {}, "he"),
    Known("he_normal(mode='fan_out')", "he_normal", {"mode": "fan_out"}, "he"),
    Known("he_normal(truncated=True)", "he_normal", {"truncated": True}, "he"),
    Known("lecun_uniform", "lecun_uniform", {}, "lecun"),
    Known("lecun_normal", "lecun_normal", {}, "lecun"),
    Known("lecun_normal(truncated=True)", "lecun_normal", {"truncated": True}, "lecun"),
    Known("normal(std=0.02)", "normal", {"std": 0.02}, None),  # GPT-2, BERT
    Known("normal(std=1)", "normal", {"std": 1.0}, None),      # torch.nn.Embedding's default
    # The slip: variance 1/(fan_in+fan_out), sqrt(2) too small in std.
    Known("glorot_normal/sqrt(2)", "variance_scaling",
          {"scale": 0.5, "mode": "fan_avg", "distribution": "normal"}, "glorot", slip=True),
    Known("glorot_normal(truncated=True)/sqrt(2)", "variance_scaling",
          {"scale": 0.5, "mode": "fan_avg", "distribution": "truncated_normal"}, "glorot",
          slip=True),
)
NOTES = {"fan_in_uniform": "PyTorch's default"}


class Draw(NamedTuple):
    """A zero-mean distribution: kind "uniform" (scale = bound), "normal" (scale = std)
    or "truncated_normal" (scale = std before the cut at +-cut * scale)."""
    kind: str
    scale: float
    cut: float = math.inf

    def _truncated(self):  # (E z^2, E z^4) of N(0, 1) cut at +-c
        c = self.cut
        mass = 2 * _PHI.cdf(c) - 1
        m2 = 1 - 2 * c * _PHI.pdf(c) / mass
        return m2, 3 * m2 - 2 * c ** 3 * _PHI.pdf(c) / mass

    @property
    def variance(self) -> float:
        if self.kind == "uniform":
            return self.scale ** 2 / 3
        if self.kind == "normal":
            return self.scale ** 2
        return self.scale ** 2 * self._truncated()[0]

    @property
    def kurtosis(self) -> float:
        if self.kind == "uniform":
            return 1.8
        if self.kind == "normal":
            return 3.0
        m2, m4 = self._truncated()
        return m4 / m2 ** 2

    def max_band(self, n: int) -> Tuple[float, float]:
        """The range that the largest |value| of n draws falls outside of with
        probability ALPHA on each side it has (see the module docstring)."""
        p = -math.expm1(math.log(ALPHA) / n)  # 1 - ALPHA**(1/n): one draw beyond the edge
        if self.kind == "uniform":
            return self.scale * (1 - p), self.scale
        if self.kind == "truncated_normal":
            c = self.cut
            edge = _PHI.inv_cdf(_PHI.cdf(c) - p * (2 * _PHI.cdf(c) - 1) / 2)
            return self.scale * edge, self.scale * c
        top = -math.expm1(math.log1p(-ALPHA) / n)  # 1 - (1 - ALPHA)**(1/n)
        low = -_PHI.inv_cdf(p / 2)
        return self.scale * min(low, MAX_NORMAL_CAP), self.scale * -_PHI.inv_cdf(top / 2)


@functools.lru_cache(maxsize=256)
def known_draws(shape: Tuple[int, ...], layout: str) -> Tuple[Tuple[Known, Draw], ...]:
    """Every known scheme with its distribution for this shape (models repeat shapes)."""
    return tuple((k, draw_of(k, shape, layout)) for k in KNOWN)


def draw_of(known: Known, shape: Tuple[int, ...], layout: str) -> Draw:
    """The distribution that fastinit's `known.scheme` writes into a tensor of `shape`."""
    params = dict(known.params)
    if "layout" in _schemes.lookup(known.scheme).defaults:
        params["layout"] = layout
    kind, args = _schemes.plan(known.scheme, params, np.float64, shape)
    return Draw(kind, args[1], args[2] if kind == "truncated_normal" else math.inf)


# ---- reading tensors ----------------------------------------------------------------------

class Raw(NamedTuple):
    """A tensor's values as stored: a float16/32/64 array, or uint16 holding bfloat16
    bits (widened exactly to float32 by shifting them into the high half of a uint32,
    so no ml_dtypes is needed); `skip` says why a tensor has no values to judge."""
    values: Optional[np.ndarray]
    shape: Tuple[int, ...]
    dtype: str
    bfloat16: bool = False
    skip: Optional[str] = None


def _from_torch(t):
    t = t.detach()
    shape, dtype = tuple(t.shape), str(t.dtype).replace("torch.", "")
    if t.device.type == "meta":
        return Raw(None, shape, dtype, skip="no values (meta device)")
    if t.device.type != "cpu":
        t = t.cpu()  # a copy, only to read it
    if dtype == "bfloat16":
        import torch  # present: t is a torch tensor
        return Raw(t.view(torch.int16).numpy().view(np.uint16), shape, dtype, bfloat16=True)
    if not t.is_floating_point():
        return Raw(None, shape, dtype, skip=f"not floating point ({dtype})")
    try:
        return Raw(t.numpy(), shape, dtype)
    except TypeError:  # float8 and other formats that NumPy has no type for
        return Raw(None, shape, dtype, skip=f"{dtype} has no NumPy type")


def read(obj: Any) -> Raw:
    """The values of a NumPy array, a torch tensor (any device, bfloat16 too), a JAX
    array or anything np.asarray takes, without a copy where it can."""
    if isinstance(obj, Raw):
        return obj
    if type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach"):
        return _from_torch(obj)
    arr = np.asarray(obj)
    if arr.dtype.name == "bfloat16":  # ml_dtypes' type, as JAX hands it to NumPy
        return Raw(arr.view(np.uint16), arr.shape, "bfloat16", bfloat16=True)
    if arr.dtype.kind != "f":
        return Raw(None, arr.shape, arr.dtype.name, skip=f"not floating point ({arr.dtype})")
    return Raw(arr, arr.shape, arr.dtype.name)


def _chunks(raw: Raw):
    """The values, float64, CHUNK at a time, in C order."""
    flat = raw.values.reshape(-1)
    for start in range(0, flat.size, CHUNK):
        part = flat[start:start + CHUNK]
        if raw.bfloat16:
            part = (part.astype(np.uint32) << 16).view(np.float32)
        yield part.astype(np.float64)


def _eps(raw: Raw) -> float:
    return 2.0 ** -7 if raw.bfloat16 else float(np.finfo(raw.values.dtype).eps)


# ---- what is measured ----------------------------------------------------------------------

class Moments(NamedTuple):
    n: int            # finite values
    nan: int
    inf: int
    mean: float
    m2: float         # mean of x**2 (about 0)
    m4: float
    low: float
    high: float


def moments(raw: Raw) -> Moments:
    n = nan = inf = 0
    s1 = s2 = s4 = 0.0
    low, high = math.inf, -math.inf
    for x in _chunks(raw):
        finite = np.isfinite(x)
        if not finite.all():
            nan += int(np.isnan(x).sum())
            inf += int(np.isinf(x).sum())
            x = x[finite]
        if x.size:
            x2 = x * x
            n, s1, s2, s4 = n + x.size, s1 + x.sum(), s2 + x2.sum(), s4 + (x2 * x2).sum()
            low, high = min(low, float(x.min())), max(high, float(x.max()))
    if n == 0:
        return Moments(0, nan, inf, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Moments(n, nan, inf, s1 / n, s2 / n, s4 / n, low, high)


def consistent(m: Moments, draw: Draw, eps: float) -> bool:
    """Whether the values pass the three tests (module docstring) for `draw`."""
    v, n = draw.variance, m.n
    if abs(m.mean) > _Z * math.sqrt(v / n):
        return False
    if abs(m.m2 - v) > _Z * v * math.sqrt((draw.kurtosis - 1) / n):
        return False
    lo, hi = draw.max_band(n)
    top = max(-m.low, m.high)
    return lo * (1 - eps) <= top <= hi * (1 + eps)


def _family_guess(ratio):
    """The kind of distribution that a max/rms ratio suggests: sqrt(3) = 1.73 for a
    uniform, 2 / 0.8796 = 2.27 for the truncated normal, over 3 for a normal of
    more than a few hundred values."""
    return "uniform" if ratio < 2.0 else "truncated_normal" if ratio < 2.6 else "normal"


def _matrix(raw: Raw, layout: str) -> np.ndarray:
    """The weight as a matrix whose rows are its output units (torch layout) or its
    inputs (keras layout), as the raw bits of its values."""
    shape = raw.shape
    rows = shape[0] if layout == "torch" else math.prod(shape[:-1])
    bits = np.ascontiguousarray(raw.values).view(f"u{raw.values.dtype.itemsize}")
    return bits.reshape(rows, -1)


def _keys(count, stream):
    words = np.asarray(_random_raw(2 * count, stream), dtype=np.uint64)
    return (words[0::2] << np.uint64(32)) | words[1::2] | np.uint64(1)


def _random_raw(count, stream):
    from .api import random_raw
    return random_raw(count, seed=0, stream=stream)


def duplicates(matrix: np.ndarray) -> Tuple[List[List[int]], List[List[int]]]:
    """Groups of equal rows and of equal columns (bit for bit), each group sorted;
    none among lines shorter than MIN_LINE.

    Each row and each column gets a fingerprint, the sum of its values' bits times
    fixed random odd 64-bit keys (mod 2**64): equal lines get equal fingerprints, so
    only lines with the same fingerprint are compared, and one pass over the rows,
    a block at a time, finds both kinds without a transposed copy."""
    rows, cols = matrix.shape
    row_keys, col_keys = _keys(cols, "audit.columns"), _keys(rows, "audit.rows")
    row_fp, col_fp = np.empty(rows, np.uint64), np.zeros(cols, np.uint64)
    step = max(1, CHUNK // max(cols, 1))
    for r in range(0, rows, step):
        block = matrix[r:r + step].astype(np.uint64)
        row_fp[r:r + step] = (block * row_keys).sum(axis=1, dtype=np.uint64)
        col_fp += (block * col_keys[r:r + step, None]).sum(axis=0, dtype=np.uint64)
    return (_equal_groups(row_fp, lambda i: matrix[i]) if cols >= MIN_LINE else [],
            _equal_groups(col_fp, lambda j: matrix[:, j]) if rows >= MIN_LINE else [])


def _equal_groups(fingerprints, line):
    _, inverse, counts = np.unique(fingerprints, return_inverse=True, return_counts=True)
    groups = []
    for key in np.flatnonzero(counts > 1):
        members = np.flatnonzero(inverse == key).tolist()
        while members:  # the same fingerprint almost surely means the same line; check it
            first = line(members[0])
            same = [k for k in members if np.array_equal(line(k), first)]
            if len(same) > 1:
                groups.append(same)
            members = [k for k in members if k not in same]
    return sorted(groups)


def orthogonal_gain(raw: Raw, layout: str) -> Optional[float]:
    """g if the weight, seen as fastinit's orthogonal scheme sees it, has orthonormal
    rows or columns (whichever are fewer) times g; else None.

    The Gram matrix of up to 64 of those vectors must be g**2 times the identity
    within 1e-3 relative. Checked in float32 and float64 only (16-bit rounding is
    too coarse for that tolerance), and only where the vectors are short enough
    (at most 62500 values) that random vectors, whose inner products are about
    1/sqrt(length), cannot pass by chance."""
    if raw.bfloat16 or raw.values.dtype.itemsize < 4 or len(raw.shape) < 2:
        return None
    shape = raw.shape
    rows = math.prod(shape[:-1]) if layout == "keras" else shape[0]
    matrix = raw.values.reshape(rows, -1)
    if matrix.shape[0] < matrix.shape[1]:
        matrix = matrix.T  # now the columns are the fewer vectors
    length, count = matrix.shape
    if count < 2 or length > 62500:
        return None
    part = matrix[:, :64].astype(np.float64)
    gram = part.T @ part
    g2 = float(np.mean(np.diag(gram)))
    if not g2 > 0 or np.max(np.abs(gram - g2 * np.eye(len(gram)))) > 1e-3 * g2:
        return None
    return math.sqrt(g2)


# ---- the report -------------------------------------------------------------------------

class Flag(NamedTuple):
    """A problem found in one tensor: `code` for programs, `message` for people.

    Codes: nonfinite, zero, constant, duplicate_units, duplicate_inputs,
    glorot_normal_slip, unsuited."""
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class AuditRow:
    """One tensor. role: "weight" (rank >= 2, judged), "vector" (rank 0 or 1: biases,
    norm scales; described), "skipped" (no floating-point values; `note` says why).
    std is about the mean; bound is the largest |value|; both over finite values.
    matches: every known scheme the values are consistent with (several when their
    distributions coincide for this shape, e.g. glorot_uniform and lecun_uniform on a
    square matrix), or "zeros", "ones", "constant(value=c)", "orthogonal(...)".
    nearest and ratio: when nothing matches, the known scheme of the same kind of
    distribution with the closest std, and std / its std."""
    name: str
    shape: Tuple[int, ...]
    dtype: str
    role: str
    fan_in: Optional[int] = None
    fan_out: Optional[int] = None
    mean: Optional[float] = None
    std: Optional[float] = None
    bound: Optional[float] = None
    matches: Tuple[str, ...] = ()
    nearest: Optional[str] = None
    ratio: Optional[float] = None
    flags: Tuple[Flag, ...] = ()
    note: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        out = dataclasses.asdict(self)
        out["flags"] = [f._asdict() for f in self.flags]
        return out


@dataclasses.dataclass(frozen=True)
class AuditReport:
    """What audit() found: `rows`, one AuditRow per tensor, in the order given.

    ``print(report)`` shows a table and then every flag in full."""
    rows: Tuple[AuditRow, ...]
    layout: str
    activation: Optional[str]

    @property
    def flagged(self) -> Tuple[AuditRow, ...]:
        """The rows with at least one flag."""
        return tuple(r for r in self.rows if r.flags)

    def __getitem__(self, name: str) -> AuditRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def to_dict(self) -> Dict[str, Any]:
        return {"layout": self.layout, "activation": self.activation,
                "rows": [r.to_dict() for r in self.rows]}

    def __str__(self) -> str:
        return format_report(self)


# ---- judging one tensor -------------------------------------------------------------------

def _constant_label(value):
    return "zeros" if value == 0 else "ones" if value == 1 else f"constant(value={value:.6g})"


def _symmetry_flag(value):
    if value == 0:
        return Flag("zero", "every value is 0: no signal passes forward and every unit gets "
                            "the same gradient (the symmetry trap); use a fan scheme")
    return Flag("constant", f"every value is {value:.6g}: every unit computes the same output "
                            f"and gets the same gradient, so they never differ (the symmetry "
                            f"trap); use a fan scheme")


def _duplicate_flags(raw, layout):
    row_groups, col_groups = duplicates(_matrix(raw, layout))
    units, inputs = (row_groups, col_groups) if layout == "torch" else (col_groups, row_groups)
    view = "(out, in*receptive)" if layout == "torch" else "(receptive*in, out)"
    flags = []
    for code, groups, line, what in (
            ("duplicate_units", units, "rows" if layout == "torch" else "columns",
             "output units with the same weights compute the same thing and get the same "
             "gradient, so they stay equal"),
            ("duplicate_inputs", inputs, "columns" if layout == "torch" else "rows",
             "inputs with the same weights reach every unit alike")):
        if groups:
            shown = "; ".join(" = ".join(map(str, g[:4])) + (" = ..." if len(g) > 4 else "")
                              for g in groups[:3])
            more = f" (and {len(groups) - 3} more groups)" if len(groups) > 3 else ""
            flags.append(Flag(code, f"equal {line} of the {view} matrix: {shown}{more}: {what}"))
    return flags


def _judge(name, raw, layout):
    """The row of one tensor, without the activation check (that needs all rows)."""
    base = dict(name=name, shape=tuple(raw.shape), dtype=raw.dtype)
    if raw.skip is not None:
        return AuditRow(role="skipped", note=raw.skip, **base)
    is_weight = len(raw.shape) >= 2
    role = "weight" if is_weight else "vector"
    fans = compute_fans(raw.shape, layout) if is_weight else (None, None)
    m = moments(raw)
    flags = []
    if m.nan or m.inf:
        flags.append(Flag("nonfinite", f"{m.nan} NaN and {m.inf} infinite values"))
    if m.n == 0:
        return AuditRow(role=role, fan_in=fans[0], fan_out=fans[1], flags=tuple(flags),
                        note="no finite values", **base)
    std = math.sqrt(max(m.m2 - m.mean ** 2, 0.0))
    row = dict(role=role, fan_in=fans[0], fan_out=fans[1], mean=m.mean, std=std,
               bound=max(abs(m.low), abs(m.high)), **base)
    if m.low == m.high:
        if is_weight and m.n > 1:
            flags.append(_symmetry_flag(m.low))
        return AuditRow(matches=(_constant_label(m.low),), flags=tuple(flags), **row)
    if not is_weight:
        return AuditRow(flags=tuple(flags), **row)
    if m.nan or m.inf:
        return AuditRow(flags=tuple(flags), note="not matched: it holds non-finite values", **row)
    flags += _duplicate_flags(raw, layout)
    gain = orthogonal_gain(raw, layout)
    if gain is not None:
        label = "orthogonal" if abs(gain - 1) <= 1e-3 else f"orthogonal(gain={gain:.4g})"
        return AuditRow(matches=(label,), flags=tuple(flags), **row)
    if m.n < MIN_VALUES:
        return AuditRow(flags=tuple(flags), note=f"too few values ({m.n}) to tell schemes "
                                                 f"apart", **row)
    draws = known_draws(tuple(raw.shape), layout)
    found = [k for k, d in draws if consistent(m, d, 2 * _eps(raw))]
    matches = tuple(k.label for k in found)
    if found and all(k.slip for k in found):
        flags.append(Flag("glorot_normal_slip",
                          "variance 1/(fan_in + fan_out): Glorot normal with its std sqrt(2) "
                          "too small (Glorot & Bengio's variance is 2/(fan_in + fan_out)), a "
                          "slip some tutorials make; use glorot_normal"))
    if found:
        return AuditRow(matches=matches, flags=tuple(flags), **row)
    rms = math.sqrt(m.m2)
    kind = _family_guess(row["bound"] / rms)
    same_kind = [(k, d) for k, d in draws if d.kind == kind and not k.slip] or draws
    k, d = min(same_kind, key=lambda kd: abs(math.log(rms / math.sqrt(kd[1].variance))))
    return AuditRow(nearest=k.label, ratio=rms / math.sqrt(d.variance), flags=tuple(flags),
                    **row)


# ---- the activation check ---------------------------------------------------------------

NEAR = 0.05  # for the activation check, a weight within 5% of its nearest scheme's std is that


def _matched(row, layout):
    """The known schemes (with their draws) that the row matches, or its nearest one if
    their stds are within NEAR (a generator with a small bias, e.g. one that rounds its
    uniforms to bfloat16, fails the exact tests but was still meant to be that scheme)."""
    near = row.nearest is not None and abs(row.ratio - 1) <= NEAR
    labels = row.matches or ((row.nearest,) if near else ())
    return [(k, d) for k, d in known_draws(row.shape, layout) if k.label in labels]


def _layers_to_vanish(fan_in, variance):
    """How many layers like this one take a ReLU signal below 1e-3 of its start: each
    multiplies the signal's variance by fan_in * variance / 2 (ReLU keeps half of
    the second moment). None if it does not shrink."""
    factor = math.sqrt(fan_in * variance / 2)
    return math.ceil(math.log(1e3) / -math.log(factor)) if factor < 1 else None


def _suitability_flag(row, activation, weights, layout):
    matched = _matched(row, layout)
    families = {k.family for k, _ in matched}
    if not families or None in families:
        return None
    suited = _activations.SUITED[activation]
    scheme = " / ".join(row.matches) or f"{row.nearest} x{row.ratio:.3g}"
    if suited != "he" and families == {"he"}:
        fix = "lecun_*" if activation == "selu" else "glorot_*"
        saturates = " until it saturates" if activation in ("tanh", "sigmoid") else ""
        return Flag("unsuited", f"{scheme} under {activation}: He's variance 2/fan is meant for "
                                f"rectifiers and is twice what {activation} needs; the signal "
                                f"grows by about sqrt(2) per layer{saturates}. {fix} suits "
                                f"{activation}")
    if suited == "he" and "he" not in families:
        depth = _layers_to_vanish(row.fan_in, matched[0][1].variance)
        if depth is not None and weights >= depth:
            return Flag("unsuited", f"{scheme} under {activation}: {activation} keeps about half "
                                    f"of the signal's variance and this scale does not make up "
                                    f"for it; in a plain stack (no normalisation or residual "
                                    f"connections) of layers like this one, the signal falls "
                                    f"below 1e-3 of its start after {depth} layers, and this "
                                    f"model has {weights} weight tensors. he_* suits "
                                    f"{activation}")
    return None


# ---- the entry point ----------------------------------------------------------------------

Tensors = Union[Mapping[str, Any], Iterable[Tuple[str, Any]]]


def audit(tensors: Tensors, *, layout: str = "keras",
          activation: Optional[str] = None) -> AuditReport:
    """How each tensor was initialised, and the traps among them.

    Parameters
    ----------
    tensors : mapping of name -> array, or iterable of (name, array) pairs
        NumPy arrays (float16/32/64, ml_dtypes bfloat16), torch tensors (any
        device and float dtype; ``dict(model.named_parameters())`` or a state dict),
        JAX arrays, or anything np.asarray takes.
    layout : "keras" or "torch"
        Where the fans sit in the shape (see fastinit.compute_fans).
    activation : str, optional
        The network's nonlinearity (linear, relu, leaky_relu, tanh, sigmoid, selu,
        gelu): flags schemes that do not suit it. He under tanh, sigmoid, linear or
        selu is flagged always. A scheme of variance about 1/fan (Glorot, LeCun,
        PyTorch's default) under relu, leaky_relu or gelu is flagged when the model
        is deep for it: when it holds at least as many weight tensors as such layers
        take to bring the signal below 1e-3 of its start in a plain stack (each
        multiplies its variance by fan_in * var / 2: on square layers 20 for Glorot,
        8 for PyTorch's default). A weight that matches nothing counts here as its
        nearest scheme if their stds differ by less than 5%.

    Returns
    -------
    AuditReport
        ``.rows`` (AuditRow: std, bound, fans, matches or nearest scheme, flags),
        ``.flagged``, ``report["name"]``; prints as a table.

    >>> report = fastinit.audit({"w": fastinit.sample((256, 128), "he_normal", seed=0),
    ...                          "v": np.zeros((128, 10))}, activation="relu")
    >>> report["w"].matches
    ('he_normal',)
    >>> [(row.name, flag.code) for row in report.flagged for flag in row.flags]
    [('v', 'zero')]
    """
    layout = check_layout(layout)
    if activation is not None:
        activation = _activations.check(activation)
    items = tensors.items() if isinstance(tensors, Mapping) else tensors
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise TypeError(f"tensors must be a mapping of name -> array (or (name, array) "
                        f"pairs), got {type(tensors).__name__}")
    rows = []
    with np.errstate(over="ignore", invalid="ignore"):
        for item in items:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise TypeError(f"tensors must be a mapping of name -> array (or (name, array) "
                                f"pairs); got the item {item!r:.80}")
            rows.append(_judge(item[0], read(item[1]), layout))
    if activation is not None:
        weights = sum(r.role == "weight" for r in rows)
        judged = []
        for r in rows:
            flag = _suitability_flag(r, activation, weights, layout) if r.role == "weight" else None
            judged.append(dataclasses.replace(r, flags=r.flags + (flag,)) if flag else r)
        rows = judged
    return AuditReport(tuple(rows), layout, activation)


# ---- the table ----------------------------------------------------------------------------

def _scheme_cell(row):
    if row.matches:
        return " / ".join(f"{m} ({NOTES[m]})" if m in NOTES else m for m in row.matches)
    if row.nearest is not None:
        return f"none; nearest {row.nearest} x{row.ratio:.3g}"
    return row.note or "-"


def format_report(report: AuditReport) -> str:
    from ._table import format_table
    rows = []
    for r in report.rows:
        fans = f"{r.fan_in}/{r.fan_out}" if r.fan_in is not None else "-"
        number = (lambda x: "-" if x is None else f"{x:.4g}")
        rows.append([r.name, "x".join(map(str, r.shape)) or "()", r.dtype, fans, number(r.mean),
                     number(r.std), number(r.bound), _scheme_cell(r),
                     ", ".join(f.code for f in r.flags) or "-"])
    header = (f"fastinit.audit: {len(report.rows)} tensors, layout {report.layout}"
              + (f", activation {report.activation}" if report.activation else ""))
    lines = [header, format_table(["name", "shape", "dtype", "fan in/out", "mean", "std",
                                   "max|x|", "scheme", "flags"], rows, left=(0, 2, 7, 8))]
    flagged = report.flagged
    lines.append(f"{sum(len(r.flags) for r in flagged)} flags on {len(flagged)} tensors"
                 + (":" if flagged else ""))
    for r in flagged:
        lines += [f"  {r.name}: {f.code}: {f.message}" for f in r.flags]
    return "\n".join(lines)
