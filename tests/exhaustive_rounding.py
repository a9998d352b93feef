"""Every float32 bit pattern but the NaNs (2^32 - 2^24 of them), rounded to float16 and
bfloat16 by fastinit on every SIMD path this CPU runs, both ways (integer arithmetic and
the CPU's conversion instructions), against NumPy's astype(np.float16) and ml_dtypes'
(or torch's) bfloat16 cast. Not collected by pytest: it takes about twenty minutes on
one core for three paths. tests/test_narrow.py checks the same on every rounding
boundary of every exponent and a million random patterns.

usage: python tests/exhaustive_rounding.py   (from outside the checkout's top, or with
the extension built in place)
"""
import sys
import time

import numpy as np

from fastinit import _engine

CHUNK = 1 << 26


def bfloat16_reference():
    try:
        import ml_dtypes
        return lambda x: x.astype(ml_dtypes.bfloat16).view(np.uint16)
    except ImportError:
        import torch
        return lambda x: torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy()


def main():
    to_bfloat16 = bfloat16_reference()
    ways = [(path, how) for path in _engine.simd_available() for how in ("hardware", "integer")]
    mismatches, start_time = 0, time.time()
    for start in range(0, 1 << 32, CHUNK):
        x = np.arange(start, start + CHUNK, dtype=np.uint64).astype(np.uint32).view(np.float32)
        x = x[~np.isnan(x)]
        with np.errstate(over="ignore"):
            want = {"float16": x.astype(np.float16).view(np.uint16),
                    "bfloat16": to_bfloat16(x).view(np.uint16)}
        for path, how in ways:
            _engine.simd_select(path)
            _engine.round_select(how)
            for fmt in want:
                got = _engine.round_narrow(x, fmt)
                wrong = np.flatnonzero(got != want[fmt])
                mismatches += wrong.size
                for i in wrong[:3]:
                    print(f"{path} {how} {fmt}: {x[i].view(np.uint32):#010x} -> {got[i]:#06x}, "
                          f"want {want[fmt][i]:#06x}", flush=True)
        print(f"{(start + CHUNK) / 2**32:.0%} in {time.time() - start_time:.0f} s", flush=True)
    _engine.round_select("hardware")
    print(f"{mismatches} mismatches; ways: {ways}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
