/* The vector API (simd_vector.h) on AVX2: 32-byte vectors. Only for files
 * compiled for AVX2 (FI_TARGET_BEGIN, target.h) and run where dispatch.c found
 * AVX2 (and the OS saving YMM state). Shuffles stay inside 128-bit lanes,
 * which AVX2 does in one cheap instruction. */
#ifndef FASTINIT_SIMD_AVX2_H
#define FASTINIT_SIMD_AVX2_H

#include <immintrin.h>

#define FI_VBYTES 32
#define FI_STEP_VECS 8
#include "simd_vector.h"

FI_INLINE vf v_sqrt_f(vf x) { return (vf)_mm256_sqrt_ps((__m256)x); }
FI_INLINE vd v_sqrt_d(vd x) { return (vd)_mm256_sqrt_pd((__m256d)x); }

/* AVX2 has no 64-bit integer conversions. */
FI_INLINE vd v_u64_to_d(vu64 x) { return v_u64_to_d_generic(x); }
FI_INLINE vd v_i64_to_d(vi64 x) { return v_i64_to_d_generic(x); }

/* minps(a, b) is a < b ? a : b, exactly the API's definition. */
FI_INLINE vf v_min_f(vf a, vf b) { return (vf)_mm256_min_ps((__m256)a, (__m256)b); }
FI_INLINE vf v_max_f(vf a, vf b) { return (vf)_mm256_max_ps((__m256)a, (__m256)b); }
FI_INLINE vd v_min_d(vd a, vd b) { return (vd)_mm256_min_pd((__m256d)a, (__m256d)b); }
FI_INLINE vd v_max_d(vd a, vd b) { return (vd)_mm256_max_pd((__m256d)a, (__m256d)b); }

FI_INLINE int v_any32(vi32 m) { return !_mm256_testz_si256((__m256i)m, (__m256i)m); }
FI_INLINE int v_any64(vi64 m) { return !_mm256_testz_si256((__m256i)m, (__m256i)m); }

FI_INLINE vu64 v_mul_even_u32(vu32 a, vu32 b)
{
    return (vu64)_mm256_mul_epu32((__m256i)a, (__m256i)b);
}
FI_INLINE vu32 v_xor_odd_u32(vu32 p, vu32 s, vu32 k)
{
    return p ^ (vu32)_mm256_blend_epi32(_mm256_setzero_si256(), (__m256i)(s ^ k), 0xaa);
}
/* shufps: the same two slots from each source, in every 128-bit group */
#define FI_PAIRS_U32(a, b, i, j) \
    ((vu32)_mm256_shuffle_ps((__m256)(a), (__m256)(b), (i) | (j) << 2 | (i) << 4 | (j) << 6))
#define FI_PERM4_U32(x, i, j, k, l) \
    ((vu32)_mm256_shuffle_epi32((__m256i)(x), (i) | (j) << 2 | (k) << 4 | (l) << 6))

FI_INLINE void v_interleave_f(vf lo, vf hi, vf *a, vf *b)
{
    *a = (vf)_mm256_unpacklo_ps((__m256)lo, (__m256)hi);
    *b = (vf)_mm256_unpackhi_ps((__m256)lo, (__m256)hi);
}
FI_INLINE void v_deinterleave64(vu64 a, vu64 b, vu64 *lo, vu64 *hi)
{
    *lo = (vu64)_mm256_unpacklo_epi64((__m256i)a, (__m256i)b);
    *hi = (vu64)_mm256_unpackhi_epi64((__m256i)a, (__m256i)b);
}
FI_INLINE void v_interleave_d(vd lo, vd hi, vd *a, vd *b)
{
    *a = (vd)_mm256_unpacklo_pd((__m256d)lo, (__m256d)hi);
    *b = (vd)_mm256_unpackhi_pd((__m256d)lo, (__m256d)hi);
}

/* packus works within 128-bit halves, (a0-3, b0-3 | a4-7, b4-7); a
 * permutation of 64-bit quarters puts them in order. */
FI_INLINE vu32 v_pack_lo16(vu32 a, vu32 b)
{
    __m256i p = _mm256_packus_epi32((__m256i)a, (__m256i)b);
    return (vu32)_mm256_permute4x64_epi64(p, 0xd8);
}
FI_INLINE vu32 v_pack_hi16(vu32 a, vu32 b) { return v_pack_lo16(a >> 16, b >> 16); }

/* F16C's vcvtps2ph, rounding as its immediate 0 says: to nearest even, with
 * subnormals and infinities as IEEE has them. Inline assembly, so this file
 * needs no f16c target: dispatch.c checks the CPU has it. */
#define FI_HW_F16 "f16c"
#define FI_HW_F16_NEEDS FI_CPU_F16C
FI_INLINE vu32 v_f16_hw(vf a, vf b)
{
    __m128i lo, hi;
    __asm__("vcvtps2ph $0, %1, %0" : "=x"(lo) : "x"((__m256)a));
    __asm__("vcvtps2ph $0, %1, %0" : "=x"(hi) : "x"((__m256)b));
    return (vu32)_mm256_set_m128i(hi, lo);
}

FI_INLINE void v_stream(void *p, vu32 v) { _mm256_stream_si256((__m256i *)p, (__m256i)v); }
FI_INLINE void v_stream_fence(void) { _mm_sfence(); }

#endif
