"""The bytes written never depend on threads; the pool survives concurrency,
fork and Ctrl-C."""
import multiprocessing
import os
import textwrap
import threading

import numpy as np
import pytest

import c_core
import fastinit
from conftest import filled, run_python

N = (1 << 20) + 7  # large enough that 8 threads each get a share


@pytest.mark.parametrize("scheme", ["uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_bytes(on_threads, scheme, dtype):
    results = [on_threads(t, filled, N, scheme, dtype, seed=42, stream=3) for t in (1, 2, 3, 8)]
    for other in results[1:]:
        np.testing.assert_array_equal(results[0].view(np.uint8), other.view(np.uint8))


def test_raw_words_do_not_depend_on_threads(on_threads, monkeypatch):
    def raw(threads):  # random_raw runs on the default thread count
        monkeypatch.setattr(fastinit._threads, "DEFAULT", threads)
        return fastinit.random_raw(N, seed=1, stream=2, start=3)
    np.testing.assert_array_equal(on_threads(1, raw), on_threads(7, raw))


def test_environment_sets_default_threads():
    code = "import fastinit; print(fastinit.get_config()['threads'])"
    run = run_python(code, FASTINIT_NUM_THREADS="1")
    assert run.stdout.strip() == "1", run.stderr
    run = run_python(code, FASTINIT_NUM_THREADS="100000")
    assert run.stdout.strip() == str(os.cpu_count()), run.stderr


def test_threads_beyond_the_cpus_are_clamped_to_them():
    assert fastinit.get_config()["max_threads"] == os.cpu_count()
    assert fastinit._threads.resolve(10**6) == os.cpu_count()
    # Accepted, not refused: the values are those of any other thread count.
    np.testing.assert_array_equal(filled(N, "uniform", seed=8, threads=10**6),
                                  filled(N, "uniform", seed=8, threads=1))


def test_python_threads_may_fill_at_once():
    seeds = range(8)
    expected = {s: filled(N // 4, "normal", seed=s, threads=1) for s in seeds}
    errors = []

    def work(s):
        for _ in range(5):
            got = filled(N // 4, "normal", seed=s, threads=2)
            if not np.array_equal(got, expected[s]):
                errors.append(s)

    workers = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []


def _fill_in_child(queue):
    got = filled(N, "uniform", seed=5, threads=2)
    queue.put(got[:: 1 << 12].tobytes())


def test_fork_after_fills_still_fills():
    filled(N, "uniform", seed=1, threads=2)  # starts the pool's workers in the parent
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_fill_in_child, args=(queue,))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("a forked child deadlocked in fill")
    assert child.exitcode == 0
    assert queue.get(timeout=10) == filled(N, "uniform", seed=5)[:: 1 << 12].tobytes()


# The pool below the clamp of fills (which keeps fills at the CPU count), through the C
# driver tests/c/pool_check.c, which calls it directly and counts what its workers do.
needs_cc = pytest.mark.skipif(not c_core.have(c_core.host_cc()), reason="needs a C compiler")


def pool_check(c_program, check):
    return c_core.run(c_program(c_core.host_cc(), "pool_check.c"), check, timeout=60)


@needs_cc
def test_new_workers_join_the_job_they_were_started_for(c_program):
    # Each job needs more workers than the pool has, so it starts new ones; a worker
    # that first runs after its job was published must still take parts. A fresh
    # process each time: the pool grows only once in a process.
    for attempt in range(10):
        assert pool_check(c_program, "grow") == "ok\n"


@needs_cc
def test_a_fill_asked_for_64_threads_starts_workers_for_the_cpus_only(c_program):
    assert pool_check(c_program, "clamp") == f"max_threads {os.cpu_count()}\nok\n"


@needs_cc
def test_a_job_wakes_only_the_workers_it_uses(c_program):
    # After a job on 16 threads, the 14 workers that jobs on 2 threads leave out
    # sleep: every later fill would otherwise wake (and spin) all of them.
    assert pool_check(c_program, "wake") == "ok\n"


def test_ctrl_c_interrupts_a_large_fill_quickly():
    script = textwrap.dedent("""
        import os, signal, threading, time
        import numpy as np
        import fastinit
        # As in a terminal, also where this runs as a background job (which starts with
        # SIGINT ignored, so Python would install no KeyboardInterrupt handler).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # 4 GiB of the slowest kind on 1 thread: seconds of work, so the signal always
        # comes in the middle; only the part written before it is ever touched.
        a = np.empty(1 << 29, dtype=np.float64)
        sent = []
        def interrupt():
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)
        threading.Timer(0.3, interrupt).start()
        try:
            fastinit.fill(a, "truncated_normal", seed=1, threads=1)
            print("NOT INTERRUPTED")
        except KeyboardInterrupt:
            print("LATENCY", time.perf_counter() - sent[0])
        b = fastinit.fill(np.empty(1000), "normal", seed=2)
        c = fastinit.fill(np.empty(1000), "normal", seed=2, threads=1)
        print("HEALTHY", bool(np.array_equal(b, c)))
    """)
    out = run_python(script).stdout
    assert "NOT INTERRUPTED" not in out, out
    latency = float(out.split("LATENCY")[1].split()[0])
    assert latency < 0.5, out  # a chunk takes ~30 ms on a quiet machine; allow for load
    assert "HEALTHY True" in out, out
