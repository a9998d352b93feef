/* The vector API (simd_vector.h) in plain C with GCC vector extensions: no
 * x86 intrinsics, so it builds for any target the compiler has; 16 bytes is
 * one SSE2 or NEON register, and the compiler splits it where there is none. */
#ifndef FASTINIT_SIMD_PORTABLE_H
#define FASTINIT_SIMD_PORTABLE_H

#define FI_VBYTES 16
#define FI_STEP_VECS 8
#include "simd_vector.h"

/* Lanes of the concatenation (a, b), by index. */
#if defined(__clang__)
#define FI_SHUFFLE32(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#define FI_SHUFFLE64(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define FI_SHUFFLE32(a, b, ...) __builtin_shuffle(a, b, (vi32){__VA_ARGS__})
#define FI_SHUFFLE64(a, b, ...) __builtin_shuffle(a, b, (vi64){__VA_ARGS__})
#endif

FI_INLINE vf v_sqrt_f(vf x)
{
    for (int i = 0; i < FI_LANES32; i++)
        x[i] = __builtin_sqrtf(x[i]);
    return x;
}
FI_INLINE vd v_sqrt_d(vd x)
{
    for (int i = 0; i < FI_LANES64; i++)
        x[i] = __builtin_sqrt(x[i]);
    return x;
}

FI_INLINE vd v_u64_to_d(vu64 x) { return v_u64_to_d_generic(x); }
FI_INLINE vd v_i64_to_d(vi64 x) { return v_i64_to_d_generic(x); }
FI_INLINE vf v_min_f(vf a, vf b) { return v_min_f_generic(a, b); }
FI_INLINE vf v_max_f(vf a, vf b) { return v_max_f_generic(a, b); }
FI_INLINE vd v_min_d(vd a, vd b) { return v_min_d_generic(a, b); }
FI_INLINE vd v_max_d(vd a, vd b) { return v_max_d_generic(a, b); }

FI_INLINE int v_any32(vi32 m)
{
    int32_t any = 0;
    for (int i = 0; i < FI_LANES32; i++)
        any |= m[i];
    return any != 0;
}
FI_INLINE int v_any64(vi64 m)
{
    int64_t any = 0;
    for (int i = 0; i < FI_LANES64; i++)
        any |= m[i];
    return any != 0;
}

/* Lane by lane: GCC turns the masked 64-bit vector product into a full
 * 64x64 multiply (three 32-bit ones), which costs more than two scalar
 * widening multiplies. */
FI_INLINE vu64 v_mul_even_u32(vu32 a, vu32 b)
{
    vu64 r;
    for (int i = 0; i < FI_LANES64; i++)
        r[i] = (uint64_t)a[2 * i] * b[2 * i];
    return r;
}
FI_INLINE vu32 v_xor_odd_u32(vu32 p, vu32 s, vu32 k)
{
    return p ^ ((s ^ k) & v_u32x4(0, ~0u, 0, ~0u));
}
#define FI_PERM4_U32(x, i, j, k, l) FI_SHUFFLE32(x, x, i, j, k, l)
#define FI_PAIRS_U32(a, b, i, j) FI_SHUFFLE32(a, b, i, j, (i) + 4, (j) + 4)

FI_INLINE void v_interleave_f(vf lo, vf hi, vf *a, vf *b)
{
    *a = FI_SHUFFLE32(lo, hi, 0, 4, 1, 5);
    *b = FI_SHUFFLE32(lo, hi, 2, 6, 3, 7);
}
FI_INLINE void v_deinterleave64(vu64 a, vu64 b, vu64 *lo, vu64 *hi)
{
    *lo = FI_SHUFFLE64(a, b, 0, 2);
    *hi = FI_SHUFFLE64(a, b, 1, 3);
}
FI_INLINE void v_interleave_d(vd lo, vd hi, vd *a, vd *b)
{
    *a = FI_SHUFFLE64(lo, hi, 0, 2);
    *b = FI_SHUFFLE64(lo, hi, 1, 3);
}

FI_INLINE vu32 v_pack_lo16(vu32 a, vu32 b) { return v_pack_lo16_generic(a, b); }
FI_INLINE vu32 v_pack_hi16(vu32 a, vu32 b) { return v_pack_lo16_generic(a >> 16, b >> 16); }

/* No cache-bypassing store in plain C. */
FI_INLINE void v_stream(void *p, vu32 v) { v_store(p, v); }
FI_INLINE void v_stream_fence(void) {}

#endif
