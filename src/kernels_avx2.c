/* The AVX2 path: only called when dispatch.c has seen AVX2 in CPUID and the
 * OS saving YMM state. No FMA: it would round differently from the other paths. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "target.h"

FI_TARGET_BEGIN("avx2")
#include "simd_avx2.h"
#define FI_PATH avx2
#define FI_NAME "avx2"
#include "kernels_impl.h"
FI_TARGET_END
#else
#include "kernels.h"
const fi_kernels fi_kernels_avx2 = {"avx2", 0, 0, 0, 0, 0, 0};
#endif
