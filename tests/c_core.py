"""The C core (src/) built as a plain C program around a driver from tests/c/, by any C
compiler, for the tests that compare builds by other compilers or for another
architecture, and the data file its drivers share with the Python tests. The sources
are every src/*.c, as setup.py builds them."""
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


def known_answers():
    """(counter, key, output) of each line of tests/data/philox_kat.txt (Random123's
    format: "philox4x32 10", 4 counter words, 2 key words, 4 output words, hex)."""
    answers = []
    with open(KAT_FILE, encoding="ascii") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, rounds, *words = line.split()
                assert (name, rounds, len(words)) == ("philox4x32", "10", 10), line
                w = tuple(int(x, 16) for x in words)
                answers.append((w[0:4], w[4:6], w[6:10]))
    return answers
