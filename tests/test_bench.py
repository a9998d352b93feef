"""`python -m fastinit bench` runs end to end (on tiny sizes: its numbers are not
checked here, only that every part of it runs and reports)."""
import importlib.util
import json
import os

import pytest

from conftest import run_python


def test_bench_runs_and_reports_every_part():
    run = run_python("import sys; from fastinit import _bench; "
                     "sys.exit(_bench.main(['--size', '2**16', '--repeat', '1', '--no-torch', "
                     "'--peak-gib', '0.01', '--json']))", timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    cases = {(r["case"], r["dtype"], r["threads"]) for r in report["rows"]}
    threads = sorted({1, report["config"]["threads"]})
    assert cases == {(c, d, t) for c in ("glorot_uniform", "he_normal", "truncated_normal")
                     for d in ("float32", "float64", "bfloat16") for t in threads}
    assert all(r["fastinit_gbs"] > 0 and r["memset_gbs"] > 0 for r in report["rows"])
    assert all(r["fastinit_gelems"] * 1e9 * r["bytes"] / r["elements"]
               == pytest.approx(r["fastinit_gbs"] * 1e9) for r in report["rows"])
    assert any("bfloat16" in t["what"] and "vs float32" in t["what"] for t in report["targets"])
    assert [s["elements"] for s in report["small_fills"]] == [16, 1024]
    assert set(report["peak_memory"]) == {"glorot_uniform", "he_normal", "truncated_normal"}
    assert report["targets"] and all("met" in t for t in report["targets"])


def test_bench_table_is_printed():
    run = run_python("import sys; from fastinit import _bench; "
                     "sys.exit(_bench.main(['--size', '2**14', '--repeat', '1', '--no-torch', "
                     "'--quick', '--dtype', 'float32', '--case', 'he_normal']))", timeout=120)
    assert run.returncode == 0, run.stderr
    assert "he_normal" in run.stdout and "targets:" in run.stdout
    assert "issue" not in run.stdout  # targets speak of the project, not of work items


def test_jax_bench_runs_and_reports_every_model():
    # Not imported here: Keras would pick its backend in this process.
    for library in ("flax", "keras"):
        if importlib.util.find_spec(library) is None:
            pytest.skip(f"{library} is not installed")
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks", "bench_jax.py")
    args = ["--params", "2e5", "--repeat", "1", "--keras-backend", "numpy", "--json"]
    run = run_python(f"import runpy, sys; sys.argv = [{script!r}, *{args!r}]; "
                     f"runpy.run_path({script!r}, run_name='__main__')", timeout=300)
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)["rows"]
    assert [r["model"] for r in rows] == ["flax mlp", "flax transformer", "keras mlp (numpy)"]
    assert all(1e5 < r["params"] < 4e5 and r["fastinit_s"] > 0 for r in rows)
