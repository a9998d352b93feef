"""fastinit.audit: which scheme made each tensor, and the traps. The expected scheme of a
tensor is worked out here from the scheme formulas (reference_rules.py), not by
fastinit's scheme code."""
import json
import math

import numpy as np
import pytest
from scipy import stats

import fastinit
from conftest import run_python
from fastinit import auditing
from reference_rules import TRUNCATED_STD, expected_draw, expected_variance_scaling, fans

# The known schemes the audit promises to name: label -> its draw for (fan_in, fan_out).
KNOWN = {
    "fan_in_uniform": lambda fi, fo: expected_draw("fan_in_uniform", fi, fo),
    "glorot_uniform": lambda fi, fo: expected_draw("glorot_uniform", fi, fo),
    "glorot_normal": lambda fi, fo: expected_draw("glorot_normal", fi, fo),
    "glorot_normal(truncated=True)":
        lambda fi, fo: expected_draw("glorot_normal", fi, fo, truncated=True),
    "he_uniform": lambda fi, fo: expected_draw("he_uniform", fi, fo),
    "he_uniform(mode='fan_out')": lambda fi, fo: expected_draw("he_uniform", fi, fo,
                                                               mode="fan_out"),
    "he_normal": lambda fi, fo: expected_draw("he_normal", fi, fo),
    "he_normal(mode='fan_out')": lambda fi, fo: expected_draw("he_normal", fi, fo, mode="fan_out"),
    "he_normal(truncated=True)": lambda fi, fo: expected_draw("he_normal", fi, fo, truncated=True),
    "lecun_uniform": lambda fi, fo: expected_draw("lecun_uniform", fi, fo),
    "lecun_normal": lambda fi, fo: expected_draw("lecun_normal", fi, fo),
    "lecun_normal(truncated=True)":
        lambda fi, fo: expected_draw("lecun_normal", fi, fo, truncated=True),
    "normal(std=0.02)": lambda fi, fo: ("normal", 0.02),
    "normal(std=1)": lambda fi, fo: ("normal", 1.0),
    "glorot_normal/sqrt(2)": lambda fi, fo: ("normal", math.sqrt(1 / (fi + fo))),
    "glorot_normal(truncated=True)/sqrt(2)":
        lambda fi, fo: ("truncated_normal", math.sqrt(1 / (fi + fo)) / TRUNCATED_STD, 2.0),
}
# What fastinit writes: (scheme, params) -> the draw, from the reference rules.
WRITTEN = [
    ("fan_in_uniform", {}), ("glorot_uniform", {}), ("glorot_normal", {}),
    ("glorot_normal", {"truncated": True}), ("he_uniform", {}), ("he_uniform", {"mode": "fan_out"}),
    ("he_normal", {}), ("he_normal", {"mode": "fan_out"}), ("he_normal", {"truncated": True}),
    ("lecun_uniform", {}), ("lecun_normal", {}), ("lecun_normal", {"truncated": True}),
    ("variance_scaling", {}),
]
SHAPES = {"keras": [(3, 3, 64, 128), (512, 192)], "torch": [(128, 64, 3, 3), (192, 512)]}


def written_draw(scheme, params, fi, fo):
    if scheme == "variance_scaling":
        return expected_variance_scaling(fi, fo)
    return expected_draw(scheme, fi, fo, **params)


def same_draw(a, b):
    return a[0] == b[0] and np.allclose(a[1:], b[1:], rtol=1e-9)


def expected_matches(draw, fi, fo):
    return {label for label, rule in KNOWN.items() if same_draw(rule(fi, fo), draw)}


@pytest.mark.parametrize("layout", ["keras", "torch"])
@pytest.mark.parametrize("scheme, params", WRITTEN, ids=lambda x: str(x) if x else "")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_fan_scheme_fastinit_writes_is_recognised(layout, scheme, params, dtype):
    for k, shape in enumerate(SHAPES[layout]):
        w = fastinit.sample(shape, scheme, dtype=dtype, layout=layout, seed=7, stream=k,
                            **params)
        fi, fo = fans(shape, layout)
        expected = expected_matches(written_draw(scheme, params, fi, fo), fi, fo)
        row = fastinit.audit({"w": w}, layout=layout)["w"]
        assert expected, "each written scheme is one the audit knows"
        assert set(row.matches) == expected, (shape, row)
        assert row.flags == () and (row.fan_in, row.fan_out) == (fi, fo)


def test_uniform_normal_and_truncated_of_the_same_variance_are_told_apart():
    shape = (512, 192)
    glorot = {f"{kind}": fastinit.sample(shape, scheme, seed=1, **params) for kind, scheme, params
              in (("uniform", "glorot_uniform", {}), ("normal", "glorot_normal", {}),
                  ("truncated", "glorot_normal", {"truncated": True}))}
    report = fastinit.audit(glorot)
    assert report["uniform"].matches == ("glorot_uniform",)
    assert report["normal"].matches == ("glorot_normal",)
    assert report["truncated"].matches == ("glorot_normal(truncated=True)",)
    stds = [report[k].std for k in glorot]
    assert max(stds) / min(stds) < 1.01  # the same std: only the shape told them apart


ALPHA_BOUND = 4 * auditing.ALPHA  # four tests per scheme (module docstring), each at ALPHA


def test_correct_tensors_are_not_flagged_false_positive_rate_over_200_seeds():
    # Each correct tensor fails to match its own scheme with probability at most
    # 4 * ALPHA. Over N tensors the misses are then at most Binomial(N, 4 * ALPHA); the
    # test allows the count that such a variable exceeds with probability < 1e-3.
    schemes = [("fan_in_uniform", {}), ("glorot_uniform", {}), ("glorot_normal", {}),
               ("he_uniform", {}), ("he_normal", {}), ("lecun_normal", {}),
               ("he_normal", {"truncated": True})]
    shape, misses, total = (96, 64), 0, 0
    for seed in range(200):
        tensors = {f"{s}{p}": fastinit.sample(shape, s, seed=seed, stream=k, **p)
                   for k, (s, p) in enumerate(schemes)}
        for (scheme, params), row in zip(schemes, fastinit.audit(tensors).rows):
            label = "he_normal(truncated=True)" if params else scheme
            misses += label not in row.matches or bool(row.flags)
            total += 1
    allowed = int(stats.binom.isf(1e-3, total, ALPHA_BOUND))
    assert misses <= allowed, f"{misses} of {total} correct tensors missed or flagged"
    assert total == 1400 and allowed <= 5


@pytest.mark.parametrize("factor", [0.92, 1.06])
def test_a_scale_a_few_percent_off_matches_nothing_and_names_the_nearest(factor):
    # The same small tensors as above: the test has power there, not only at large sizes.
    # (On this shape he_normal(mode='fan_out') is sqrt(1.5) = 1.22 times he_normal, and
    # lecun_normal 0.71 times: the factors stay well inside the range where he_normal is
    # the nearest.)
    for seed in range(20):
        row = fastinit.audit({"w": fastinit.sample((96, 64), "he_normal", seed=seed) * factor})["w"]
        assert row.matches == () and row.nearest == "he_normal"
        # the rms of 6144 normal values is off by 0.9% (one std) from the scheme's std
        assert row.ratio == pytest.approx(factor, rel=0.04)
    big = fastinit.audit({"w": fastinit.sample((1024, 512), "glorot_uniform", seed=1) * 1.03})["w"]
    assert big.matches == () and big.nearest == "glorot_uniform"
    assert big.ratio == pytest.approx(1.03, rel=0.005)


@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_orthogonal_matrices_are_recognised_with_their_gain(layout):
    for shape, gain in (((256, 128), 1.0), ((64, 32, 3), 2.0)):
        w = fastinit.sample(shape, "orthogonal", layout=layout, gain=gain, seed=3)
        row = fastinit.audit({"w": w}, layout=layout)["w"]
        assert row.matches == ("orthogonal" if gain == 1 else "orthogonal(gain=2)",)


# ---- PyTorch's own init ------------------------------------------------------------------

def test_torch_default_linear_and_conv_init_is_recognised():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    linear, conv = torch.nn.Linear(512, 256), torch.nn.Conv2d(64, 128, 3)
    report = fastinit.audit({"linear.weight": linear.weight, "conv.weight": conv.weight,
                             "linear.bias": linear.bias}, layout="torch")
    # kaiming_uniform_(a=sqrt(5)): bound gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5))
    assert report["linear.weight"].matches == ("fan_in_uniform",)
    assert report["conv.weight"].matches == ("fan_in_uniform",)
    assert report["linear.bias"].role == "vector" and report["linear.bias"].flags == ()


def test_torch_audit_is_the_audit_of_a_modules_parameters_in_the_torch_layout():
    torch = pytest.importorskip("torch")
    import fastinit.torch
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(64 * 30 * 30, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    torch.nn.init.kaiming_normal_(model[3].weight, mode="fan_out", nonlinearity="relu")
    torch.nn.init.zeros_(model[5].weight)
    report = fastinit.torch.audit(model, activation="relu")
    assert report == fastinit.audit(dict(model.named_parameters()), layout="torch",
                                    activation="relu")
    assert [r.name for r in report.rows] == [n for n, _ in model.named_parameters()]
    assert report["0.weight"].matches == ("fan_in_uniform",)
    assert report["3.weight"].matches == ("he_normal(mode='fan_out')",)
    assert [(r.name, [f.code for f in r.flags]) for r in report.flagged] == [("5.weight",
                                                                              ["zero"])]


def test_torch_init_functions_are_recognised_as_the_schemes_they_are():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    init = torch.nn.init
    made = {
        "xavier_uniform_": (init.xavier_uniform_, {}, "glorot_uniform"),
        "xavier_normal_": (init.xavier_normal_, {}, "glorot_normal"),
        "kaiming_uniform_": (init.kaiming_uniform_, {"nonlinearity": "relu"}, "he_uniform"),
        "kaiming_normal_": (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"},
                            "he_normal(mode='fan_out')"),
        "trunc_normal_": (init.trunc_normal_, {"std": 0.02}, "normal(std=0.02)"),  # cut at +-2
    }
    tensors = {name: fn(torch.empty(384, 640), **kw) for name, (fn, kw, _) in made.items()}
    tensors["embedding"] = torch.nn.Embedding(1000, 128).weight
    report = fastinit.audit(tensors, layout="torch")
    for name, (_, _, label) in made.items():
        assert report[name].matches == (label,), report[name]
    assert report["embedding"].matches == ("normal(std=1)",)


def test_jax_initializers_are_recognised_in_the_keras_layout():
    pytest.importorskip("jax")
    # In a child: JAX starts threads, and other tests here fork.
    run = run_python(
        "import json, jax, fastinit\n"
        "init = jax.nn.initializers\n"
        "made = {'glorot_uniform': init.glorot_uniform(),\n"
        "        'he_normal(truncated=True)': init.he_normal(),\n"  # JAX truncates, as Keras
        "        'lecun_normal(truncated=True)': init.lecun_normal(),\n"
        "        'he_uniform': init.he_uniform(), 'orthogonal': init.orthogonal()}\n"
        "key = jax.random.PRNGKey(0)\n"
        "tensors = {label: fn(jax.random.fold_in(key, k), (3, 3, 64, 128), 'float32')\n"
        "           for k, (label, fn) in enumerate(made.items())}\n"
        "print(json.dumps({r.name: r.matches for r in fastinit.audit(tensors).rows}))")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {label: [label] for label in (
        "glorot_uniform", "he_normal(truncated=True)", "lecun_normal(truncated=True)",
        "he_uniform", "orthogonal")}


def test_bfloat16_and_float16_tensors_are_read_and_recognised():
    torch = pytest.importorskip("torch")
    w = fastinit.sample((256, 512), "he_uniform", layout="torch", seed=2)
    tensors = {"bf16": torch.from_numpy(w).to(torch.bfloat16), "f16": w.astype(np.float16)}
    ml_dtypes = pytest.importorskip("ml_dtypes")
    tensors["ml_dtypes"] = w.astype(ml_dtypes.bfloat16)
    report = fastinit.audit(tensors, layout="torch")
    for name in tensors:
        assert report[name].matches == ("he_uniform",), report[name]
    assert report["bf16"].dtype == "bfloat16" and report["ml_dtypes"].dtype == "bfloat16"
    exact = w.astype(ml_dtypes.bfloat16).astype(np.float64)
    assert report["bf16"].std == pytest.approx(exact.std(), rel=1e-12)
    assert report["bf16"].bound == np.abs(exact).max()


def test_tensors_without_float_values_are_listed_and_skipped():
    torch = pytest.importorskip("torch")
    meta = torch.nn.Linear(8, 8, device="meta").weight
    report = fastinit.audit({"steps": np.int64(3), "mask": np.ones(4, bool), "meta": meta})
    assert [r.role for r in report.rows] == ["skipped"] * 3
    assert report["meta"].note == "no values (meta device)"
    assert "not floating point (bool)" in str(report)


# ---- the traps ---------------------------------------------------------------------------

def he(shape=(128, 96), seed=0, layout="keras"):
    return fastinit.sample(shape, "he_normal", seed=seed, layout=layout)


def codes(row):
    return [f.code for f in row.flags]


def test_zero_and_constant_weights_are_the_symmetry_trap():
    report = fastinit.audit({"zero": np.zeros((64, 32), np.float32),
                             "half": np.full((3, 3, 8, 16), 0.5)})
    assert codes(report["zero"]) == ["zero"] and report["zero"].matches == ("zeros",)
    assert codes(report["half"]) == ["constant"]
    assert report["half"].matches == ("constant(value=0.5)",)
    assert "symmetry" in report["half"].flags[0].message


def test_nan_and_inf_are_flagged_and_not_matched():
    nan, inf, bias = he(), he(seed=1), np.zeros(8)
    nan[3, 4] = np.nan
    inf[0, 0], inf[1, 1] = np.inf, -np.inf
    bias[2] = np.nan
    report = fastinit.audit({"nan": nan, "inf": inf, "bias": bias})
    assert [codes(report[k]) for k in ("nan", "inf", "bias")] == [["nonfinite"]] * 3
    assert report["inf"].flags[0].message == "0 NaN and 2 infinite values"
    finite = nan[np.isfinite(nan)].astype(np.float64)
    assert report["nan"].matches == () and report["nan"].std == pytest.approx(finite.std(),
                                                                              rel=1e-9)


@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_duplicated_units_and_inputs_are_flagged_in_either_layout(layout):
    units_axis = 0 if layout == "torch" else 1  # where a unit's weights lie in the matrix
    w = he((96, 128), layout=layout)
    units = np.moveaxis(w, units_axis, 0)  # a view: writing it writes w
    units[40] = units[7]
    inputs = np.moveaxis(w, 1 - units_axis, 0)
    inputs[5] = inputs[3]
    inputs[9] = inputs[3]
    row = fastinit.audit({"w": w}, layout=layout)["w"]
    assert codes(row) == ["duplicate_units", "duplicate_inputs"]
    assert "7 = 40" in row.flags[0].message and "3 = 5 = 9" in row.flags[1].message
    assert row.matches == ("he_normal",)  # still recognised: two copied lines change little


@pytest.mark.parametrize("layout", ["keras", "torch"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_short_lines_equal_by_chance_are_not_duplicates(layout, dtype):
    # A head with one or two outputs (Linear(8192, 1), Dense(2)): its lines along the
    # inputs hold one or two values, which thousands of random draws repeat by chance
    # (bfloat16 has 128 values per octave), so they say nothing about the init.
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")
    for outputs in (1, 2):
        shape = (outputs, 8192) if layout == "torch" else (8192, outputs)
        w = fastinit.sample(shape, "fan_in_uniform", layout=layout, dtype=dtype, seed=1)
        row = fastinit.audit({"w": w}, layout=layout)["w"]
        assert "fan_in_uniform" in row.matches and row.flags == (), (shape, row)
    # Long lines are still compared: two equal units of that head are flagged.
    units = np.moveaxis(fastinit.sample(shape, "fan_in_uniform", layout=layout, dtype=dtype,
                                        seed=1), 0 if layout == "torch" else 1, 0)
    units[1] = units[0]
    row = fastinit.audit({"w": np.moveaxis(units, 0, 0 if layout == "torch" else 1)},
                         layout=layout)["w"]
    assert codes(row) == ["duplicate_units"]


def test_conv_units_are_compared_over_their_whole_receptive_field():
    w = fastinit.sample((32, 16, 3, 3), "he_normal", layout="torch", seed=4)
    w[5] = w[2]  # output channel 5 = channel 2 (all of in x kh x kw)
    w[6, :, 0, 0] = w[3, :, 0, 0]  # equal in one position only: not duplicates
    row = fastinit.audit({"w": w}, layout="torch")["w"]
    assert codes(row) == ["duplicate_units"] and "2 = 5:" in row.flags[0].message


def test_glorot_normal_with_variance_1_over_fan_sum_is_the_classic_slip():
    fi, fo = 512, 192
    slip = fastinit.sample((fi, fo), "normal", std=math.sqrt(1 / (fi + fo)), seed=5)
    keras_slip = fastinit.sample((fi, fo), "truncated_normal", seed=6,
                                 std=math.sqrt(1 / (fi + fo)) / TRUNCATED_STD)
    right = fastinit.sample((fi, fo), "glorot_normal", seed=5)
    report = fastinit.audit({"slip": slip, "keras_slip": keras_slip, "right": right})
    assert codes(report["slip"]) == ["glorot_normal_slip"]
    assert codes(report["keras_slip"]) == ["glorot_normal_slip"]
    assert "sqrt(2)" in report["slip"].flags[0].message
    assert codes(report["right"]) == []


def stack(scheme, layers, width=256, **params):
    return {f"layers.{k}.weight": fastinit.sample((width, width), scheme, seed=k, **params)
            for k in range(layers)}


def test_he_under_tanh_is_flagged_at_any_depth():
    for activation in ("tanh", "sigmoid", "selu", "linear"):
        report = fastinit.audit(stack("he_normal", 2), activation=activation)
        assert all(codes(r) == ["unsuited"] for r in report.rows)
    assert all(codes(r) == [] for r in fastinit.audit(stack("he_normal", 2),
                                                      activation="relu").rows)
    assert all(codes(r) == [] for r in fastinit.audit(stack("glorot_uniform", 30),
                                                      activation="tanh").rows)
    near = fastinit.audit({"w": fastinit.sample((256, 256), "he_normal", seed=0) * 1.04},
                          activation="tanh")["w"]
    assert near.matches == () and codes(near) == ["unsuited"]  # judged as its nearest
    assert near.flags[0].message.startswith("he_normal x1.04 under tanh")
    far = fastinit.audit({"w": fastinit.sample((256, 256), "he_normal", seed=0) * 1.1},
                         activation="tanh")["w"]
    assert far.nearest == "he_normal" and codes(far) == []


def test_glorot_under_relu_is_flagged_from_the_depth_where_the_signal_is_gone():
    # Glorot on square layers has variance 1/width; ReLU keeps half of it, so the std
    # falls by sqrt(2) per layer: below 1e-3 of its start after 20 layers.
    assert not any(r.flags for r in fastinit.audit(stack("glorot_uniform", 19),
                                                   activation="relu").rows)
    deep = fastinit.audit(stack("glorot_uniform", 20), activation="relu")
    assert all(codes(r) == ["unsuited"] for r in deep.rows)
    assert "after 20 layers" in deep.rows[0].flags[0].message
    # PyTorch's default, variance 1/(3 width): sqrt(6) per layer, 8 layers
    assert not any(r.flags for r in fastinit.audit(stack("fan_in_uniform", 7),
                                                   activation="gelu").rows)
    assert all(codes(r) == ["unsuited"] for r in fastinit.audit(stack("fan_in_uniform", 8),
                                                                activation="gelu").rows)


# ---- what is described -------------------------------------------------------------------

def test_biases_and_norm_scales_are_described_not_judged():
    report = fastinit.audit({"bias": np.zeros(64), "norm": np.ones(64, np.float32),
                             "scale": np.float32(2.0),
                             "random_bias": fastinit.sample(64, "fan_in_uniform", seed=1)})
    assert [r.role for r in report.rows] == ["vector"] * 4
    assert [r.matches for r in report.rows] == [("zeros",), ("ones",), ("constant(value=2)",), ()]
    assert all(r.flags == () and r.fan_in is None and r.nearest is None for r in report.rows)
    assert report["random_bias"].std == pytest.approx(
        fastinit.sample(64, "fan_in_uniform", seed=1).std(), rel=1e-6)


def test_a_weight_too_small_to_judge_says_so():
    row = fastinit.audit({"w": fastinit.sample((8, 8), "he_normal", seed=0)})["w"]
    assert row.matches == () and row.nearest is None and "too few values (64)" in row.note


def test_report_rows_are_data_and_print_as_a_table():
    report = fastinit.audit([("enc.weight", he()), ("enc.bias", np.zeros(96)),
                             ("dec.weight", np.zeros((96, 10)))], activation="relu")
    data = json.loads(json.dumps(report.to_dict()))
    assert [r["name"] for r in data["rows"]] == ["enc.weight", "enc.bias", "dec.weight"]
    assert data["rows"][2]["flags"][0]["code"] == "zero"
    assert report.flagged == (report["dec.weight"],)
    text = str(report)
    assert "3 tensors, layout keras, activation relu" in text
    assert "enc.weight" in text and "he_normal" in text and "128/96" in text
    assert "1 flags on 1 tensors:\n  dec.weight: zero: every value is 0" in text


@pytest.mark.parametrize("args, kwargs, error, words", [
    ((np.zeros((4, 4)),), {}, TypeError, "mapping of name -> array"),
    (({"w": he()},), {"layout": "tf"}, ValueError, "layout must be"),
    (({"w": he()},), {"activation": "swish"}, ValueError, "activation must be one of"),
    (([("w",)],), {}, TypeError, "mapping of name -> array"),
])
def test_bad_arguments_say_what_is_wrong(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        fastinit.audit(*args, **kwargs)


# ---- checkpoints -------------------------------------------------------------------------

def checkpoint_tensors():
    """A small model in the torch layout with one of each kind of row, and its traps."""
    return {
        "embed.weight": fastinit.sample((1000, 64), "normal", std=0.02, seed=1),
        "layers.0.weight": fastinit.sample((256, 64), "he_uniform", layout="torch", seed=2),
        "layers.0.bias": np.zeros(256, np.float32),
        "layers.1.weight": fastinit.sample((64, 256), "glorot_normal", layout="torch",
                                           seed=3).astype(np.float16),
        "layers.1.bias": np.zeros((64, 256), np.float64),
        "norm.weight": np.ones(64, np.float32),
        "steps": np.array([12], np.int64),
    }


def test_a_safetensors_file_is_audited_like_the_arrays_it_holds(tmp_path):
    numpy_writer = pytest.importorskip("safetensors.numpy")
    from fastinit._read_safetensors import read_safetensors
    tensors = checkpoint_tensors()
    numpy_writer.save_file(tensors, tmp_path / "model.safetensors", metadata={"by": "test"})
    read = read_safetensors(tmp_path / "model.safetensors")
    assert sorted(read) == sorted(tensors)
    from_file = fastinit.audit(read, layout="torch")
    from_memory = fastinit.audit(tensors, layout="torch")
    assert sorted(from_file.rows, key=lambda r: r.name) == sorted(from_memory.rows,
                                                                  key=lambda r: r.name)
    assert from_file["layers.0.weight"].matches == ("he_uniform",)
    assert from_file["layers.1.weight"].matches == ("glorot_normal",)
    assert codes(from_file["layers.1.bias"]) == ["zero"]
    assert from_file["steps"].note == "not floating point (int64)"


def test_bfloat16_in_a_safetensors_file_is_widened_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    torch_writer = pytest.importorskip("safetensors.torch")
    from fastinit._read_safetensors import read_safetensors
    w = torch.from_numpy(fastinit.sample((128, 384), "he_normal", layout="torch",
                                         seed=9)).to(torch.bfloat16)
    torch_writer.save_file({"w": w, "b": torch.zeros(128, dtype=torch.bfloat16)},
                           tmp_path / "bf16.safetensors")
    read = read_safetensors(tmp_path / "bf16.safetensors")
    widened = (read["w"].values.astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(widened, w.float().numpy())  # the same values, bit for bit
    report = fastinit.audit(read, layout="torch")
    assert report["w"].matches == ("he_normal",) and report["w"].dtype == "bfloat16"
    assert report["w"] == fastinit.audit({"w": w}, layout="torch")["w"]


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[:5], "not a safetensors file"),
    (lambda b: (2**40).to_bytes(8, "little") + b[8:], "not a safetensors file"),
    (lambda b: b[:8] + b"}" + b[9:], "header is not JSON"),
    (lambda b: b[:-4], "a truncated file"),
])
def test_a_damaged_safetensors_file_is_refused_with_its_name(tmp_path, damage, words):
    numpy_writer = pytest.importorskip("safetensors.numpy")
    from fastinit._read_safetensors import FormatError, read_safetensors
    good = tmp_path / "good.safetensors"
    numpy_writer.save_file({"w": np.ones((4, 4), np.float32)}, good)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(FormatError, match=words) as error:
        read_safetensors(bad)
    assert str(bad) in str(error.value)
