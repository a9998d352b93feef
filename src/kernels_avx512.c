/* The AVX-512 path: only called when dispatch.c has seen AVX-512 F/DQ/VL/BW in
 * CPUID and the OS saving ZMM state. No FMA, as for AVX2. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "target.h"

FI_TARGET_BEGIN("avx512f,avx512dq,avx512vl,avx512bw")
#include "simd_avx512.h"
#define FI_PATH avx512
#define FI_NAME "avx512"
#include "kernels_impl.h"
FI_TARGET_END
#else
#include "kernels.h"
const fi_kernels fi_kernels_avx512 = {"avx512", 0, 0, 0, 0, 0, 0};
#endif
