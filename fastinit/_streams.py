"""Seeds and streams: the (seed, stream) pair that names a sequence of values.

docs/stream.md fixes both as integers in [0, 2**64); a stream given as a string is
the little-endian integer of its 8-byte BLAKE2b digest, so a tensor's values
depend on its name, not on the order in which a model's layers are built.
"""
import hashlib
import operator

U64 = 1 << 64


def as_int(value, what, limit, limit_text):
    """value as a Python int in [0, limit), or a TypeError/ValueError naming `what`."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer in [0, {limit_text}), got a bool")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer in [0, {limit_text}), got "
                        f"{type(value).__name__} {value!r}") from None
    if not 0 <= n < limit:
        raise ValueError(f"{what} must be in [0, {limit_text}), got {n}")
    return n


def _as_u64(value, what):
    return as_int(value, what, U64, "2**64")


def check_seed(seed):
    """The seed as a Python int in [0, 2**64)."""
    if type(seed) is int and 0 <= seed < U64:  # the common case, kept cheap
        return seed
    return _as_u64(seed, "seed")


def stream_id(stream):
    """The stream as a Python int: ints pass through, strings are hashed."""
    if type(stream) is int and 0 <= stream < U64:
        return stream
    if isinstance(stream, str):
        digest = hashlib.blake2b(stream.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "little")
    if isinstance(stream, (bytes, bytearray)):
        raise TypeError("stream must be an int or a str; decode bytes names first")
    return _as_u64(stream, "stream")
