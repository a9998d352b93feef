"""The C core (src/) built as a plain C program around a driver from tests/c/, by any C
compiler, for the tests that compare builds by other compilers or for another
architecture. The sources are every src/*.c, as setup.py builds them."""
import glob
import os
import shlex
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = sorted(glob.glob(os.path.join(ROOT, "src", "*.c")))
KAT_FILE = os.path.join(ROOT, "tests", "data", "philox_kat.txt")
# setup.py's flags that decide values (-ffp-contract=off), with warnings as errors: the
# core stays clean under -Wall -Wextra with every compiler it is built with.
FLAGS = ["-std=c11", "-O2", "-ffp-contract=off", "-fno-math-errno", "-pthread", "-DNDEBUG",
         "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(ROOT, "src")]


def host_cc():
    """The compiler command that builds the extension here: $CC, else cc."""
    return shlex.split(os.environ.get("CC", "cc"))


def have(cc):
    return shutil.which(cc[0] if isinstance(cc, list) else cc) is not None


def build(cc, driver, out, *extra):
    """Compiles tests/c/<driver> with the core into `out`; fails the test with the
    compiler's messages if it does not build cleanly."""
    cc = cc if isinstance(cc, list) else [cc]
    done = subprocess.run([*cc, *FLAGS, *extra, os.path.join(ROOT, "tests", "c", driver),
                           *SOURCES, "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cc)} failed:\n{done.stderr}"
    return str(out)


def run(program, *args, runner=(), timeout=120):
    """stdout of the program run with args (under `runner`, such as qemu)."""
    done = subprocess.run([*runner, program, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{program} {' '.join(map(str, args))}: {done.stderr}"
    return done.stdout
