"""`python -m fastinit bench`: how fast fastinit fills a buffer, next to NumPy, PyTorch
(when installed) and memset of the same buffer (the speed of memory itself).

Every method writes the same pre-faulted buffer, so page faults count for none of
them; every time is the median of several repetitions, all taken in one run so
that the ratios compare like with like on a shared, noisy machine.
"""
import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
import timeit
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import fastinit
from fastinit import _dtypes, _fill

DTYPES = ("float32", "float64", "bfloat16")
TRUNC_STD = 0.02  # a transformer-style truncated normal: std 0.02, cut at +-2 std


def median_seconds(run, repeat):
    """Median time of `repeat` runs; 3 runs at most of anything that takes over a second
    (PyTorch's truncated normal of 256 MiB takes several)."""
    times = []
    while len(times) < (repeat if not times or times[0] < 1.0 else min(repeat, 3)):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


MEMSET_BYTE = 0x5A  # not zero: some CPUs store zeros faster than any other pattern


def memset_seconds(buf, threads, repeat):
    """libc memset of the buffer with a non-zero byte, split in `threads` contiguous
    parts run at once (ctypes releases the GIL during the call)."""
    parts = np.array_split(buf.reshape(-1), threads)
    with ThreadPoolExecutor(threads) as pool:
        def run():
            list(pool.map(lambda p: ctypes.memset(p.ctypes.data, MEMSET_BYTE, p.nbytes), parts))
        return median_seconds(run, repeat)


# ---- the cases: what fastinit, NumPy and PyTorch users write for the same values ----

def fans(buf):
    return fastinit.compute_fans(buf.shape)


# Python floats, not NumPy float64 scalars: those would make NumPy compute in float64.
def numpy_glorot_uniform(rng, buf):
    bound = math.sqrt(6 / sum(fans(buf)))
    rng.random(out=buf, dtype=buf.dtype)
    buf *= 2 * bound
    buf -= bound


def numpy_he_normal(rng, buf):
    rng.standard_normal(out=buf, dtype=buf.dtype)
    buf *= math.sqrt(2 / fans(buf)[0])


def fill_with(scheme, **params):
    """fastinit's fill of buf (the dtype's NumPy dtype, or its bits for bfloat16) as
    dtype: _fill.fill_as, the code behind fastinit.fill, less a microsecond of checks."""
    return lambda buf, dtype, t: _fill.fill_as(buf, dtype, scheme, params, 1, 0, t, None, None)


CASES = {
    # name: (fastinit call, NumPy call or None, torch.nn.init call or None)
    "glorot_uniform": (fill_with("glorot_uniform"), numpy_glorot_uniform,
                       lambda torch, w: torch.nn.init.xavier_uniform_(w)),
    "he_normal": (fill_with("he_normal"), numpy_he_normal,
                  lambda torch, w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")),
    "truncated_normal": (fill_with("truncated_normal", std=TRUNC_STD, bound=2.0),
                         None,  # NumPy's Generator has no truncated normal
                         lambda torch, w: torch.nn.init.trunc_normal_(
                             w, std=TRUNC_STD, a=-2 * TRUNC_STD, b=2 * TRUNC_STD)),
}

# The project's targets, for the all-threads rows: (case, dtype) -> (vs memset, vs NumPy).
TARGETS = {("glorot_uniform", "float32"): (0.6, 12), ("glorot_uniform", "float64"): (0.6, 6),
           ("he_normal", "float32"): (0.35, 25), ("he_normal", "float64"): (0.35, 12),
           ("truncated_normal", "float32"): (0.25, None)}
TORCH_TARGET = 8          # PyTorch's init at least this many times slower
NARROW_TARGET = 0.9       # bfloat16 elements/s at least this times float32's
SCALING_TARGET = 1.8      # two threads vs one, unless one thread is at the memory limit
SMALL_TARGETS = {16: 3.0, 1024: 2.0}  # fill time / NumPy rng.random(out=) time, at most


def optional_torch(wanted):
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def shape_for(size):
    """A dense layer's (in, out) shape of `size` elements where one exists, else 1-D."""
    return (size // 8192, 8192) if size % 8192 == 0 else (size,)


def torch_view(torch, buf, dtype):
    """buf as a torch tensor of dtype: the same memory."""
    ints = torch.from_numpy(buf.view(f"i{dtype.itemsize}"))
    return ints.view(getattr(torch, dtype.torch))


def measure(size, repeat, dtypes, thread_counts, cases, use_numpy, torch):
    """One row per (case, dtype, threads): GB/s and elements/s of each method, and the
    ratios. A bfloat16 buffer is its bits (np.uint16) to NumPy: it has no bfloat16 of
    its own, and no NumPy timing."""
    rows = []
    rng = np.random.default_rng(1)
    for dtype_name in dtypes:
        dtype = _dtypes.lookup(dtype_name)
        buf = np.ones(shape_for(size), dtype.bits if dtype.narrow else dtype.name)  # pages in
        gb = buf.nbytes / 1e9
        memset = {t: memset_seconds(buf, t, repeat) for t in thread_counts}
        for name in cases:
            fast, slow, torch_init = CASES[name]
            t_numpy = None
            if use_numpy and slow is not None and not dtype.narrow:
                t_numpy = median_seconds(lambda: slow(rng, buf), repeat)
            for threads in thread_counts:
                fast(buf, dtype, threads)  # warm up: starts the pool's workers
                t_fast = median_seconds(lambda: fast(buf, dtype, threads), repeat)
                t_torch = None
                if torch is not None and torch_init is not None:
                    torch.set_num_threads(threads)
                    w = torch_view(torch, buf, dtype)
                    t_torch = median_seconds(lambda: torch_init(torch, w), repeat)
                rows.append({
                    "case": name, "dtype": dtype_name, "threads": threads,
                    "elements": size, "bytes": buf.nbytes,
                    "fastinit_gelems": size / t_fast / 1e9,
                    "torch_gelems": None if t_torch is None else size / t_torch / 1e9,
                    "fastinit_gbs": gb / t_fast, "memset_gbs": gb / memset[threads],
                    "numpy_gbs": None if t_numpy is None else gb / t_numpy,
                    "torch_gbs": None if t_torch is None else gb / t_torch,
                    "vs_memset": memset[threads] / t_fast,
                    "vs_numpy": None if t_numpy is None else t_numpy / t_fast,
                    "vs_torch": None if t_torch is None else t_torch / t_fast,
                })
        del buf
    return rows


def small_fills(repeat):
    """Per-call time of filling tiny arrays (biases, norms), next to NumPy's rng.random(out=)."""
    rng = np.random.default_rng(1)
    gen = fastinit.Generator(1)
    out = []
    for n in SMALL_TARGETS:
        a = np.empty(n, np.float32)
        calls = 20000

        def per_call(fn):
            return statistics.median(timeit.repeat(fn, number=calls, repeat=repeat)) / calls
        t_numpy = per_call(lambda: rng.random(out=a, dtype=np.float32))
        t_fill = per_call(lambda: fastinit.fill(a, "glorot_uniform", seed=1))
        t_gen = per_call(lambda: gen.fill(a, "glorot_uniform"))
        out.append({"elements": n, "numpy_us": t_numpy * 1e6, "fill_us": t_fill * 1e6,
                    "generator_fill_us": t_gen * 1e6, "ratio": t_fill / t_numpy,
                    "generator_ratio": t_gen / t_numpy, "target": SMALL_TARGETS[n]})
    return out


PEAK_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np, fastinit

    def peak_kib():  # VmHWM: this process's own peak (ru_maxrss also counts the parent's at fork)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))

    scheme, n = sys.argv[1], int(sys.argv[2])
    fastinit.fill(np.empty(1 << 16, np.float32), scheme, seed=1)   # pool and plans warm
    before = peak_kib()
    buf = np.empty(n, np.float32)                                 # not touched yet
    fastinit.fill(buf, scheme, seed=1)
    print((peak_kib() - before) * 1024 / buf.nbytes)
""")


def peak_memory(gib):
    """Peak resident memory added by filling a fresh `gib` GiB float32 array, as a
    multiple of the array's size (1.00 = no temporaries), measured in a new process
    (Linux: /proc/self/status)."""
    n = int(gib * (1 << 30)) // 4
    result = {}
    for scheme in ("glorot_uniform", "he_normal", "truncated_normal"):
        # From the folder that holds this fastinit: `python -c` imports from its working
        # directory first, and a checkout's top holds the uncompiled source tree.
        run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, scheme, str(n)],
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__))),
                             capture_output=True, text=True, check=True)
        result[scheme] = float(run.stdout.strip())
    return result


def check_targets(rows, small, peak, all_threads):
    """[(what, measured, target, met)] for every target that was measured."""
    out = []
    by_key = {(r["case"], r["dtype"], r["threads"]): r for r in rows}
    for (case, dtype), (memset_min, numpy_min) in TARGETS.items():
        r = by_key.get((case, dtype, all_threads))
        if r is None:
            continue
        out.append((f"{case} {dtype} vs memset", r["vs_memset"], f">= {memset_min}x",
                    r["vs_memset"] >= memset_min))
        if numpy_min is not None and r["vs_numpy"] is not None:
            out.append((f"{case} {dtype} vs NumPy", r["vs_numpy"], f">= {numpy_min}x",
                        r["vs_numpy"] >= numpy_min))
    for r in rows:
        if r["threads"] == all_threads and r["vs_torch"] is not None:
            out.append((f"{r['case']} {r['dtype']} vs PyTorch", r["vs_torch"],
                        f">= {TORCH_TARGET}x", r["vs_torch"] >= TORCH_TARGET))
    for r in rows:  # narrow dtypes: the same draws, a narrower store
        f32 = by_key.get((r["case"], "float32", r["threads"]))
        if _dtypes.lookup(r["dtype"]).narrow and f32 is not None:
            ratio = r["fastinit_gelems"] / f32["fastinit_gelems"]
            out.append((f"{r['case']} {r['dtype']} {r['threads']} threads elements/s vs "
                        f"float32", ratio, f">= {NARROW_TARGET}x", ratio >= NARROW_TARGET))
    if all_threads > 1:
        for r in rows:
            one = by_key.get((r["case"], r["dtype"], 1))
            if r["threads"] != all_threads or one is None:
                continue
            scaling = r["fastinit_gbs"] / one["fastinit_gbs"]
            # One thread already at the memory limit: as fast as memset on all threads.
            at_limit = one["fastinit_gbs"] >= 0.9 * r["memset_gbs"]
            out.append((f"{r['case']} {r['dtype']} {all_threads} threads vs 1", scaling,
                        f">= {SCALING_TARGET}x" + (" (1 thread at memory limit)" if at_limit
                                                   else ""),
                        at_limit or scaling >= SCALING_TARGET))
    for s in small:
        out.append((f"fill of {s['elements']} float32 vs NumPy rng.random(out=)", s["ratio"],
                    f"<= {s['target']}x", s["ratio"] <= s["target"]))
    for scheme, ratio in (peak or {}).items():
        out.append((f"peak memory of a {scheme} fill / buffer", ratio, "<= 1.01x",
                    ratio <= 1.01))
    return out


def fmt(x, spec, unit=""):
    return "-" if x is None else format(x, spec) + unit


def format_report(header, rows, small, targets):
    lines = [header, ""]
    head = (f"{'case':<17} {'dtype':<8} {'thr':>3} {'fastinit':>9} {'memset':>8} {'numpy':>7} "
            f"{'torch':>7} {'vs memset':>9} {'vs numpy':>9} {'vs torch':>9} {'Gelem/s':>8} "
            f"{'torch':>6}")
    lines += [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['case']:<17} {r['dtype']:<8} {r['threads']:>3} "
                     f"{r['fastinit_gbs']:>9.2f} {r['memset_gbs']:>8.2f} "
                     f"{fmt(r['numpy_gbs'], '.2f'):>7} {fmt(r['torch_gbs'], '.2f'):>7} "
                     f"{r['vs_memset']:>8.2f}x {fmt(r['vs_numpy'], '.1f', 'x'):>9} "
                     f"{fmt(r['vs_torch'], '.1f', 'x'):>9} {r['fastinit_gelems']:>8.3f} "
                     f"{fmt(r['torch_gelems'], '.3f'):>6}")
    lines.append("GB/s, median of the repetitions. memset: libc memset of the same buffer on "
                 "the same number of threads. 'vs X' = X's time / fastinit's time. Gelem/s: "
                 "10^9 elements per second, fastinit's and PyTorch's.")
    if small:
        lines += ["", "small fills (per call):"]
        for s in small:
            lines.append(f"  {s['elements']:>5} float32: fastinit.fill {s['fill_us']:.2f} us, "
                         f"Generator.fill {s['generator_fill_us']:.2f} us, NumPy "
                         f"rng.random(out=) {s['numpy_us']:.2f} us -> {s['ratio']:.2f}x / "
                         f"{s['generator_ratio']:.2f}x")
    if targets:
        lines += ["", "targets:"]
        for what, value, target, met in targets:
            lines.append(f"  {'met    ' if met else 'NOT MET'}  {what}: {value:.2f}x "
                         f"(target {target})")
    return "\n".join(lines)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def element_count(text):
    """An int, or a power written like 2**26."""
    base, _, power = text.partition("**")
    try:
        return int(base) ** int(power) if power else int(base)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count of elements: {text!r}") from None


DESCRIPTION = "Time fastinit.fill against NumPy, PyTorch (if installed) and memset."


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser):
    """The bench's options, on `parser` (its own, or the `fastinit bench` subcommand's)."""
    parser.add_argument("--size", type=element_count, default=1 << 26,
                        help="elements per buffer (default 2**26)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per timing (median)")
    parser.add_argument("--dtype", choices=DTYPES, action="append",
                        help="float32, float64 and/or bfloat16 (default all)")
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="schemes to time (default all)")
    parser.add_argument("--threads", type=int, action="append",
                        help="thread counts to time (default 1 and all)")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy timings")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch timings")
    parser.add_argument("--peak-gib", type=float, default=1.0,
                        help="size of the peak-memory fill in GiB (default 1)")
    parser.add_argument("--quick", action="store_true",
                        help="only the big fills: no small-fill or peak-memory measurements")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def run(args):
    """Measures and prints what `args` (from add_arguments' options) ask for."""
    config = fastinit.get_config()
    all_threads = config["threads"]
    thread_counts = args.threads or sorted({1, all_threads})
    torch = optional_torch(not args.no_torch)
    rows = measure(args.size, args.repeat, args.dtype or list(DTYPES),
                   thread_counts, args.case or list(CASES), not args.no_numpy, torch)
    small = [] if args.quick else small_fills(args.repeat)
    peak = None if args.quick else peak_memory(args.peak_gib)
    targets = check_targets(rows, small, peak, max(thread_counts))
    facts = {"date": datetime.date.today().isoformat(), "cpu": cpu_name(),
             "cpus": os.cpu_count(), "numpy": np.__version__,
             "torch": None if torch is None else torch.__version__}
    if args.json:
        json.dump({"config": config, **facts, "rows": rows, "small_fills": small,
                   "peak_memory": peak,
                   "targets": [{"what": w, "value": v, "target": t, "met": m}
                               for w, v, t, m in targets]}, sys.stdout, indent=1)
        print()
    else:
        header = (f"fastinit {config['version']}  simd={config['simd']}  threads={all_threads}"
                  f"  numpy {np.__version__}  torch {facts['torch'] or '-'}  {facts['cpu']}  "
                  f"{facts['cpus']} CPUs  {args.size} elements  {facts['date']}")
        print(format_report(header, rows, small, targets))
    return 0
