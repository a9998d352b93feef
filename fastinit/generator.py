"""fastinit.Generator: one seed, and the independent streams under it."""
from __future__ import annotations

import itertools
import secrets
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _dtypes, _fill, _params, _streams, _threads
from ._typing import ArrayT, DTypeLike, Region, Seed, Shape, Stream


class Generator:
    """A seed from which every tensor of a model draws its own stream.

    Parameters
    ----------
    seed : int in [0, 2**64), optional
        Without one, 64 bits of OS entropy; `.seed` tells which, so that a
        run can be repeated.

    Each fill reads one stream of the seed (docs/stream.md). With ``name=`` the
    stream is that name (a str is hashed, an int is used as it is), so a
    tensor's values depend on its name, not on the order in which a model's
    layers are built; a sharded fill must name its stream so that every shard
    reads the same one. Without a name each call takes the next unused
    stream: 0, 1, 2, ... (names hash to 64-bit numbers, so they do not meet
    these by accident).

    >>> gen = fastinit.Generator(42)
    >>> w = gen.fill(np.empty((512, 256), np.float32), "he_normal", name="encoder.0.weight")
    >>> b = gen.sample(256, "zeros")
    >>> again = fastinit.Generator(42).sample((512, 256), "he_normal", name="encoder.0.weight")
    >>> bool(np.array_equal(w, again))  # the name, not the order of calls, gives the values
    True
    """

    def __init__(self, seed: Seed | None = None) -> None:
        self._seed = secrets.randbits(64) if seed is None else _streams.check_seed(seed)
        self._fresh = itertools.count()

    @property
    def seed(self) -> int:
        """The seed, an int in [0, 2**64)."""
        return self._seed

    def __repr__(self) -> str:
        return f"fastinit.Generator(seed={self._seed})"

    def _stream(self, name):
        return self._fresh if name is None else _streams.stream_id(name)

    def fill(self, array: ArrayT, scheme: str, *, name: Stream | None = None,
             threads: int | None = None, global_shape: Region | None = None,
             origin: Region | None = None, **params: Any) -> ArrayT:
        """Fills `array` in place with `scheme` and returns it; see fastinit.fill.

        name : str or int, optional
            The stream: a tensor's name (e.g. "decoder.3.mlp.weight") or a
            stream number. Default: the next unused stream.
        """
        return _fill.fill(array, scheme, params, self._seed, self._stream(name),
                          _threads.resolve(threads), global_shape, origin)

    def sample(self, shape: Shape, scheme: str, *, dtype: DTypeLike = np.float32,
               name: Stream | None = None, threads: int | None = None,
               global_shape: Region | None = None, origin: Region | None = None,
               **params: Any) -> npt.NDArray[Any]:
        """A new array of `shape` and `dtype` filled with `scheme`; see fastinit.sample."""
        return self.fill(new_array(shape, dtype), scheme, name=name, threads=threads,
                         global_shape=global_shape, origin=origin, **params)


def new_array(shape, dtype):
    """np.empty(shape, dtype) for a dtype fastinit writes (bfloat16: ml_dtypes')."""
    return np.empty(_params.shape(shape), _dtypes.lookup(dtype).numpy())


# The generator behind calls that give no seed: OS entropy until fastinit.seed(n).
_default = Generator()


def seed(n: Seed | None = None) -> None:
    """Seeds the generator used by calls that give no seed; its streams restart at 0.

    ``fastinit.seed(n)`` makes a script's unseeded fills repeatable (in call
    order); ``fastinit.seed()`` takes fresh OS entropy again.
    """
    global _default
    _default = Generator(n)


def default_generator() -> Generator:
    """The generator used by calls that give no seed."""
    return _default
