"""The model benchmark: a Llama-shaped model initialised from its config, three ways.

- fastinit: built on the meta device, then fastinit.torch.materialize;
- torch: built on the meta device, then `to_empty` and every module's
  `reset_parameters()` (the usual meta-device recipe, torch's generator);
- transformers: `LlamaForCausalLM(config)` on the CPU (torch's init in each module's
  constructor, then transformers' `_init_weights`);
- memset, the physical limit: as many bytes of fresh memory (one anonymous mapping,
  as materialize takes) written once with a non-zero byte by libc memset on the same
  threads, so that the kernel's first-touch page faults are paid as every method pays
  them.

Each runs in a fresh process (so that first-touch page faults are counted as a user
meets them, and peak memory is the method's own), on the same number of threads.
The fastinit process then initialises the same model again (`init_module`): the
same fills into memory already touched, the floor the first fill is measured
against. Run it as `python benchmarks/bench_model.py` (or the CLI's `--model`);
`main()` takes the same arguments.
"""
import argparse
import json
import os
import subprocess
import sys

# TinyLlama-1.1B's shape: hidden 2048, 22 layers, intermediate 5632, vocab 32000.
LLAMA_1B = {"hidden_size": 2048, "num_hidden_layers": 22, "intermediate_size": 5632,
            "vocab_size": 32000, "num_attention_heads": 32, "num_key_value_heads": 4,
            "max_position_embeddings": 2048}
METHODS = ("fastinit", "torch", "transformers", "memset")

# Runs in the child: prints one JSON line.
_CHILD = r"""
import json, os, resource, sys, time
import torch
import transformers
config_args, method, dtype_name, threads = json.loads(sys.argv[1])
torch.set_num_threads(threads)
dtype = getattr(torch, dtype_name)
config = transformers.LlamaConfig(**config_args)

def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def meta_model():
    with torch.device("meta"):
        return transformers.LlamaForCausalLM(config).to(dtype)

out = {"method": method, "dtype": dtype_name, "threads": threads,
       "huge_pages": os.environ.get("FASTINIT_HUGE_PAGES") == "1",
       "baseline_rss_mib": rss_mib()}
start = time.perf_counter()
if method == "fastinit":
    import fastinit.torch
    model = meta_model()
    built = time.perf_counter()
    fastinit.torch.materialize(model, seed=0, threads=threads)
    done = time.perf_counter()
    fastinit.torch.init_module(model, seed=0, threads=threads)  # into touched memory
    out["refill_s"] = time.perf_counter() - done
elif method == "torch":
    model = meta_model()
    built = time.perf_counter()
    model.to_empty(device="cpu")
    with torch.no_grad():
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    done = time.perf_counter()
elif method == "transformers":
    torch.set_default_dtype(dtype)
    built = start
    model = transformers.LlamaForCausalLM(config)
    done = time.perf_counter()
else:  # memset: the model's bytes, fresh from the kernel, written once on the same threads
    import ctypes, mmap, threading
    model = meta_model()
    built = time.perf_counter()
    nbytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    memory = mmap.mmap(-1, nbytes)
    base = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    cuts = [nbytes * i // threads for i in range(threads + 1)]
    writers = [threading.Thread(target=ctypes.memset, args=(base + lo, 0x5A, hi - lo))
               for lo, hi in zip(cuts, cuts[1:])]  # ctypes releases the GIL: in parallel
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done = time.perf_counter()
out.update(build_s=built - start, init_s=done - built, total_s=done - start,
           peak_rss_mib=rss_mib(),
           bytes=sum(t.numel() * t.element_size() for t in model.state_dict().values()),
           parameters=sum(p.numel() for p in model.parameters()))
print(json.dumps(out))
"""


def run(method, dtype, threads, config=None, timeout=1800, huge_pages=False):
    """One measurement in a fresh process: a dict of seconds, bytes and peak RSS."""
    import fastinit
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [package_parent, os.environ.get("PYTHONPATH", "")]),
        "FASTINIT_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
        "FASTINIT_HUGE_PAGES": "1" if huge_pages else "0"}
    arg = json.dumps([config or LLAMA_1B, method, dtype, threads])
    result = subprocess.run([sys.executable, "-c", _CHILD, arg], env=env, capture_output=True,
                            text=True, timeout=timeout, cwd=os.path.expanduser("~"))
    if result.returncode != 0:
        raise RuntimeError(f"{method} {dtype} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(results):
    """The results as Markdown rows, with fastinit's speed-up over the others."""
    lines = ["| dtype | method | build s | init s | total s | peak RSS GiB | init / fastinit's "
             "| total / fastinit's |", "|---|---|---|---|---|---|---|---|"]
    for dtype in dict.fromkeys(r["dtype"] for r in results):
        rows = [r for r in results if r["dtype"] == dtype]
        ours = next((r for r in rows if r["method"] == "fastinit"), None)
        for r in rows:
            ratios = ([f"{r[k] / ours[k]:.1f}x" for k in ("init_s", "total_s")] if ours
                      else ["-", "-"])
            lines.append(f"| {dtype} | {r['method']} | {r['build_s']:.2f} | {r['init_s']:.2f} | "
                         f"{r['total_s']:.2f} | {r['peak_rss_mib'] / 1024:.2f} | "
                         f"{' | '.join(ratios)} |")
        if ours:
            lines.append(f"| {dtype} | fastinit again, into touched memory | - | "
                         f"{ours['refill_s']:.2f} | - | - | {ours['refill_s'] / ours['init_s']:.2f}x "
                         f"| - |")
    return "\n".join(lines)


def add_arguments(parser):
    parser.add_argument("--dtype", action="append", choices=["float32", "bfloat16"],
                        help="dtype to measure (repeat for several; default: both)")
    parser.add_argument("--method", action="append", choices=METHODS,
                        help="method to measure (repeat for several; default: all)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every method (default: the CPUs this process may use)")
    parser.add_argument("--layers", type=int, default=LLAMA_1B["num_hidden_layers"],
                        help="decoder layers (default 22: about 1.1B parameters)")
    parser.add_argument("--huge-pages", action="store_true",
                        help="materialize with FASTINIT_HUGE_PAGES=1 (transparent huge pages)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def main(argv=None, prog="bench_model.py"):
    parser = argparse.ArgumentParser(
        prog=prog, description="Initialise a Llama-shaped model (about 1.1B "
        "parameters) from its config: fastinit.torch.materialize against torch's to_empty + "
        "reset_parameters() and transformers' LlamaForCausalLM(config), each in a fresh "
        "process on the same threads.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    threads = args.threads or len(os.sched_getaffinity(0))
    config = {**LLAMA_1B, "num_hidden_layers": args.layers}
    results = []
    for dtype in args.dtype or ["float32", "bfloat16"]:
        for method in args.method or METHODS:
            results.append(run(method, dtype, threads, config, huge_pages=args.huge_pages))
            if not args.json:
                print(f"{method} {dtype}: {results[-1]['total_s']:.2f} s", file=sys.stderr)
    print(json.dumps(results, indent=1) if args.json else table(results))
    return 0
