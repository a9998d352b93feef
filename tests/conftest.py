import os
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from fastinit import _engine


@pytest.fixture
def simd_path():
    """Yields a function that switches the SIMD path; restores the original after."""
    original = _engine.simd_current()
    yield _engine.simd_select
    _engine.simd_select(original)


def filled(shape, scheme, dtype=np.float32, order="C", **kw):
    """A new array of shape filled by fastinit.fill."""
    out = np.empty(shape, dtype=dtype, order=order)
    return fastinit.fill(out, scheme, **kw)


def run_python(code, timeout=120, **env):
    """Runs `code` in a fresh interpreter that imports the same fastinit as the tests
    (same environment plus `env`; started outside the source tree so that a source
    checkout without the built extension is not imported instead)."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastinit.__file__)))
    env = {**os.environ, "PYTHONPATH": package_parent, **env}
    return subprocess.run([sys.executable, "-c", code], env=env,
                          cwd=os.path.dirname(os.path.abspath(__file__)),
                          capture_output=True, text=True, timeout=timeout)
