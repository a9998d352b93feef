"""fastinit.propagate: what each scheme does to the signal and to the gradient of a
deep stack of dense layers, measured rather than argued.

Layer l (1 <= l <= depth) computes ``h[l] = activation(h[l-1] @ W[l])``, biases
zero, W[l] a ``(width, width)`` weight drawn by fastinit. ``h[0]`` is a batch of
standard-normal inputs, and a standard-normal gradient ``dL/dh[depth]`` is sent
back through the same layers.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import pathlib
from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _activations, _params, _streams, schemes as _schemes
from .api import sample

THRESHOLD = 1e3  # a signal "vanishes" below 1/THRESHOLD of its start, "explodes" above
SchemeSpec = Union[str, Tuple[str, str, Dict[str, Any]]]


class Escape(NamedTuple):
    """Where a signal left [start / 1e3, start * 1e3]: the first such layer."""
    layer: int
    direction: str  # "vanishes" or "explodes"

    def __str__(self) -> str:
        return f"{self.direction} at {self.layer}"


@dataclasses.dataclass(frozen=True)
class SchemeTrace:
    """One scheme's run. Arrays have depth + 1 entries, index l for h[l] (0: the input).

    activation_std[l]: std of h[l] over the batch and the units (inf once a value has
    overflowed). gradient_std[l]: std of dL/dh[l]; index depth is the gradient sent in.
    NaN below depth if the forward pass overflowed (its slopes would be inf or NaN).
    dead_fraction[l]: the fraction of the units of h[l] that are exactly 0 for every
    input of the batch. activation_escape / gradient_escape: the first layer, counted
    from where the signal starts (0 going forward, depth going back), where it falls
    below 1e-3 or grows beyond 1e3 times its start; None if it never does (nor for a
    gradient that was not sent back because the forward pass overflowed).
    """
    label: str
    scheme: str
    params: Dict[str, Any]
    activation_std: np.ndarray
    gradient_std: np.ndarray
    dead_fraction: np.ndarray
    activation_escape: Optional[Escape]
    gradient_escape: Optional[Escape]

    def to_dict(self) -> Dict[str, Any]:
        """The trace as plain Python values (lists, None for no escape), for JSON."""
        def escape(e):
            return None if e is None else e._asdict()
        return {"label": self.label, "scheme": self.scheme, "params": dict(self.params),
                "activation_std": self.activation_std.tolist(),
                "gradient_std": self.gradient_std.tolist(),
                "dead_fraction": self.dead_fraction.tolist(),
                "activation_escape": escape(self.activation_escape),
                "gradient_escape": escape(self.gradient_escape)}


@dataclasses.dataclass(frozen=True)
class PropagationReport:
    """What propagate() measured: `traces` maps each scheme's label to its SchemeTrace.

    ``print(report)`` shows a table; ``report.plot("out.png")`` draws the stds per layer.
    """
    depth: int
    width: int
    activation: str
    batch: int
    seed: int
    dtype: str
    traces: Dict[str, SchemeTrace]

    def __str__(self) -> str:
        return format_report(self)

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain Python values, for JSON."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["traces"] = [t.to_dict() for t in self.traces.values()]
        return fields

    def figure(self) -> Any:
        """A matplotlib Figure: activation std and gradient std per layer, log scale,
        one line per scheme (a value that overflowed or reached 0 is left out).
        Needs matplotlib (``pip install 'fastinit[plot]'``)."""
        Figure = _matplotlib_figure()
        fig = Figure(figsize=(9, 3.6), layout="constrained")
        act_ax, grad_ax = fig.subplots(1, 2, sharex=True)
        layers = np.arange(self.depth + 1)
        for trace in self.traces.values():
            for ax, values in ((act_ax, trace.activation_std), (grad_ax, trace.gradient_std)):
                shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
                ax.plot(layers, shown, label=trace.label)
        for ax, title in ((act_ax, "activation std (forward)"),
                          (grad_ax, "gradient std (backward)")):
            ax.set_yscale("log")
            ax.set_xlabel("layer")
            ax.set_title(title)
            ax.grid(True, which="major", alpha=0.3)
        act_ax.legend(fontsize="small")
        fig.suptitle(f"{self.depth} dense layers of width {self.width}, {self.activation}, "
                     f"batch {self.batch}")
        return fig

    def plot(self, path: Union[str, "pathlib.Path"], *, dpi: int = 80) -> pathlib.Path:
        """Writes figure() to `path` as a PNG and returns the path."""
        path = pathlib.Path(path)
        self.figure().savefig(path, format="png", dpi=dpi)
        return path


def _matplotlib_figure():
    try:  # matplotlib.figure.Figure draws without pyplot: no global state, no GUI backend
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib, which fastinit does not install by "
                          "default: pip install 'fastinit[plot]' (or pip install "
                          "matplotlib)") from None
    return Figure


# ---- the schemes to compare ---------------------------------------------------------

def _value(text):
    """A parameter value written on a command line: an int, a float, a bool, or a string."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_scheme(spec: SchemeSpec) -> Tuple[str, str, Dict[str, Any]]:
    """(label, scheme, params) of "name", "name:key=value,key=value" or a
    (label, scheme, params) tuple; the scheme and its parameters are checked."""
    if isinstance(spec, str):
        name, _, rest = spec.partition(":")
        params = {}
        for item in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, text = item.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"scheme {spec!r}: write parameters as key=value, separated "
                                 f"by commas, e.g. 'normal:std=0.01'; got {item!r}")
            params[key.strip()] = _value(text.strip())
        label, name = spec.strip(), name.strip()
    elif isinstance(spec, tuple) and len(spec) == 3 and isinstance(spec[0], str) \
            and isinstance(spec[2], dict):
        label, name, params = spec
    else:
        raise TypeError(f"each scheme must be a str ('he_normal', 'normal:std=0.01') or a "
                        f"(label, scheme, params) tuple; got {spec!r}")
    chosen = _schemes.lookup(name)
    _schemes.resolve_params(chosen, params)  # an unknown or missing parameter, said now
    return label, name, params


# ---- the run -------------------------------------------------------------------------

def _std(x):
    """std of x in float64; inf once any value is inf or NaN (the signal overflowed)."""
    if not np.isfinite(x).all():
        return math.inf
    return float(np.std(x, dtype=np.float64))


def _escape(stds, start_index, order):
    start = stds[start_index]
    if math.isnan(stds[order[0]]):
        return None  # not measured
    for layer in order:
        ratio = stds[layer] / start if start > 0 else math.nan
        if not ratio <= THRESHOLD:  # NaN (overflow, or a start of 0) counts as exploded
            return Escape(layer, "explodes")
        if ratio < 1 / THRESHOLD:
            return Escape(layer, "vanishes")
    return None


def _weight(scheme, params, layer, width, dtype, seed, compute):
    return sample((width, width), scheme, dtype=dtype, seed=seed, stream=f"layer.{layer}",
                  **params).astype(compute, copy=False)


def _trace(label, scheme, params, depth, width, activation, x, grad, seed, dtype):
    f, df = _activations.FUNCTIONS[activation]
    weight = functools.partial(_weight, scheme, params, width=width, dtype=dtype, seed=seed,
                               compute=x.dtype)
    act_std, grad_std = np.empty(depth + 1), np.empty(depth + 1)
    dead = np.zeros(depth + 1)
    slopes = []  # f'(z[l]), for the backward pass
    h = x
    act_std[0] = _std(h)
    for layer in range(1, depth + 1):
        z = h @ weight(layer)
        h = f(z)
        slopes.append(df(z))
        act_std[layer] = _std(h)
        dead[layer] = np.mean(np.all(h == 0, axis=0))
    g = grad
    grad_std[:] = math.nan
    grad_std[depth] = _std(g)
    if np.isfinite(act_std).all():  # else some slopes hold inf or NaN: no gradient to speak of
        for layer in range(depth, 0, -1):  # the weights drawn again: the same bits, no copy kept
            g = (g * slopes[layer - 1]) @ weight(layer).T
            grad_std[layer - 1] = _std(g)
    return SchemeTrace(label, scheme, params, act_std, grad_std, dead,
                       _escape(act_std, 0, range(1, depth + 1)),
                       _escape(grad_std, depth, range(depth - 1, -1, -1)))


def propagate(depth: int, width: int, *, activation: str, schemes: Sequence[SchemeSpec],
              batch: int = 1024, seed: int = 0, dtype: Any = "float32") -> PropagationReport:
    """Pushes a signal through `depth` dense layers and a gradient back, once per scheme.

    Parameters
    ----------
    depth, width : int
        The number of layers, and the units of each (every weight is width x width).
    activation : str
        Applied after every layer: linear, relu, leaky_relu (slope 0.01), tanh,
        sigmoid, selu or gelu (the exact form, x * Phi(x)).
    schemes : sequence of str or (label, scheme, params) tuples
        The schemes to compare: a name ("he_normal"), a name with parameters
        ("normal:std=0.01", "variance_scaling:scale=2,mode=fan_out"; values are read
        as int, float, true/false or text), or a tuple such as
        ``("small", "normal", {"std": 0.01})``. The label (the string itself, or the
        tuple's first item) names the scheme in the report.
    batch : int
        Inputs per batch.
    seed : int
        Every random value comes from this seed: the inputs from stream "input", the
        gradient from stream "gradient", both standard normal; layer l's weight from
        stream "layer.<l>" (l = 1..depth), the same streams for every scheme, so the
        schemes differ only in their distribution and scale.
    dtype : str or dtype
        The dtype the weights are drawn in (float32, float64, bfloat16, float16:
        what the model stores). The forward and backward passes run in float32
        (NumPy's matmul), or in float64 when dtype is float64.

    Returns
    -------
    PropagationReport
        Prints as a table; ``.traces[label]`` holds the stds and dead-unit
        fractions per layer; ``.plot(path)`` writes a PNG (needs matplotlib).

    >>> report = fastinit.propagate(30, 64, activation="relu", batch=64,
    ...                             schemes=["he_normal", "glorot_uniform"])
    >>> report.traces["he_normal"].activation_escape is None  # He keeps the signal
    True
    >>> report.traces["glorot_uniform"].activation_escape.direction  # sqrt(2) less per layer
    'vanishes'
    >>> len(report.traces["he_normal"].activation_std)  # layer 0 (the input) to 30
    31
    """
    depth, width = _params.integer("depth", depth, 1), _params.integer("width", width, 1)
    batch = _params.integer("batch", batch, 1)
    seed = _streams.check_seed(seed)
    activation = _activations.check(activation)
    if isinstance(schemes, str):
        schemes = [schemes]
    parsed = [parse_scheme(s) for s in schemes]
    if not parsed:
        raise ValueError("schemes is empty: give at least one, e.g. schemes=['he_normal']")
    labels = [label for label, _, _ in parsed]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"each scheme needs its own label; {', '.join(map(repr, repeated))} "
                         f"comes more than once")
    weights_dtype = sample(0, "zeros", dtype=dtype).dtype  # fastinit says if it cannot
    for _, scheme, params in parsed:  # a bad parameter value, before any work
        sample((width, width), scheme, dtype=dtype, seed=seed, **params)
    compute = np.float64 if weights_dtype == np.float64 else np.float32
    x = sample((batch, width), "normal", dtype=compute, seed=seed, stream="input")
    grad = sample((batch, width), "normal", dtype=compute, seed=seed, stream="gradient")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        traces = {label: _trace(label, scheme, params, depth, width, activation, x, grad,
                                seed, dtype) for label, scheme, params in parsed}
    return PropagationReport(depth, width, activation, batch, seed, weights_dtype.name, traces)


# ---- the table -------------------------------------------------------------------------

def _gradient_fate(trace):
    if math.isnan(trace.gradient_std[0]):
        return "not sent: forward overflowed"
    return str(trace.gradient_escape or "-")


def format_report(report: PropagationReport) -> str:
    """The report as a table: per scheme, the std at the start and end of each pass,
    where it vanishes or explodes, and the dead units at the last layer."""
    from ._table import format_table
    d = report.depth
    rows = []
    for t in report.traces.values():
        rows.append([t.label, f"{t.activation_std[0]:.3g}", f"{t.activation_std[d]:.3g}",
                     str(t.activation_escape or "-"), f"{t.gradient_std[d]:.3g}",
                     f"{t.gradient_std[0]:.3g}", _gradient_fate(t),
                     f"{100 * t.dead_fraction[d]:.0f}%"])
    header = (f"fastinit.propagate: {d} dense layers of width {report.width}, "
              f"{report.activation}, batch {report.batch}, seed {report.seed}, "
              f"{report.dtype} weights")
    table = format_table(["scheme", "act std 0", f"act std {d}", "activations",
                          f"grad std {d}", "grad std 0", "gradients", f"dead at {d}"], rows,
                         left=(0, 3, 6))
    note = (f"activations/gradients: the layer where the std first falls below 1e-3 or "
            f"grows beyond 1e3 times its start ('-': never)")
    return f"{header}\n{table}\n{note}"
