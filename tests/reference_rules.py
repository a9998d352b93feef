"""The rules the schemes promise, written out independently of fastinit: the
frameworks' fan rules (as Keras' `compute_fans` and PyTorch's
`_calculate_fan_in_and_fan_out` state them) and each scheme's formula (as
the issue and the README give them)."""
import math

TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def keras_fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field_size = 1
    for dim in shape[:-2]:
        receptive_field_size *= dim
    return shape[-2] * receptive_field_size, shape[-1] * receptive_field_size


def torch_fans(shape):
    if len(shape) < 2:  # PyTorch refuses these; fastinit treats them as Keras does
        return keras_fans(shape)
    num_input_fmaps, num_output_fmaps = shape[1], shape[0]
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def fans(shape, layout):
    return keras_fans(shape) if layout == "keras" else torch_fans(shape)


def fan_of_mode(mode, fan_in, fan_out):
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
            "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]


def torch_gain(nonlinearity, param=None):
    """torch.nn.init.calculate_gain, as PyTorch's documentation tables it."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    slope = 0.01 if param is None else param
    return math.sqrt(2.0 / (1 + slope ** 2))


def expected_draw(scheme, fan_in, fan_out, gain=1.0, mode="fan_in", truncated=False,
                  nonlinearity="leaky_relu", a=0.0):
    """The engine distribution a fan scheme writes: ("uniform", bound),
    ("normal", std) or ("truncated_normal", std, 2.0). He's is PyTorch's kaiming_*:
    std = calculate_gain(nonlinearity, a) / sqrt(fan), bound = sqrt(3) * std."""
    n = fan_of_mode(mode, fan_in, fan_out)
    he_std = torch_gain(nonlinearity, a) / math.sqrt(n)
    kind, scale = {
        "fan_in_uniform": ("uniform", gain / math.sqrt(fan_in)),
        "glorot_uniform": ("uniform", gain * math.sqrt(6 / (fan_in + fan_out))),
        "glorot_normal": ("normal", gain * math.sqrt(2 / (fan_in + fan_out))),
        "he_uniform": ("uniform", math.sqrt(3.0) * he_std),
        "he_normal": ("normal", he_std),
        "lecun_uniform": ("uniform", math.sqrt(3 / n)),
        "lecun_normal": ("normal", math.sqrt(1 / n)),
    }[scheme]
    if truncated:
        return ("truncated_normal", scale / TRUNCATED_STD, 2.0)
    return (kind, scale)


def expected_variance_scaling(fan_in, fan_out, scale=1.0, mode="fan_in",
                              distribution="truncated_normal", gain=1.0):
    n = fan_of_mode(mode, fan_in, fan_out)
    if distribution == "uniform":
        return ("uniform", gain * math.sqrt(3 * scale / n))
    if distribution == "normal":
        return ("normal", gain * math.sqrt(scale / n))
    return ("truncated_normal", gain * math.sqrt(scale / n) / TRUNCATED_STD, 2.0)
