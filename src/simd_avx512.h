/* The vector API (simd_vector.h) on AVX-512 F/DQ/BW/VL: 64-byte vectors. Only
 * for files compiled for them (FI_TARGET_BEGIN, target.h) and run where
 * dispatch.c found those features (and the OS saving ZMM state). */
#ifndef FASTINIT_SIMD_AVX512_H
#define FASTINIT_SIMD_AVX512_H

#include <immintrin.h>

#define FI_VBYTES 64
#define FI_STEP_VECS 8
#include "simd_vector.h"

FI_INLINE vf v_sqrt_f(vf x) { return (vf)_mm512_sqrt_ps((__m512)x); }
FI_INLINE vd v_sqrt_d(vd x) { return (vd)_mm512_sqrt_pd((__m512d)x); }

/* AVX-512DQ converts 64-bit integers directly, rounding to nearest like the
 * generic versions. */
FI_INLINE vd v_u64_to_d(vu64 x) { return (vd)_mm512_cvtepu64_pd((__m512i)x); }
FI_INLINE vd v_i64_to_d(vi64 x) { return (vd)_mm512_cvtepi64_pd((__m512i)x); }

/* vminps(a, b) is a < b ? a : b, exactly the API's definition. */
FI_INLINE vf v_min_f(vf a, vf b) { return (vf)_mm512_min_ps((__m512)a, (__m512)b); }
FI_INLINE vf v_max_f(vf a, vf b) { return (vf)_mm512_max_ps((__m512)a, (__m512)b); }
FI_INLINE vd v_min_d(vd a, vd b) { return (vd)_mm512_min_pd((__m512d)a, (__m512d)b); }
FI_INLINE vd v_max_d(vd a, vd b) { return (vd)_mm512_max_pd((__m512d)a, (__m512d)b); }

FI_INLINE int v_any32(vi32 m) { return _mm512_test_epi32_mask((__m512i)m, (__m512i)m) != 0; }
FI_INLINE int v_any64(vi64 m) { return _mm512_test_epi64_mask((__m512i)m, (__m512i)m) != 0; }

FI_INLINE vu64 v_mul_even_u32(vu32 a, vu32 b)
{
    return (vu64)_mm512_mul_epu32((__m512i)a, (__m512i)b);
}
/* One masked vpternlogd (xor of three, odd slots only): Philox's rounds are
 * bound by the two 512-bit vector ports, so every uop counts. */
FI_INLINE vu32 v_xor_odd_u32(vu32 p, vu32 s, vu32 k)
{
    return (vu32)_mm512_mask_ternarylogic_epi32((__m512i)p, 0xaaaa, (__m512i)s, (__m512i)k, 0x96);
}
/* shufps: the same two slots from each source, in every 128-bit group */
#define FI_PAIRS_U32(a, b, i, j) \
    ((vu32)_mm512_shuffle_ps((__m512)(a), (__m512)(b), (i) | (j) << 2 | (i) << 4 | (j) << 6))
#define FI_PERM4_U32(x, i, j, k, l) \
    ((vu32)_mm512_shuffle_epi32((__m512i)(x), (_MM_PERM_ENUM)((i) | (j) << 2 | (k) << 4 | (l) << 6)))

FI_INLINE void v_interleave_f(vf lo, vf hi, vf *a, vf *b)
{
    *a = (vf)_mm512_unpacklo_ps((__m512)lo, (__m512)hi);
    *b = (vf)_mm512_unpackhi_ps((__m512)lo, (__m512)hi);
}
FI_INLINE void v_deinterleave64(vu64 a, vu64 b, vu64 *lo, vu64 *hi)
{
    *lo = (vu64)_mm512_unpacklo_epi64((__m512i)a, (__m512i)b);
    *hi = (vu64)_mm512_unpackhi_epi64((__m512i)a, (__m512i)b);
}
FI_INLINE void v_interleave_d(vd lo, vd hi, vd *a, vd *b)
{
    *a = (vd)_mm512_unpacklo_pd((__m512d)lo, (__m512d)hi);
    *b = (vd)_mm512_unpackhi_pd((__m512d)lo, (__m512d)hi);
}

FI_INLINE void v_stream(void *p, vu32 v) { _mm512_stream_si512(p, (__m512i)v); }
FI_INLINE void v_stream_fence(void) { _mm_sfence(); }

#endif
