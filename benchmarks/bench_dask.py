"""A large glorot_uniform array computed by Dask workers with fastinit.dask.array, next to
fastinit.sample of the same array in one process and to Dask's own random uniform.

    python benchmarks/bench_dask.py                      # 4 GiB float32, 2 worker processes
    python benchmarks/bench_dask.py --gib 1 --repeat 1 --json
    python benchmarks/bench_dask.py --address tcp://10.0.0.1:8786   # a running cluster

What is timed: every method allocates its memory, fills it with the array's values
and frees it, so page faults count for all. The workers keep their blocks where they
are made (a Dask array's blocks are consumed where they live: written to a store,
fed to a reduction) and send back only each block's first element, so the time is
that of making the array on the cluster, not of moving 4 GiB between processes.
The one-process fill uses as many threads as the cluster has workers. A last line
fills memory that is already mapped, to show what the fresh allocations cost.
Each time is the median of --repeat runs.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

import fastinit
import fastinit.dask


def median_seconds(run, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def first_elements(x):
    """The first element of every block of `x`: computing it makes every block, in its
    task, and moves almost nothing."""
    return x.map_blocks(lambda block: block[(slice(0, 1),) * block.ndim].copy(),
                        chunks=tuple((1,) * len(c) for c in x.chunks), dtype=x.dtype)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=4.0, help="array size in GiB (float32)")
    parser.add_argument("--chunk-mib", type=float, default=128.0, help="block size in MiB")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--address", help="use the Dask scheduler at this address instead "
                                          "of starting a LocalCluster")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    import dask.array as da
    import distributed

    cols = 8192
    rows = max(1, int(args.gib * 2**30 / 4 / cols))
    block_rows = max(1, int(args.chunk_mib * 2**20 / 4 / cols))
    shape, chunks = (rows, cols), (block_rows, cols)
    bound = math.sqrt(6 / (rows + cols))  # glorot_uniform's, so Dask draws the same range

    if args.address:
        cluster = None
        client = distributed.Client(args.address)
    else:
        cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        threads = sum(client.nthreads().values())
        x = fastinit.dask.array(shape, "glorot_uniform", seed=0, chunks=chunks)
        dask_rng = (da.random.default_rng(0).uniform(-bound, bound, size=shape, chunks=x.chunks)
                    .astype(np.float32))  # NumPy's uniform draws float64 only
        client.compute(first_elements(x[:block_rows])).result()  # workers import fastinit
        seconds = {
            "fastinit.dask.array": median_seconds(
                lambda: client.compute(first_elements(x)).result(), args.repeat),
            "fastinit.sample": median_seconds(
                lambda: fastinit.sample(shape, "glorot_uniform", seed=0, threads=threads),
                args.repeat),
            "dask random uniform": median_seconds(
                lambda: client.compute(first_elements(dask_rng)).result(), args.repeat),
        }
        # For scale, not compared: the same fill into memory that is already mapped, so
        # the difference to fastinit.sample is what allocating fresh memory costs here.
        mapped = fastinit.sample(shape, "glorot_uniform", seed=0, threads=threads)
        seconds["fastinit.fill, mapped"] = median_seconds(
            lambda: fastinit.fill(mapped, "glorot_uniform", seed=0, threads=threads),
            args.repeat)
        del mapped
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    report = {
        "shape": shape, "chunks": chunks, "blocks": x.npartitions, "bytes": x.nbytes,
        "workers": threads, "cpus": len(os.sched_getaffinity(0)), "repeat": args.repeat,
        "seconds": seconds,
        "ratio_dask_to_sample": seconds["fastinit.dask.array"] / seconds["fastinit.sample"],
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"glorot_uniform float32 {shape[0]}x{shape[1]} ({x.nbytes / 2**30:.2f} GiB), "
          f"{x.npartitions} blocks of {chunks[0]}x{chunks[1]}, {threads} threads on the "
          f"Dask workers (and in the one process), median of {args.repeat}")
    for method, s in seconds.items():
        print(f"  {method:22s} {s:8.3f} s  {x.nbytes / s / 1e9:6.2f} GB/s")
    print(f"  fastinit.dask.array / fastinit.sample = {report['ratio_dask_to_sample']:.2f}x "
          f"(target: at most 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
