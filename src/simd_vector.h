/* The vector API that fimath.h, philox_lanes.h and kernels_impl.h are written
 * against, once for every SIMD path.
 *
 * A path's header (simd_portable.h, simd_avx2.h, simd_avx512.h) sets
 * FI_VBYTES, includes this file, and defines the few operations below marked
 * "per path". Everything else is GCC vector extensions (also understood by
 * clang): + - * / & | ^ << >> and comparisons act lane by lane, a scalar
 * operand is broadcast, a cast between vector types of the same size
 * reinterprets the bits. IEEE + - * / are correctly rounded on every ISA and
 * nothing is fused (-ffp-contract=off), so the same expression gives the same
 * bits on every path; each per-path operation is exact or correctly rounded,
 * so it does too.
 *
 * Per path:
 *   vf v_sqrt_f(vf); vd v_sqrt_d(vd)                 IEEE square root
 *   vd v_u64_to_d(vu64); vd v_i64_to_d(vi64)         correctly rounded conversions
 *   vf v_min_f(vf a, vf b), v_max_f, v_min_d, v_max_d
 *                                                    a < b ? a : b (a > b ? a : b), lane by lane
 *   int v_any32(vi32 mask); int v_any64(vi64 mask)   some lane of a comparison is true
 *   vu64 v_mul_even_u32(vu32 a, vu32 b)              products of the 32-bit slots 0, 2 of each 64-bit lane
 *   vu32 v_xor_odd_u32(vu32 p, vu32 s, vu32 k)       p, with p ^ s ^ k in the odd 32-bit slots
 *   FI_PERM4_U32(x, i, j, k, l)                      slots (i, j, k, l) of each 128-bit group of
 *                                                    vu32 x (a macro: the slots are constants)
 *   FI_PAIRS_U32(a, b, i, j)                         slots (a_i, a_j, b_i, b_j) of each 128-bit
 *                                                    group of vu32 a, b (a macro, like PERM4)
 *   void v_interleave_f(vf lo, vf hi, vf *a, vf *b)   (lo_i, hi_i) pairs of each 128-bit group:
 *       a = (lo0, hi0, lo1, hi1), b = (lo2, hi2, lo3, hi3); undoes FI_PAIRS_U32
 *       with slots (0, 2) and (1, 3)
 *   void v_deinterleave64(vu64 a, vu64 b, vu64 *lo, vu64 *hi)
 *   void v_interleave_d(vd lo, vd hi, vd *a, vd *b)
 *       The same with two 64-bit lanes per group: lo = (a0, b0), hi = (a1, b1).
 *   void v_stream(void *p, vu32); void v_stream_fence(void)
 *       Store to FI_VBYTES-aligned p bypassing the caches (or a plain store);
 *       the fence orders those stores before later ones.
 *   vu32 v_pack_lo16(vu32 a, vu32 b), v_pack_hi16    the low (high) 16 bits of each 32-bit lane
 *       of a, then of b, in order: one vector of 16-bit lanes (lo16: lanes < 2^16)
 *   FI_STEP_VECS                                     Philox vectors in flight per step
 *
 * Optional, where a path has conversion instructions for narrow dtypes
 * (narrow.h says what they must equal; kernels use them only where the CPU
 * has the features FI_HW_*_NEEDS, from kernels.h, and tests compare them
 * with integer rounding):
 *   FI_HW_F16, FI_HW_F16_NEEDS; vu32 v_f16_hw(vf a, vf b)
 *       a's then b's lanes rounded to float16, packed like v_pack_lo16
 *   FI_HW_BF16, FI_HW_BF16_NEEDS; vu32 v_bf16_hw(vf a, vf b)
 *       the same for bfloat16, right for every lane that is not subnormal
 *   int v_any_subnormal_f(const vu32 *y, int n)      some lane of y[0..n) is a subnormal float32
 * (FI_HW_*: the features' CPUID name, a string.)
 */
#ifndef FASTINIT_SIMD_VECTOR_H
#define FASTINIT_SIMD_VECTOR_H

#include <stdint.h>
#include <string.h>

#ifndef FI_VBYTES
#error "include a simd_<path>.h header, not simd_vector.h"
#endif

#define FI_LANES32 (FI_VBYTES / 4)
#define FI_LANES64 (FI_VBYTES / 8)

typedef float vf __attribute__((vector_size(FI_VBYTES)));
typedef double vd __attribute__((vector_size(FI_VBYTES)));
typedef uint32_t vu32 __attribute__((vector_size(FI_VBYTES)));
typedef int32_t vi32 __attribute__((vector_size(FI_VBYTES)));
typedef uint64_t vu64 __attribute__((vector_size(FI_VBYTES)));
typedef int64_t vi64 __attribute__((vector_size(FI_VBYTES)));

#define FI_INLINE static inline __attribute__((always_inline))

/* memcpy: any alignment, and no aliasing questions. */
FI_INLINE vu32 v_load_u32(const void *p) { vu32 v; memcpy(&v, p, sizeof v); return v; }
FI_INLINE vf v_load_f(const void *p) { vf v; memcpy(&v, p, sizeof v); return v; }
FI_INLINE vd v_load_d(const void *p) { vd v; memcpy(&v, p, sizeof v); return v; }
FI_INLINE void v_store(void *p, vu32 v) { memcpy(p, &v, sizeof v); }

/* Lane-by-lane fill rather than 0 + x, which would turn -0 into +0. */
FI_INLINE vf v_bcast_f(float x)
{
    vf v;
    for (int i = 0; i < FI_LANES32; i++)
        v[i] = x;
    return v;
}
FI_INLINE vd v_bcast_d(double x)
{
    vd v;
    for (int i = 0; i < FI_LANES64; i++)
        v[i] = x;
    return v;
}
FI_INLINE vu64 v_bcast_u64(uint64_t x)
{
    return (vu64){0} + x;
}
/* (a, b, c, d) in every 128-bit group. */
FI_INLINE vu32 v_u32x4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    vu32 v;
    for (int i = 0; i < FI_LANES32; i += 4) {
        v[i] = a;
        v[i + 1] = b;
        v[i + 2] = c;
        v[i + 3] = d;
    }
    return v;
}

/* Exact for |x| < 2^24, the only use (all x86 conversions round to nearest). */
FI_INLINE vf v_i32_to_f(vi32 x) { return __builtin_convertvector(x, vf); }

/* mask ? a : b with a mask from a comparison (all ones or all zeros per lane). */
FI_INLINE vf v_sel_f(vi32 mask, vf a, vf b)
{
    return (vf)(((vi32)a & mask) | ((vi32)b & ~mask));
}
FI_INLINE vd v_sel_d(vi64 mask, vd a, vd b)
{
    return (vd)(((vi64)a & mask) | ((vi64)b & ~mask));
}

/* Generic versions of some per-path operations, for paths without one
 * instruction for them. */

/* Correctly rounded u64 -> double: 2^84 + hi 2^32 and 2^52 + lo are exact
 * doubles, the subtraction is exact, so the one rounding is the final add. */
FI_INLINE vd v_u64_to_d_generic(vu64 x)
{
    vd hi = (vd)((x >> 32) | 0x4530000000000000u) - (0x1p84 + 0x1p52);
    vd lo = (vd)((x & 0xffffffffu) | 0x4330000000000000u);
    return hi + lo;
}
/* The same for i64: flipping bit 31 of the high word turns the signed hi into
 * hi + 2^31 >= 0, and the constant takes the 2^63 back out, exactly. */
FI_INLINE vd v_i64_to_d_generic(vi64 x)
{
    vd hi = (vd)(((vu64)x >> 32) ^ 0x4530000080000000u) - (0x1p84 + 0x1p63 + 0x1p52);
    vd lo = (vd)(((vu64)x & 0xffffffffu) | 0x4330000000000000u);
    return hi + lo;
}
/* The low halves of a's lanes then of b's, whatever the byte order. */
typedef uint16_t fi_vu16_half __attribute__((vector_size(FI_VBYTES / 2)));
FI_INLINE vu32 v_pack_lo16_generic(vu32 a, vu32 b)
{
    fi_vu16_half lo = __builtin_convertvector(a, fi_vu16_half);
    fi_vu16_half hi = __builtin_convertvector(b, fi_vu16_half);
    vu32 r;
    memcpy(&r, &lo, sizeof lo);
    memcpy((char *)&r + sizeof lo, &hi, sizeof hi);
    return r;
}
FI_INLINE vf v_min_f_generic(vf a, vf b) { return v_sel_f(a < b, a, b); }
FI_INLINE vf v_max_f_generic(vf a, vf b) { return v_sel_f(a > b, a, b); }
FI_INLINE vd v_min_d_generic(vd a, vd b) { return v_sel_d(a < b, a, b); }
FI_INLINE vd v_max_d_generic(vd a, vd b) { return v_sel_d(a > b, a, b); }

#endif
