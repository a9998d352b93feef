"""Computes the digests of stream version 1 that tests/data/stream_v1_digests.txt records
and tests/test_stream_digests.py checks on every SIMD path (as randomgen keeps
compute_hashes.py beside its hashes).

Each digest is the first 32 hex digits of the SHA-256 of a buffer's bytes:

- fill N KIND DTYPE: fastinit.fill of 200_003 elements at origin 77 of a (300_000,)
  tensor, seed 12345, stream 7, one thread, with the parameters FILLS[N]; for bfloat16
  and float16 the 16-bit words written by fastinit._fill.fill_as;
- math FN DTYPE: fastinit's own ln, sin, cos or erfinv (_engine.eval_math) on
  math_inputs(FN, DTYPE): for float32 every input the stream can give them;
- raw uint32: fastinit.random_raw(200_003, seed=12345, stream=7, start=RAW_START), words
  across the block counter's carry from c0 into c1.

Where the recorded values come from, and how to re-derive them:

- The uniform fills and the raw words are exact in docs/stream.md, so the pure-Python
  model (tests/stream_model.py, written from the specification and sharing no code with
  fastinit) computes them: `--source model` needs no build of fastinit at all.
- The bfloat16 and float16 fills are the float32 fills (pinned by their own lines)
  rounded to nearest even (docs/stream.md, "Narrow formats"): they were recorded from
  the float32 fills rounded by torch's .to(torch.bfloat16) and NumPy's
  .astype(np.float16), not by fastinit. `--source model` gives the uniform ones from
  the model's float32 values rounded by NumPy (float16) and ml_dtypes (bfloat16, when
  it is installed).
- Normal, truncated normal and the math functions use fastinit's own ln, sin, cos and
  erfinv, which no other library reproduces to the bit; they were recorded from the C
  build of commit d9ae7c4, the first (scalar) implementation, before any SIMD path
  existed. `--source engine` (the default) computes every digest with the fastinit that
  Python imports, so running it against a build of that commit re-derives them.

A reviewer checks a change that might touch the values with

    python tests/compute_digests.py --check                  # this build, its own SIMD path
    python tests/compute_digests.py --check --path portable  # each path this CPU runs
    python tests/compute_digests.py --source model --check   # exact entries, from the spec

and re-derives the recorded normal and math digests from the reference commit with

    git worktree add /tmp/fastinit-d9ae7c4 d9ae7c4
    (cd /tmp/fastinit-d9ae7c4 && python setup.py build_ext --inplace)
    PYTHONPATH=/tmp/fastinit-d9ae7c4 python tests/compute_digests.py --check

(the raw words entry is newer than that commit, but its random_raw gives the same
words; that build writes no bfloat16 or float16, so their lines are left out).
Without --check the script prints the digests in the data file's format. A
change in any recorded value is a change of stream version 1, which is not allowed
(docs/stream.md, "Compatibility"): fix the code, never the data file.
"""
import argparse
import hashlib
import os
import sys

import numpy as np

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                         "stream_v1_digests.txt")
SEED, STREAM, SIZE, ORIGIN, GLOBAL = 12345, 7, 200_003, 77, 300_000
RAW_START = 4 * (2**32 - 10) + 1
DTYPES = (np.float32, np.float64)            # fills and math
NARROW = ("bfloat16", "float16")               # fills only: the float32 fills, rounded
MATH_FNS = ("log", "sin", "cos", "erfinv")

FILLS = [
    ("uniform", dict(low=-0.027, high=0.027)), ("uniform", dict(low=2.5, high=7.25)),
    ("uniform", dict(low=-1e-40, high=1e-40)), ("uniform", dict(low=0.0, high=0.0)),
    ("normal", dict(std=0.022)), ("normal", dict(mean=1.5, std=3.0)),
    ("truncated_normal", dict(std=0.022, bound=2.0)), ("truncated_normal", dict(bound=6.0)),
    ("truncated_normal", dict(bound=1e-3)),
    ("truncated_normal", dict(mean=-1.0, std=2.0, bound=9.0)),
]

# Fills refused since issue 14 (the dtype cannot hold their values: docs/stream.md,
# "Parameters"): uniform(-1e-40, 1e-40) rounds every float16 value to 0. Their digests
# stay in the data file, recorded before, and are still checked against NumPy's cast of
# the float32 fill; the engine now refuses them instead of writing them.
REFUSED = {(2, "float16")}


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).view(np.uint8)).hexdigest()[:32]


def fill_key(case, dtype):
    name = dtype if dtype in NARROW else np.dtype(dtype).name
    return f"fill {case} {FILLS[case][0]} {name}"


def math_key(fn, dtype):
    return f"math {fn} {np.dtype(dtype).name}"


RAW_KEY = "raw uint32"


def math_inputs(fn, dtype):
    """float32: every value the stream can pass (u, 2 pi u, s * erf(2 / sqrt 2));
    float64: 2^18 random stream values plus the ends of the ranges."""
    if dtype == np.float32:
        k = np.arange(1 << 24, dtype=np.float32)
        u = (k + np.float32(0.5)) * np.float32(2.0**-24)
        s = (2 * k - np.float32(2**24 - 1)) * np.float32(2.0**-24)
        return {"log": u, "sin": np.float32(2 * np.pi) * u, "cos": np.float32(2 * np.pi) * u,
                "erfinv": s * np.float32(0.9544997)}[fn]
    k = np.random.default_rng(5).integers(0, 2**53, 1 << 18, dtype=np.uint64)
    k = np.concatenate([k, np.array([0, 1, 2**52, 2**53 - 2, 2**53 - 1], np.uint64)])
    u = (k.astype(np.float64) + 0.5) * 2.0**-53
    s = (2 * k.astype(np.float64) - (2**53 - 1)) * 2.0**-53
    return {"log": u, "sin": 2 * np.pi * u, "cos": 2 * np.pi * u,
            "erfinv": np.concatenate([s, s * 0.9544997, s * (1 - 1e-9)])}[fn]


def engine_fill(case, dtype):
    """The fill, as float32/float64 values or, for a narrow dtype, as 16-bit words."""
    import fastinit
    kind, params = FILLS[case]
    if dtype in NARROW:
        from fastinit import _fill
        out = np.empty(SIZE, np.uint16)
        return _fill.fill_as(out, dtype, kind, params, SEED, STREAM, 1, (GLOBAL,), (ORIGIN,))
    out = np.empty(SIZE, dtype)
    fastinit.fill(out, kind, seed=SEED, stream=STREAM, global_shape=(GLOBAL,), origin=(ORIGIN,),
                  threads=1, **params)
    return out


def engine_dtypes():
    """The dtypes of the fills that the fastinit Python imports writes: all of them, but
    float32 and float64 only for a build from before bfloat16 and float16 (such as the
    reference commit d9ae7c4, whose engine has no table of dtypes)."""
    from fastinit import _engine
    return DTYPES + tuple(n for n in NARROW if n in getattr(_engine, "DTYPES", ()))


def engine_digests():
    """Every digest, from the fastinit that Python imports (on its current SIMD path);
    those of the narrow fills only if it writes them (engine_dtypes)."""
    import fastinit
    from fastinit import _engine
    got = {}
    for dtype in engine_dtypes():
        for case in range(len(FILLS)):
            if (case, dtype) not in REFUSED:
                got[fill_key(case, dtype)] = digest(engine_fill(case, dtype))
    for dtype in DTYPES:
        for fn in MATH_FNS:
            got[math_key(fn, dtype)] = digest(_engine.eval_math(fn, math_inputs(fn, dtype)))
    got[RAW_KEY] = digest(fastinit.random_raw(SIZE, seed=SEED, stream=STREAM, start=RAW_START))
    return got


def model_fill(case, dtype):
    """A uniform fill from the model, or None for the kinds it cannot give to the bit
    (and for bfloat16 without ml_dtypes, which does its rounding here)."""
    import stream_model
    kind, params = FILLS[case]
    if kind != "uniform":
        return None
    if dtype in NARROW:
        f32 = model_fill(case, np.float32)
        if dtype == "float16":
            return f32.astype(np.float16)
        try:
            import ml_dtypes
        except ImportError:
            return None
        return f32.astype(ml_dtypes.bfloat16)
    mid, half = stream_model.mid_half(params["low"], params["high"], dtype)
    return stream_model.uniform(SEED, STREAM, ORIGIN, SIZE, dtype, mid, half)


def model_digests():
    """The digests the model gives exactly: uniform fills and raw words."""
    import stream_model
    got = {}
    for dtype in DTYPES + NARROW:
        for case in range(len(FILLS)):
            values = model_fill(case, dtype)
            if values is not None:
                got[fill_key(case, dtype)] = digest(values)
    got[RAW_KEY] = digest(stream_model.raw_words(SEED, STREAM, RAW_START, SIZE))
    return got


def recorded():
    """{key: digest} of the data file."""
    entries = {}
    with open(DATA_FILE, encoding="ascii") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                *key, value = line.split()
                entries[" ".join(key)] = value
    return entries


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("engine", "model"), default="engine",
                        help="engine: every digest, from the fastinit Python imports; "
                             "model: the exact ones, from tests/stream_model.py")
    parser.add_argument("--path", help="the engine's SIMD path (portable, avx2, avx512)")
    parser.add_argument("--check", action="store_true",
                        help="compare with tests/data/stream_v1_digests.txt; exit 1 if any differ")
    args = parser.parse_args(argv)
    if args.path:
        from fastinit import _engine
        _engine.simd_select(args.path)
    got = engine_digests() if args.source == "engine" else model_digests()
    if not args.check:
        for key, value in got.items():
            print(f"{key:<32} {value}")
        return 0
    want = recorded()
    differ = [key for key in got if got[key] != want.get(key)]
    for key in differ:
        print(f"{key}: computed {got[key]}, recorded {want.get(key)}")
    print(f"{len(got) - len(differ)} of {len(got)} digests ({args.source}) equal the recorded ones")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
