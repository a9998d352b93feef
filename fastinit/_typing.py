"""Names for the types the public API takes, used in its annotations.

Seeds, streams, shapes and regions are checked at run time by _params.integer, which
takes any int-like (a NumPy integer too) and refuses bools and floats; the annotations
say the same.
"""
from typing import Any, Sequence, SupportsIndex, TypeVar, Union

Seed = SupportsIndex                                    # an int in [0, 2**64)
Stream = Union[SupportsIndex, str]                      # a number, or a name hashed to one
Shape = Union[SupportsIndex, Sequence[SupportsIndex]]
Region = Sequence[SupportsIndex]                        # global_shape=, origin=
ArrayT = TypeVar("ArrayT")                              # fill returns the object it was given
# "float32", "float64", "bfloat16", "float16", a NumPy dtype or type, ml_dtypes.bfloat16 or a
# torch dtype (checked at run time by fastinit._dtypes.lookup)
DTypeLike = Any
