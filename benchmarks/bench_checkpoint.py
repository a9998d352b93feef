"""Writing a checkpoint of a few GB: fastinit.save_safetensors against the physical limit
and against the usual way.

    python benchmarks/bench_checkpoint.py                      # 4 GB of bfloat16, in /tmp
    python benchmarks/bench_checkpoint.py --gb 1 --dir /data --json

Three ways to put the same number of bytes in a file on the same disk, each in a
fresh process (so that each peak resident memory is its own), one after the other:

- plain write: a 32 MiB buffer written over and over (pwrite), then fsync: the
  speed of the disk, the limit for any writer;
- fastinit: save_safetensors of the tensors (normal, std 0.02), which fsyncs;
- the usual way: torch.nn.init.normal_ of each tensor in memory, then
  safetensors.torch.save_file, then fsync (needs torch and safetensors).

Every file ends with fsync, so that each time includes getting the bytes to disk,
not only into the page cache. A disk's speed drifts (a virtual disk's twofold from
one minute to the next), so the methods take turns, --repeat rounds of them, and
each time shown is the median of its rounds. Peak memory is VmHWM (Linux), shown
whole and as what the write added to the process after its imports.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

from fastinit import _dtypes

SIDE = 8192  # tensors of SIDE x SIDE, a large transformer's linear layer
BUFFER = 32 << 20


def peak_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))


def tensor_count(gb, itemsize):
    return math.ceil(gb * 1e9 / (SIDE * SIDE * itemsize))


def child(method, path, gb, dtype):
    """Runs one method in this (fresh) process; prints its figures as JSON."""
    import numpy as np
    if method == "usual":
        import safetensors.torch
        import torch
    else:
        import fastinit
    itemsize = _dtypes.lookup(dtype).itemsize
    count = tensor_count(gb, itemsize)
    names = [f"model.layers.{i}.mlp.weight" for i in range(count)]
    before = peak_kib()
    start = time.perf_counter()
    if method == "plain":
        total = count * SIDE * SIDE * itemsize
        buf = np.full(BUFFER, 0x5A, np.uint8)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            for offset in range(0, total, BUFFER):
                os.pwrite(fd, memoryview(buf)[:min(BUFFER, total - offset)], offset)
            os.fsync(fd)
        finally:
            os.close(fd)
    elif method == "fastinit":
        spec = fastinit.TensorSpec((SIDE, SIDE), dtype, "normal", std=0.02)
        fastinit.save_safetensors(path, {name: spec for name in names}, seed=0, progress=False)
    else:
        state = {name: torch.nn.init.normal_(torch.empty(SIDE, SIDE, dtype=getattr(torch, dtype)),
                                             std=0.02) for name in names}
        safetensors.torch.save_file(state, path)
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    seconds = time.perf_counter() - start
    print(json.dumps({"method": method, "seconds": seconds, "bytes": os.path.getsize(path),
                      "peak_kib": peak_kib(), "added_kib": peak_kib() - before}))


def run(method, folder, gb, dtype):
    path = os.path.join(folder, f"bench-{method}.safetensors")
    try:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", method,
                              "--gb", str(gb), "--dtype", dtype, "--dir", folder, path],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)
    except subprocess.CalledProcessError as error:
        print(error.stderr, file=sys.stderr)
        return None
    finally:
        if os.path.exists(path):
            os.remove(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=4.0, help="checkpoint size in GB (1e9 bytes)")
    parser.add_argument("--dtype", default="bfloat16", choices=_dtypes.NAMES,
                        help="the tensors' dtype (default bfloat16)")
    parser.add_argument("--dir", default=tempfile.gettempdir(),
                        help="where to write (default: the temporary folder)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of the methods taken in turn (default 3); medians shown")
    parser.add_argument("--no-usual", action="store_true", help="skip the torch + safetensors run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.path, args.gb, args.dtype)

    methods = ["plain", "fastinit"] + ([] if args.no_usual else ["usual"])
    rounds = [{m: run(m, args.dir, args.gb, args.dtype) for m in methods}
              for _ in range(args.repeat)]
    results = {}
    for m in methods:
        runs = [r[m] for r in rounds if r[m] is not None]
        results[m] = runs and {**runs[0], "seconds": statistics.median(r["seconds"] for r in runs),
                               "all_seconds": [r["seconds"] for r in runs],
                               "peak_kib": max(r["peak_kib"] for r in runs),
                               "added_kib": max(r["added_kib"] for r in runs)}
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        print()
        return 0
    size = results["fastinit"]["bytes"]
    print(f"{size / 1e9:.2f} GB checkpoint of {args.dtype} ({SIDE}x{SIDE} tensors) in "
          f"{args.dir}, fsync at the end of each; median of {args.repeat} rounds:")
    labels = {"plain": "plain write (the disk's limit)", "fastinit": "fastinit.save_safetensors",
              "usual": "torch init + safetensors.torch.save_file"}
    for method, r in results.items():
        if not r:
            print(f"  {labels[method]:<42} failed (see above)")
            continue
        print(f"  {labels[method]:<42} {r['seconds']:6.2f} s  {r['bytes'] / r['seconds'] / 1e9:5.2f} "
              f"GB/s  peak RSS {r['peak_kib'] / 2**20:5.2f} GiB (+{r['added_kib'] / 2**10:.0f} MiB "
              f"for the write, {r['added_kib'] * 1024 / r['bytes']:.1%} of the file); rounds: "
              f"{', '.join(f'{t:.2f}' for t in r['all_seconds'])} s")
    fast = results["fastinit"]["seconds"]
    print(f"fastinit / plain write: {fast / results['plain']['seconds']:.2f}x (target <= 1.5x)")
    if results.get("usual"):
        print(f"usual way / fastinit: {results['usual']['seconds'] / fast:.1f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
