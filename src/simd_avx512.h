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

/* packus works within 128-bit quarters, (a0-3, b0-3 | a4-7, b4-7 | ...); a
 * permutation of 64-bit eighths puts them in order. */
FI_INLINE vu32 v_pack_lo16(vu32 a, vu32 b)
{
    __m512i p = _mm512_packus_epi32((__m512i)a, (__m512i)b);
    return (vu32)_mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), p);
}
FI_INLINE vu32 v_pack_hi16(vu32 a, vu32 b) { return v_pack_lo16(a >> 16, b >> 16); }

/* AVX-512F's vcvtps2ph: to nearest even, subnormals and infinities as IEEE has them. */
#define FI_HW_F16 "avx512f"
#define FI_HW_F16_NEEDS 0u
FI_INLINE vu32 v_f16_hw(vf a, vf b)
{
    __m256i lo = _mm512_cvtps_ph((__m512)a, _MM_FROUND_TO_NEAREST_INT);
    __m256i hi = _mm512_cvtps_ph((__m512)b, _MM_FROUND_TO_NEAREST_INT);
    return (vu32)_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* AVX-512 BF16's vcvtne2ps2bf16 rounds to nearest even but takes subnormal
 * inputs for zeros, where IEEE rounding keeps them (as bfloat16 subnormals):
 * kernels check for them first. Inline assembly, so this file needs no
 * avx512bf16 target (which would let the compiler use it anywhere): dispatch.c
 * checks the CPU has it. It puts its second source's lanes first. */
#define FI_HW_BF16 "avx512_bf16"
#define FI_HW_BF16_NEEDS FI_CPU_AVX512_BF16
FI_INLINE vu32 v_bf16_hw(vf a, vf b)
{
    vu32 r;
    __asm__("vcvtne2ps2bf16 %1, %2, %0" : "=v"(r) : "v"(a), "v"(b));
    return r;
}
/* vfpclassps's class 0x20: denormal; kor keeps the masks in mask registers */
FI_INLINE int v_any_subnormal_f(const vu32 *y, int n)
{
    __mmask16 subnormal = 0;
    for (int v = 0; v < n; v++)
        subnormal = _mm512_kor(subnormal, _mm512_fpclass_ps_mask((__m512)y[v], 0x20));
    return subnormal != 0;
}

FI_INLINE void v_stream(void *p, vu32 v) { _mm512_stream_si512(p, (__m512i)v); }
FI_INLINE void v_stream_fence(void) { _mm_sfence(); }

#endif
