"""Times fastinit.fill against NumPy, PyTorch (when installed) and memset of the same buffer.

    python benchmarks/bench_fill.py                 # 2**26 elements, float32 and float64
    python benchmarks/bench_fill.py --size 2**24 --threads 1 --json

The measuring code is fastinit._bench, so that `python -m fastinit bench`
(which users run from an installed wheel) and this script print the same table.
"""
import sys

from fastinit import _bench

if __name__ == "__main__":
    sys.exit(_bench.main(sys.argv[1:]))
