/* float32 to bfloat16 and float16 on vectors, rounded to nearest, ties to
 * even, in integer arithmetic on the bits: the same on every path (docs/stream.md,
 * "Narrow formats"). NaN cannot arise in a fill and is not handled: what
 * these give for it is unspecified. Each returns, in each 32-bit lane, the
 * narrow value's 16 bits: bfloat16 in the high half (the low half is what the
 * rounding left there), float16 in the low half (the high half zero); a
 * path's v_pack_hi16 or v_pack_lo16 then packs two vectors' lanes into one
 * vector, in order. */
#ifndef FASTINIT_NARROW_H
#define FASTINIT_NARROW_H

#ifndef FI_VBYTES
#error "include a simd_<path>.h header before narrow.h"
#endif

FI_INLINE vu32 sel_u32(vi32 mask, vu32 a, vu32 b)
{
    return (a & (vu32)mask) | (b & ~(vu32)mask);
}

/* bfloat16 is the top half of a float32. Adding 0x7fff, plus 1 when the kept
 * half is odd, carries into it exactly when the dropped half is above one
 * half, or is one half and the kept half is odd; a carry out of the
 * significand steps the exponent, up to infinity, as IEEE rounding does.
 * Subnormals round like any other number, and the sign rides along. */
FI_INLINE vu32 bf16_in_high_half(vf x)
{
    vu32 u = (vu32)x;
    return u + 0x7fffu + ((u >> 16) & 1u);
}

/* float16: 1 sign, 5 exponent (bias 15), 10 significand bits. On |x|:
 * - from 2^-14 (the smallest normal float16) on: rebias the exponent
 *   (127 -> 15) and round away 13 significand bits as for bfloat16; a carry
 *   may step the exponent, up to 0x7c00, infinity;
 * - below it, float16 has subnormals, spaced 2^-24 apart: the float32 sum
 *   |x| + 0.5 lies in [0.5, 1), where float32 values are spaced 2^-24 apart
 *   too, so the addition itself rounds |x| to a multiple of 2^-24, ties to
 *   even (IEEE addition: the same on every path), and the sum's low bits
 *   count those multiples: the float16 bits. Flush-to-zero modes change
 *   nothing: the sum is never subnormal, and an |x| that one treats as 0 is
 *   below 2^-126, which rounds to 0 anyway;
 * - from 65536 on (2^16, past the largest float16 and its rounding range):
 *   infinity. */
FI_INLINE vu32 f16_in_low_half(vf x)
{
    const vu32 u = (vu32)x;
    const vu32 sign = u & 0x80000000u;
    const vu32 a = u ^ sign;
    const vu32 normal = (a - ((127u - 15u) << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    const vu32 subnormal = (vu32)((vf)a + 0.5f) - 0x3f000000u;  /* bits of 0.5 */
    vu32 h = sel_u32((vi32)a < (113 << 23), subnormal, normal);    /* below 2^-14 */
    h = sel_u32((vi32)a >= (143 << 23), (vu32){0} + 0x7c00u, h);  /* from 2^16 on */
    return h | sign >> 16;
}

#endif
