"""Builds fastinit's one extension: the Cython binding plus the C core in src/.

Portable flags only: wider instructions are enabled per function inside
src/kernels_avx2.c and src/kernels_avx512.c and chosen at run time.
Set FASTINIT_DEBUG=1 for an unoptimised build with assertions, or
FASTINIT_SANITIZE=1 for AddressSanitizer/UBSan.
"""
import glob
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

# Every C file of src/ (tests/c_core.py builds the same list into test programs).
C_SOURCES = sorted(glob.glob("src/*.c"))

# -ffp-contract=off: no fused multiply-add, so every path rounds the same way.
# -fno-math-errno: sqrt becomes one instruction and can be vectorised (only errno changes).
compile_args = ["-std=c11", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra",
                "-Wno-unused-function", "-pthread"]
link_args = ["-pthread"]
macros = []
if os.environ.get("FASTINIT_DEBUG"):
    compile_args += ["-O0", "-g"]
else:
    compile_args += ["-O3"]
    macros += [("NDEBUG", None)]
if os.environ.get("FASTINIT_SANITIZE"):
    compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    link_args += ["-fsanitize=address,undefined"]

extension = Extension(
    "fastinit._engine",
    sources=["fastinit/_engine.pyx"] + C_SOURCES,
    include_dirs=["src"],
    define_macros=macros,
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([extension], language_level=3,
                            compiler_directives={"embedsignature": True}))
