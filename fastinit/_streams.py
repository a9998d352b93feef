"""Seeds and streams: the (seed, stream) pair that names a sequence of values.

docs/stream.md fixes both as integers in [0, 2**64); a stream given as a string is
the little-endian integer of its 8-byte BLAKE2b digest, so a tensor's values
depend on its name, not on the order in which a model's layers are built.
"""
import hashlib

from ._params import integer

U64 = 1 << 64


def as_int(value, what, limit, limit_text=None):
    """value as a Python int in [0, limit): _params.integer, which new code calls."""
    return integer(what, value, 0, limit - 1)


def check_seed(seed):
    """The seed as a Python int in [0, 2**64)."""
    if type(seed) is int and 0 <= seed < U64:  # the common case, kept cheap
        return seed
    return integer("seed", seed, 0, U64 - 1)


def stream_id(stream):
    """The stream as a Python int: ints pass through, strings are hashed."""
    if type(stream) is int and 0 <= stream < U64:
        return stream
    if isinstance(stream, str):
        try:
            name = stream.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a bad file name
            raise ValueError(f"stream {stream!r} is not text that UTF-8 can encode ({exc.reason} "
                             f"at index {exc.start}), so it names no stream; give a name made "
                             f"of valid characters") from None
        return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "little")
    if isinstance(stream, (bytes, bytearray)):
        raise TypeError("stream must be an int or a str; decode bytes names first")
    return integer("stream", stream, 0, U64 - 1)
