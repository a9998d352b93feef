"""The same bits on another architecture: the C core built for aarch64 (portable path,
NEON) and run under qemu writes what the host writes on each of its SIMD paths.
Needs a cross compiler and qemu (Debian: gcc-aarch64-linux-gnu, qemu-user-static);
skipped where they are missing."""
import os
import shutil
import subprocess

import pytest

from fastinit import _engine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = [os.path.join(ROOT, "tests", "c", "stream_digest.c")] + [
    os.path.join(ROOT, "src", f) for f in ("fill.c", "dispatch.c", "threadpool.c",
                                           "kernels_portable.c", "kernels_avx2.c",
                                           "kernels_avx512.c")]
FLAGS = ["-std=c11", "-O2", "-ffp-contract=off", "-fno-math-errno", "-pthread", "-DNDEBUG",
         "-I" + os.path.join(ROOT, "src")]
CROSS_CC, QEMU = "aarch64-linux-gnu-gcc", "qemu-aarch64-static"


@pytest.mark.skipif(not (shutil.which(CROSS_CC) and shutil.which(QEMU) and shutil.which("gcc")),
                    reason=f"needs {CROSS_CC} and {QEMU}")
def test_aarch64_writes_the_same_bits_as_every_host_path(tmp_path):
    host, cross = tmp_path / "digest_host", tmp_path / "digest_aarch64"
    subprocess.run(["gcc", *FLAGS, *SOURCES, "-o", str(host)], check=True)
    subprocess.run([CROSS_CC, *FLAGS, "-static", *SOURCES, "-o", str(cross)], check=True)
    want = subprocess.run([QEMU, str(cross)], capture_output=True, text=True, check=True,
                          timeout=300).stdout
    assert want.count("\n") == 38, want  # 4 dtypes x 8 fills, 5 math, 1 raw
    for path in _engine.simd_available():
        got = subprocess.run([str(host), path], capture_output=True, text=True, check=True).stdout
        assert got == want, f"host path {path} differs from aarch64"
