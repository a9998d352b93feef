"""How many threads a fill uses: `threads=` per call, else FASTINIT_NUM_THREADS,
else the CPUs this process may run on. Values never depend on it.

A count above the number of CPUs of the machine (_engine.max_threads(), which the
C core applies to every fill) is clamped to it, not refused: more threads than CPUs
cannot fill faster, and since the values are the same on any number of threads,
a script written for a large machine runs unchanged on a small one."""
import os

from . import _engine, _params


def _from_environment():
    env = os.environ.get("FASTINIT_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"FASTINIT_NUM_THREADS must be a positive integer, got {env!r}")
        return min(n, _engine.max_threads())
    try:
        return min(len(os.sched_getaffinity(0)), _engine.max_threads())
    except AttributeError:
        return _engine.max_threads()


DEFAULT = _from_environment()


def resolve(threads):
    """`threads` checked, or the default for None; clamped to _engine.max_threads()."""
    if threads is None:
        return DEFAULT
    if type(threads) is not int or threads < 1:
        threads = _params.integer("threads", threads, 1)
    return min(threads, _engine.max_threads())
