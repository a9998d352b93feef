"""`python -m fastinit bench`: how fast fastinit fills a buffer, next to NumPy's
Generator and next to memset of the same buffer (the speed of memory itself).

Every method writes the same pre-faulted buffer, so page faults count for none of
them; each time is the median of several repetitions.
"""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import numpy as np

import fastinit

DTYPES = {"float32": np.float32, "float64": np.float64}


def median_seconds(run, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def memset_seconds(buf, repeat):
    address, nbytes = buf.ctypes.data, buf.nbytes
    return median_seconds(lambda: ctypes.memset(address, 0, nbytes), repeat)


# What a NumPy user writes today for the same values: draw, then scale in place.
def numpy_uniform(rng, buf, bound):
    rng.random(out=buf, dtype=buf.dtype)
    buf *= 2 * bound
    buf -= bound


def numpy_normal(rng, buf, std):
    rng.standard_normal(out=buf, dtype=buf.dtype)
    buf *= std


CASES = [
    # name, fastinit call, NumPy call; scales are a 4096 x 4096 layer's Glorot/He values
    ("uniform", lambda buf, t: fastinit.fill(buf, "uniform", low=-0.027, high=0.027, seed=1,
                                             threads=t),
     lambda rng, buf: numpy_uniform(rng, buf, 0.027)),
    ("normal", lambda buf, t: fastinit.fill(buf, "normal", std=0.022, seed=1, threads=t),
     lambda rng, buf: numpy_normal(rng, buf, 0.022)),
    ("truncated_normal", lambda buf, t: fastinit.fill(buf, "truncated_normal", std=0.022,
                                                      bound=2.0, seed=1, threads=t),
     None),
]


def run(size, repeat, dtypes, thread_counts, numpy=True):
    """Returns one dict per (case, dtype, threads) with seconds, GB/s and ratios."""
    rows = []
    rng = np.random.default_rng(1)
    for dtype_name in dtypes:
        buf = np.zeros(size, dtype=DTYPES[dtype_name])  # zeros() alone may not fault pages in
        buf.fill(1.0)
        gb = buf.nbytes / 1e9
        t_memset = memset_seconds(buf, repeat)
        for name, fast, slow in CASES:
            t_numpy = None
            if numpy and slow is not None:
                t_numpy = median_seconds(lambda: slow(rng, buf), repeat)
            for threads in thread_counts:
                fast(buf, threads)  # warm up: starts the pool's workers
                t_fast = median_seconds(lambda: fast(buf, threads), repeat)
                rows.append({
                    "case": name, "dtype": dtype_name, "threads": threads,
                    "elements": size, "bytes": buf.nbytes,
                    "fastinit_s": t_fast, "fastinit_gbs": gb / t_fast,
                    "memset_gbs": gb / t_memset,
                    "numpy_gbs": None if t_numpy is None else gb / t_numpy,
                    "vs_memset": t_memset / t_fast,
                    "vs_numpy": None if t_numpy is None else t_numpy / t_fast,
                })
        del buf
    return rows


def format_table(rows):
    head = (f"{'case':<17} {'dtype':<8} {'thr':>3} {'fastinit':>10} {'numpy':>10} "
            f"{'memset':>10} {'vs memset':>10} {'vs numpy':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        numpy_gbs = "-" if r["numpy_gbs"] is None else f"{r['numpy_gbs']:.2f}"
        vs_numpy = "-" if r["vs_numpy"] is None else f"{r['vs_numpy']:.1f}x"
        lines.append(f"{r['case']:<17} {r['dtype']:<8} {r['threads']:>3} "
                     f"{r['fastinit_gbs']:>10.2f} {numpy_gbs:>10} {r['memset_gbs']:>10.2f} "
                     f"{r['vs_memset']:>9.2f}x {vs_numpy:>9}")
    lines.append("(GB/s, median of the repetitions; ratios are speed relative to fastinit's: "
                 "'vs numpy' = how many times faster than NumPy)")
    return "\n".join(lines)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def element_count(text):
    """An int, or a power written like 2**26."""
    base, _, power = text.partition("**")
    try:
        return int(base) ** int(power) if power else int(base)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count of elements: {text!r}") from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastinit bench",
                                     description="Time fastinit.fill against NumPy and memset.")
    parser.add_argument("--size", type=element_count, default=1 << 26, help="elements per buffer (default 2**26)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per timing (median)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), action="append",
                        help="float32 and/or float64 (default both)")
    parser.add_argument("--threads", type=int, action="append",
                        help="thread counts to time (default 1 and all)")
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy timings")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    config = fastinit.get_config()
    thread_counts = args.threads or sorted({1, config["threads"]})
    rows = run(args.size, args.repeat, args.dtype or ["float32", "float64"], thread_counts,
               numpy=not args.no_numpy)
    if args.json:
        json.dump({"config": config, "cpu": cpu_name(), "numpy": np.__version__,
                   "rows": rows}, sys.stdout, indent=1)
        print()
    else:
        print(f"fastinit {config['version']}  simd={config['simd']}  "
              f"threads={config['threads']}  numpy {np.__version__}  {cpu_name()}  "
              f"{os.cpu_count()} CPUs  {args.size} elements")
        print(format_table(rows))
    return 0
