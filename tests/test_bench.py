"""`python -m fastinit bench` runs end to end (on tiny sizes: its numbers are not
checked here, only that every part of it runs and reports)."""
import json

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
    assert "he_normal" in run.stdout and "targets (issues 4 and 11)" in run.stdout
