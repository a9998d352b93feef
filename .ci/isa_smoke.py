"""Prints the SIMD path fastinit chose and a hash of the bytes of a few fills; with
EXPECTED_PATH and EXPECTED_HASH, fails unless both are what this run got.

CI runs it natively, then on an emulated CPU without AVX (qemu-x86_64 -cpu Nehalem)
expecting the portable path and the native run's bytes.

usage: python isa_smoke.py [EXPECTED_PATH EXPECTED_HASH]
"""
import hashlib
import sys

import numpy as np

import fastinit
from fastinit import _fill

digest = hashlib.sha256()
for dtype in (np.float32, np.float64, np.float16):
    for scheme in ("glorot_uniform", "he_normal", "truncated_normal"):
        digest.update(fastinit.sample((300, 257), scheme, dtype=dtype, seed=9, stream="w",
                                      threads=2).tobytes())
for scheme in ("glorot_uniform", "he_normal", "truncated_normal"):  # bfloat16, as raw bits
    digest.update(_fill.fill_as(np.empty((300, 257), np.uint16), "bfloat16", scheme, {}, 9, 0, 2,
                                None, None).tobytes())
got = [fastinit.get_config()["simd"], digest.hexdigest()]
print(*got)
if len(sys.argv) > 1 and sys.argv[1:] != got:
    sys.exit(f"isa_smoke: expected {' '.join(sys.argv[1:])}")
