"""How many threads a fill uses: `threads=` per call, else FASTINIT_NUM_THREADS,
else the CPUs this process may run on. Values never depend on it."""
import os

import numpy as np

MAX_THREADS = 1024  # the C pool's limit


def _from_environment():
    env = os.environ.get("FASTINIT_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"FASTINIT_NUM_THREADS must be a positive integer, got {env!r}")
        return min(n, MAX_THREADS)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


DEFAULT = _from_environment()


def resolve(threads):
    """`threads` checked, or the default for None."""
    if threads is None:
        return DEFAULT
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be a positive int or None, got {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return int(min(threads, MAX_THREADS))
