"""The same bits on another architecture: the C core built for aarch64 (portable path,
NEON) and run under qemu passes the Philox known answers and writes what the host writes
on each of its SIMD paths. Needs a cross compiler and qemu-user (Debian:
gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, and qemu-user or qemu-user-static), which
.ci/run installs; skipped where they are missing."""
import shutil

import pytest

import c_core
from fastinit import _engine

CROSS_CC = "aarch64-linux-gnu-gcc"
QEMU = shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")


@pytest.mark.skipif(not (shutil.which(CROSS_CC) and QEMU and c_core.have(c_core.host_cc())),
                    reason=f"needs {CROSS_CC}, qemu-aarch64 and a host C compiler")
def test_aarch64_writes_the_same_bits_as_every_host_path(c_program):
    cross = c_program(CROSS_CC, "stream_digest.c", "-static")
    want = c_core.run(cross, c_core.KAT_FILE, runner=[QEMU], timeout=300)
    assert want.count("\n") == 39, want  # known answers, 4 dtypes x 8 fills, 5 math, 1 raw
    assert want.startswith("philox known answers: "), want
    host = c_program(c_core.host_cc())
    for path in _engine.simd_available():
        assert c_core.run(host, c_core.KAT_FILE, path) == want, f"host path {path} differs"
