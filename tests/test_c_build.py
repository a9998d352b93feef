"""The C core builds cleanly (-Wall -Wextra -Werror) with gcc and with clang, and both
builds write the same bits on every SIMD path; the files that run before dispatch has
asked the CPU refuse to be compiled with AVX enabled. Needs gcc and clang (Debian's
clang, which .ci/run installs); skipped where one is missing."""
import os
import subprocess

import pytest

import c_core
from fastinit import _engine

needs_gcc_and_clang = pytest.mark.skipif(not (c_core.have("gcc") and c_core.have("clang")),
                                         reason="needs gcc and clang")


def wide_kernel_files():
    """The files compiled for a wider ISA: those that open a target region (target.h)."""
    return [f for f in c_core.SOURCES if "FI_TARGET_BEGIN(" in open(f, encoding="utf-8").read()]


@needs_gcc_and_clang
def test_clang_build_writes_what_the_gcc_build_writes(c_program):
    gcc, clang = c_program("gcc"), c_program("clang")
    for path in _engine.simd_available():
        want = c_core.run(gcc, c_core.KAT_FILE, path)
        assert c_core.run(clang, c_core.KAT_FILE, path) == want, f"{path} path differs"


@needs_gcc_and_clang
@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("source", sorted(set(c_core.SOURCES) - set(wide_kernel_files())),
                         ids=os.path.basename)
def test_baseline_file_refuses_to_build_with_avx(cc, source):
    done = subprocess.run([cc, *c_core.FLAGS, "-mavx2", "-fsyntax-only", source],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "__AVX__" in done.stderr, done.stderr
