"""A pure-Python (NumPy) model of docs/stream.md, written from the spec
alone and sharing no code with fastinit, so that tests can compare the C core
against it.

Exact where the spec is exact (Philox words, uniform values in the target
dtype); float64 with the platform's libm where fastinit uses its own
functions (normal, truncated normal): compare those with a tolerance.
"""
import hashlib
import math
from fractions import Fraction

import numpy as np
from scipy.special import erfinv

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(counter, key):
    """Philox4x32-10 on one counter (4 ints) and key (2 ints), plain Python ints."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & MASK, (p0 >> 32) ^ c3 ^ k1, p0 & MASK)
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return (c0, c1, c2, c3)


def stream_of_name(name):
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def blocks(seed, stream, first, count):
    """Words of blocks first .. first+count-1 as a (count, 4) uint32 array (vectorised Philox)."""
    b = np.uint64(first) + np.arange(count, dtype=np.uint64)
    m = np.uint64(MASK)
    c = [b & m, b >> np.uint64(32),
         np.full(count, stream & MASK, np.uint64), np.full(count, stream >> 32, np.uint64)]
    k0, k1 = seed & MASK, seed >> 32
    for _ in range(10):
        p0 = np.uint64(M0) * c[0]
        p1 = np.uint64(M1) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & m,
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & m]
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return np.stack(c, axis=1).astype(np.uint32)


def raw_words(seed, stream, start, count):
    """Raw words start .. start+count-1 (start may be up to 2**66)."""
    first = start // 4
    nblocks = (start % 4 + count + 3) // 4
    words = blocks(seed, stream, first, nblocks).reshape(-1)
    return words[start % 4: start % 4 + count]


def raw64(seed, stream, start, count):
    """Raw 64-bit values start .. start+count-1: word 2j high, word 2j+1 low."""
    w = raw_words(seed, stream, 2 * start, 2 * count).astype(np.uint64)
    return (w[0::2] << np.uint64(32)) | w[1::2]


def _k(seed, stream, start, count, dtype):
    """The top bits k of the raw word (float32) or raw 64-bit value (float64) i."""
    if dtype == np.float32:
        return raw_words(seed, stream, start, count) >> np.uint32(8), 24
    return raw64(seed, stream, start, count) >> np.uint64(11), 53


def symmetric(seed, stream, start, count, dtype):
    """s = (2k + 1 - 2^p) 2^-p, exact in dtype."""
    k, p = _k(seed, stream, start, count, dtype)
    m = 2 * k.astype(np.int64) + 1 - 2**p
    return (m.astype(dtype) * dtype(2.0**-p)).astype(dtype)


def open01(seed, stream, start, count, dtype):
    """u = (k + 0.5) 2^-p computed in dtype."""
    k, p = _k(seed, stream, start, count, dtype)
    return ((k.astype(dtype) + dtype(0.5)) * dtype(2.0**-p)).astype(dtype)


def round_once(q, dtype):
    """The value of dtype nearest to the rational q, ties to even. (dtype(float(q))
    could round twice, through float64.)"""
    x = dtype(float(q))
    bits = np.uint32 if dtype == np.float32 else np.uint64
    neighbours = [np.nextafter(x, dtype(-np.inf)), x, np.nextafter(x, dtype(np.inf))]
    return min(neighbours, key=lambda v: (abs(Fraction(float(v)) - q),
                                          int(np.array(v).view(bits)) & 1))


def mid_half(low, high, dtype):
    """uniform(low, high)'s mid = (low + high) / 2 and half = (high - low) / 2, each
    rounded once to dtype from its exact value."""
    low, high = Fraction(low), Fraction(high)
    return round_once((low + high) / 2, dtype), round_once((high - low) / 2, dtype)


def uniform(seed, stream, start, count, dtype, mid, half):
    """Elements start.. of uniform with (mid, half) given in dtype: exact."""
    s = symmetric(seed, stream, start, count, dtype)
    return (dtype(mid) + dtype(half) * s).astype(dtype)


def normal(seed, stream, start, count, dtype, mean, std):
    """Elements start.. of normal(mean, std), evaluated in float64 from the exact uniforms."""
    first_pair, last_pair = start // 2, (start + count - 1) // 2
    npairs = last_pair - first_pair + 1
    u = open01(seed, stream, 2 * first_pair, 2 * npairs, dtype).astype(np.float64)
    two_pi = float(dtype(2 * math.pi))
    t = (two_pi * u[1::2].astype(dtype)).astype(dtype).astype(np.float64)
    r = np.sqrt(-2.0 * np.log(u[0::2]))
    z = np.empty(2 * npairs)
    z[0::2], z[1::2] = r * np.cos(t), r * np.sin(t)
    z = z[start - 2 * first_pair: start - 2 * first_pair + count]
    return mean + std * z


def truncated_normal(seed, stream, start, count, dtype, mean, std, bound):
    """Elements start.. of the normal truncated at +-bound std. The argument of erfinv is
    rounded to dtype step by step as docs/stream.md orders it (erfinv is steep near +-1, so a
    float64 argument would not be the one the stream defines); erf and erfinv themselves
    are evaluated in float64."""
    s = symmetric(seed, stream, start, count, dtype)
    c_over_sqrt2 = dtype(dtype(bound) / dtype(math.sqrt(2)))
    e = dtype(math.erf(float(c_over_sqrt2)))
    t = (s * e).astype(dtype).astype(np.float64)
    z = float(dtype(math.sqrt(2))) * erfinv(t)
    z = np.clip(z, -float(dtype(bound)), float(dtype(bound)))
    return mean + std * z
