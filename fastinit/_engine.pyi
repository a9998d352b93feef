"""Types of fastinit._engine, the compiled Cython binding (_engine.pyx), for mypy and
editors, which cannot read a compiled module. Keep it in step with _engine.pyx:
tests/test_packaging.py checks that both have the same names and parameters."""
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

_Out = TypeVar("_Out")

STREAM_VERSION: int
MAX_DIMS: int
STREAM_MIN_BYTES: int
KINDS: dict[str, int]

def fill_buffer(out: _Out, kind: str, a: float, b: float, c: float, seed: int, stream: int,
                global_shape: tuple[int, ...] | None, origin: tuple[int, ...] | None,
                threads: int) -> _Out: ...
def random_raw(count: int, seed: int, stream: int, block: int, offset: int,
               threads: int) -> npt.NDArray[np.uint32]: ...
def eval_math(fn: str, x: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...
def simd_current() -> str: ...
def simd_available() -> list[str]: ...
def simd_all() -> list[str]: ...
def simd_select(name: str) -> None: ...
