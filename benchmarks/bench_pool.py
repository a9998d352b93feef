"""The cost of a big thread count to later fills (issue 14, item 4).

Times the median of many default-threads fills of 1 MiB (float32), then does one
fill with threads=64 (or --threads) and times the same fills again. Before the pool
woke only the workers a job uses, every later fill woke and spun all 64.

usage: python benchmarks/bench_pool.py [--threads N] [--calls N]
"""
import argparse
import time

import numpy as np

import fastinit


def median_us(out, calls):
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fastinit.fill(out, "glorot_uniform", seed=1)
        times.append(time.perf_counter() - t0)
    return 1e6 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    out = np.empty(1 << 18, np.float32)  # 1 MiB
    median_us(out, 200)  # warm up: the pool's workers exist
    before = median_us(out, args.calls)
    big = np.empty(args.threads << 17, np.float32)  # enough work for every thread
    fastinit.fill(big, "glorot_uniform", seed=1, threads=args.threads)
    after = median_us(out, args.calls)
    print(f"1 MiB float32 fill, default threads ({fastinit.get_config()['threads']}), "
          f"median of {args.calls}: {before:.0f} us before a threads={args.threads} fill, "
          f"{after:.0f} us after")


if __name__ == "__main__":
    main()
