"""The command line: `fastinit` (the console script) and `python -m fastinit`, each run
in a fresh process as a user runs it."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import fastinit

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
TESTS = os.path.dirname(os.path.abspath(__file__))
# The example ships in the sdist beside tests/; the tests run from a checkout or an sdist.
EXAMPLE = os.path.join(os.path.dirname(TESTS), "examples", "tiny_llama.json")


def python_m(*args, timeout=120):
    """`python -m fastinit ARGS`, started outside the source tree."""
    return subprocess.run([sys.executable, "-m", "fastinit", *map(str, args)],
                          env={**os.environ, "PYTHONPATH": PACKAGE_PARENT}, cwd=TESTS,
                          capture_output=True, text=True, timeout=timeout)


def in_process(*args, capsys):
    """(exit code, stdout, stderr) of the command run in this process, as cli() runs it;
    quicker than a new interpreter for the many error cases."""
    from fastinit.__main__ import main
    try:
        code = main([str(a) for a in args], prog="fastinit")
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def console_script(tmp_path):
    """The installed `fastinit` script, or in a source checkout one written as pip writes
    it (it calls fastinit.__main__:cli, the entry point in pyproject.toml)."""
    installed = os.path.join(os.path.dirname(sys.executable), "fastinit")
    if os.path.exists(installed):
        return installed
    assert os.environ.get("FASTINIT_TEST_INSTALLED") != "1", f"{installed} is missing"
    script = tmp_path / "fastinit"
    script.write_text(f"#!{sys.executable}\nimport re, sys\nfrom fastinit.__main__ import cli\n"
                      f"if __name__ == '__main__':\n"
                      f"    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                      f"    sys.exit(cli())\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["init", "--help"], ["bench", "--help"],
                                  ["config", "--help"], ["propagate", "--help"],
                                  ["audit", "--help"]])
def test_help_of_the_command_and_of_every_subcommand(args):
    run = python_m(*args)
    assert run.returncode == 0 and run.stderr == ""
    usage = "usage: python -m fastinit" + (f" {args[0]}" if args[0] not in ("-h", "--help") else "")
    assert run.stdout.startswith(usage), run.stdout


def test_bench_model_hands_its_options_to_the_model_benchmark():
    pytest.importorskip("torch")
    run = python_m("bench", "--model", "--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: python -m fastinit bench --model"), run.stdout
    assert "--layers" in run.stdout and "--method" in run.stdout


def test_help_lists_every_subcommand():
    out = python_m("--help").stdout
    for command in ("init", "bench", "config", "propagate", "audit"):
        assert f"    {command} " in out


def test_version():
    run = python_m("--version")
    assert run.returncode == 0 and run.stdout == f"python -m fastinit {fastinit.__version__}\n"


def test_bare_command_prints_help_and_exits_at_once():
    start = time.monotonic()
    run = python_m()
    assert run.returncode == 0 and run.stdout.startswith("usage: python -m fastinit")
    assert time.monotonic() - start < 10  # it used to start a 40-second benchmark


def test_console_script_names_itself_fastinit(tmp_path):
    run = subprocess.run([console_script(tmp_path), "--help"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": PACKAGE_PARENT}, cwd=TESTS)
    assert run.returncode == 0 and run.stdout.startswith("usage: fastinit "), run.stdout


def test_unknown_subcommand_is_a_usage_error():
    run = python_m("frobnicate")
    assert run.returncode == 2 and "invalid choice: 'frobnicate'" in run.stderr


def test_config_as_text_and_json():
    text, as_json = python_m("config"), python_m("config", "--json")
    assert text.returncode == 0 and as_json.returncode == 0
    config = json.loads(as_json.stdout)
    assert config["version"] == fastinit.__version__ and "simd" in config
    assert f"version: {fastinit.__version__}\n" in text.stdout


def test_bench_runs_as_a_subcommand():
    run = python_m("bench", "--size", "2**12", "--repeat", "1", "--no-torch", "--quick",
                   "--dtype", "float32", "--case", "glorot_uniform", "--threads", "1")
    assert run.returncode == 0, run.stderr
    assert "glorot_uniform" in run.stdout and "targets:" in run.stdout


def test_init_writes_the_shipped_example(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    pytest.importorskip("ml_dtypes")  # NumPy's bfloat16, to read the example's tensors
    assert os.path.exists(EXAMPLE), "examples/tiny_llama.json ships with the tests"
    run = python_m("init", EXAMPLE, "-o", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no bar: stderr is not a terminal
    path = tmp_path / "model.safetensors"
    with open(EXAMPLE) as f:
        spec = json.load(f)
    assert run.stdout.startswith(f"wrote {len(spec['tensors'])} tensors, ")
    assert "seed 0:" in run.stdout and str(path) in run.stdout
    with safetensors.safe_open(path, framework="np") as f:
        assert list(f.keys()) == sorted(spec["tensors"])
        assert f.metadata()["model"] == spec["metadata"]["model"]
        assert f.metadata()["fastinit_seed"] == "0"
        for name in ("model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight",
                     "model.norm.weight"):
            t = dict(spec["tensors"][name])
            shape, scheme = t.pop("shape"), t.pop("scheme")
            want = fastinit.sample(shape, scheme, dtype=spec["dtype"], seed=0, stream=name, **t)
            got = f.get_tensor(name)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got.view(np.uint16), want.view(np.uint16))


def test_init_reports_the_bytes_of_a_file_of_any_name(tmp_path, capsys):
    from fastinit._progress import _size
    out = tmp_path / "weights.bin"  # a file name of the user's, not ending in .safetensors
    code, text, _ = in_process("init", EXAMPLE, "-o", out, capsys=capsys)
    assert code == 0
    with open(EXAMPLE) as f:
        count = len(json.load(f)["tensors"])
    assert text.startswith(f"wrote {count} tensors, {_size(out.stat().st_size)} in "), text


def test_init_options_seed_dtype_shards_quiet_overwrite(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"tensors": {
        f"w{i}": {"shape": [64, 64], "scheme": "he_normal", "dtype": "float32"}
        for i in range(4)}}))
    out = tmp_path / "ckpt"
    run = python_m("init", spec, "-o", out, "--seed", "7", "--dtype", "float64",
                   "--max-shard-size", "40kB", "--quiet")  # float32 in SPEC, float64 written
    assert run.returncode == 0 and run.stdout == "" and run.stderr == "", run.stderr
    assert sorted(os.listdir(out)) == ["model-00001-of-00004.safetensors",
                                       "model-00002-of-00004.safetensors",
                                       "model-00003-of-00004.safetensors",
                                       "model-00004-of-00004.safetensors",
                                       "model.safetensors.index.json"]
    with safetensors.safe_open(out / "model-00003-of-00004.safetensors", framework="np") as f:
        assert np.array_equal(f.get_tensor("w2"), fastinit.sample(
            (64, 64), "he_normal", dtype="float64", seed=7, stream="w2"))
    again = python_m("init", spec, "-o", out, "--max-shard-size", "40kB", "--quiet")
    assert again.returncode == 1 and "--overwrite" in again.stderr
    again = python_m("init", spec, "-o", out, "--quiet", "--overwrite", "--max-shard-size", "1GB")
    assert again.returncode == 0 and os.listdir(out) == ["model.safetensors"]


def test_init_dtype_replaces_floating_dtypes_and_keeps_integer_ones(tmp_path, capsys):
    safetensors = pytest.importorskip("safetensors")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"dtype": "float32", "tensors": {
        "w": {"shape": [3], "scheme": "normal"},
        "step": {"shape": [], "dtype": "int64", "scheme": "constant", "value": 5},
        "mask": {"shape": [2], "dtype": "bool", "scheme": "ones"}}}))
    out = tmp_path / "m.safetensors"
    code, _, err = in_process("init", spec, "-o", out, "--dtype", "float64", "--quiet",
                              capsys=capsys)
    assert code == 0, err
    with safetensors.safe_open(out, framework="np") as f:
        assert f.get_tensor("w").dtype == np.float64
        step, mask = f.get_tensor("step"), f.get_tensor("mask")
        assert step.dtype == np.int64 and step.shape == () and step == 5
        assert mask.dtype == np.bool_ and mask.tolist() == [True, True]


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ('{"tensors": {"ids": {"shape": [4], "dtype": "int64", "scheme": "normal"}}}',
     "tensors['ids']: scheme 'normal' gives floating-point values, and the tensor is int64"),
    ('{"tensors": {"w": {"shape": [4], "dtype": "float32", "scheme": "nromal"}}}',
     "tensors['w']: unknown scheme 'nromal'. Did you mean 'normal'"),
    ('{"tensors": {"w": {"shape": [4, -2], "dtype": "float32", "scheme": "normal"}}}',
     "tensors['w']: shape[1] must be >= 0, got -2"),
    ('{"tensors": {"w": {"shape": 4, "dtype": "float32", "scheme": "normal"}}}',
     "tensors['w']: \"shape\" must be a list"),
    ('{"tensors": {"w": {"shape": [4], "scheme": "normal"}}}', "missing 'dtype'"),
    ('{"tensors": {"w": {"shape": [4], "dtype": "float32", "scheme": "normal", "sdt": 1}}}',
     "does not take sdt"),
    ('{"tensor": {}}', "unknown top-level key 'tensor'"),
    ('[1, 2]', "a fastinit spec is a JSON object"),
    ('{"seed": "zero", "tensors": {}}', "\"seed\" must be an integer"),
    ('{"metadata": {"n": 1}, "tensors": {}}', "\"metadata\" must be an object of strings"),
])
def test_a_bad_spec_is_a_clear_error_with_exit_code_2(tmp_path, capsys, content, words):
    spec = tmp_path / "spec.json"
    spec.write_text(content)
    code, out, err = in_process("init", spec, "-o", tmp_path / "out.safetensors", capsys=capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"fastinit init: error: {spec}: ") and words in err, err
    assert sorted(os.listdir(tmp_path)) == ["spec.json"]


def test_a_bad_spec_file_exits_with_code_2_from_the_command(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"tensors": {"w": {"shape": [4], "dtype": "float32", "scheme": "nromal"}}}')
    run = python_m("init", spec, "-o", tmp_path / "out.safetensors")
    assert run.returncode == 2 and "unknown scheme 'nromal'" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_missing_spec_file_is_exit_code_2(tmp_path, capsys):
    code, _, err = in_process("init", tmp_path / "nowhere.json", "-o", tmp_path / "out",
                              capsys=capsys)
    assert code == 2 and "cannot read SPEC" in err


@pytest.mark.parametrize("args, words", [(["--seed", "-1"], "--seed"),
                                         (["--dtype", "int8"], "--dtype"),
                                         (["--max-shard-size", "5 parsecs"], "--max-shard-size")])
def test_bad_options_are_usage_errors(tmp_path, capsys, args, words):
    code, _, err = in_process("init", EXAMPLE, "-o", tmp_path / "out.safetensors", *args,
                              capsys=capsys)
    assert code == 2 and words in err
    assert os.listdir(tmp_path) == []


def test_a_huggingface_config_without_transformers_says_what_it_needs(tmp_path, capsys,
                                                                       monkeypatch):
    # With them, tests/test_torch_save.py writes the model of a config.json.
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers fails
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                                  "hidden_size": 64}))
    code, _, err = in_process("init", config, "-o", tmp_path / "out", capsys=capsys)
    assert code == 2
    assert "Hugging Face config.json" in err and "PyTorch and transformers" in err
    assert sorted(os.listdir(tmp_path)) == ["config.json"]


def test_a_failed_write_is_exit_code_1(tmp_path, capsys):
    code, _, err = in_process("init", EXAMPLE, "-o", tmp_path / "missing" / "model.safetensors",
                              capsys=capsys)
    assert code == 1 and "does not exist" in err


# ---- fastinit propagate ----------------------------------------------------------------

def test_propagate_prints_where_each_scheme_vanishes_and_draws_the_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib import image
    plot = tmp_path / "out.png"
    run = python_m("propagate", "--depth", 50, "--width", 512, "--activation", "relu",
                   "--scheme", "he_normal", "--scheme", "glorot_uniform",
                   "--scheme", "normal:std=0.01", "--plot", plot)
    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line for line in run.stdout.splitlines() if line}
    assert "vanishes at 20" in rows["glorot_uniform"] and "vanishes at 4" in rows["normal:std=0.01"]
    assert "vanishes" not in rows["he_normal"] and "explodes" not in rows["he_normal"]
    assert run.stdout.endswith(f"plot: {plot}\n")
    pixels = image.imread(plot)
    assert pixels.shape[1] > 2 * pixels.shape[0] > 200  # two panels abreast


def test_propagate_json_is_the_report_of_fastinit_propagate(capsys):
    code, out, err = in_process("propagate", "--depth", 6, "--width", 32, "--batch", 8,
                                "--activation", "tanh", "--scheme", "glorot_normal",
                                "--scheme", "normal:std=0.5", "--seed", 3, "--dtype", "float64",
                                "--json", capsys=capsys)
    assert code == 0 and err == ""
    report = fastinit.propagate(6, 32, activation="tanh", batch=8, seed=3, dtype="float64",
                                schemes=["glorot_normal", "normal:std=0.5"])
    assert json.loads(out) == json.loads(json.dumps(report.to_dict()))


@pytest.mark.parametrize("args, words", [
    (["--activation", "relu", "--scheme", "he_nromal"], "unknown scheme 'he_nromal'"),
    (["--activation", "relu", "--scheme", "normal:sd=1"], "does not take sd"),
    (["--activation", "relu", "--scheme", "he_normal", "--depth", "0"], "depth must be"),
    (["--activation", "relu", "--scheme", "he_normal", "--dtype", "int8"], "int8"),
    (["--activation", "swish", "--scheme", "he_normal"], "invalid choice: 'swish'"),
    (["--activation", "relu"], "the following arguments are required: --scheme"),
])
def test_propagate_bad_options_are_usage_errors(capsys, args, words):
    code, out, err = in_process("propagate", "--width", 8, "--batch", 4, *args, capsys=capsys)
    assert code == 2 and words in err and out == ""


def test_propagate_says_at_once_that_a_plot_needs_matplotlib(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, out, err = in_process("propagate", "--activation", "relu", "--scheme", "he_normal",
                                "--plot", tmp_path / "out.png", capsys=capsys)
    assert code == 2 and "pip install 'fastinit[plot]'" in err and out == ""
    code, out, err = in_process("propagate", "--activation", "relu", "--scheme", "he_normal",
                                "--plot", tmp_path / "missing" / "out.png", capsys=capsys)
    assert code == 2


# ---- fastinit audit --------------------------------------------------------------------

def test_audit_reads_the_checkpoint_that_init_writes(tmp_path, capsys):
    pytest.importorskip("ml_dtypes")  # fastinit init writes the example in bfloat16
    assert in_process("init", EXAMPLE, "-o", tmp_path, "--quiet", capsys=capsys)[0] == 0
    code, out, err = in_process("audit", tmp_path, "--json", capsys=capsys)
    assert code == 0 and err == ""
    rows = {row["name"]: row for row in json.loads(out)["rows"]}
    with open(EXAMPLE) as f:
        spec = json.load(f)["tensors"]
    assert sorted(rows) == sorted(spec)
    for name, tensor in spec.items():
        want = ["normal(std=0.02)"] if tensor["scheme"] == "normal" else ["ones"]
        assert rows[name]["matches"] == want and rows[name]["flags"] == [], rows[name]
        assert rows[name]["dtype"] == "bfloat16"


def test_audit_prints_the_table_and_the_flags_of_a_safetensors_file(tmp_path):
    numpy_writer = pytest.importorskip("safetensors.numpy")
    tensors = {"fc1.weight": fastinit.sample((256, 128), "he_normal", layout="torch", seed=1),
               "fc1.bias": np.zeros(256, np.float32),
               "fc2.weight": np.zeros((10, 256), np.float32)}
    numpy_writer.save_file(tensors, tmp_path / "model.safetensors")
    run = python_m("audit", tmp_path / "model.safetensors", "--activation", "relu")
    assert run.returncode == 0, run.stderr
    in_file_order = dict(sorted(tensors.items()))  # safetensors' writer sorts them by name
    assert run.stdout == str(fastinit.audit(in_file_order, layout="torch",
                                            activation="relu")) + "\n"
    assert "fc2.weight: zero: every value is 0" in run.stdout


def test_audit_of_shards_sees_every_tensor_and_refuses_a_name_twice(tmp_path, capsys):
    numpy_writer = pytest.importorskip("safetensors.numpy")
    a, b = np.zeros(4, np.float32), np.ones(4, np.float32)
    numpy_writer.save_file({"a": a}, tmp_path / "model-00001-of-00002.safetensors")
    numpy_writer.save_file({"b": b}, tmp_path / "model-00002-of-00002.safetensors")
    code, out, _ = in_process("audit", tmp_path, "--json", capsys=capsys)
    assert code == 0 and [r["name"] for r in json.loads(out)["rows"]] == ["a", "b"]
    numpy_writer.save_file({"a": b}, tmp_path / "model-copy.safetensors")
    code, out, err = in_process("audit", tmp_path, capsys=capsys)
    assert code == 2 and "holds a, which an earlier file holds too" in err


def test_audit_of_a_damaged_or_missing_file_says_which(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    code, _, err = in_process("audit", bad, capsys=capsys)
    assert code == 2 and f"{bad}: not a safetensors file" in err
    code, _, err = in_process("audit", tmp_path / "missing.safetensors", capsys=capsys)
    assert code == 1 and "missing.safetensors" in err
    (tmp_path / "empty").mkdir()
    code, _, err = in_process("audit", tmp_path / "empty", capsys=capsys)
    assert code == 2 and "holds no .safetensors file" in err
