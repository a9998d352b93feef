/* Run-time choice of the SIMD path. This file is compiled for the baseline
 * target: it only asks the CPU (CPUID) and the OS (XGETBV: are the wide
 * registers saved on context switch?) what can run, and hands out kernels. */
#include <stdatomic.h>
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

enum { PATH_PORTABLE = 1u << 0, PATH_AVX2 = 1u << 1, PATH_AVX512 = 1u << 2 };

static unsigned detect_paths(void)
{
    unsigned paths = PATH_PORTABLE;
    uint32_t a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return paths;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx)
        return paths;
    const uint64_t xcr0 = read_xcr0();
    const int ymm_saved = (xcr0 & 0x6) == 0x6;            /* SSE + AVX state */
    const int zmm_saved = (xcr0 & 0xe6) == 0xe6;          /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return paths;
    const int avx2 = (b >> 5) & 1;
    const int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1)  /* F, DQ */
                       && ((b >> 30) & 1) && ((b >> 31) & 1); /* BW, VL */
    if (ymm_saved && avx2)
        paths |= PATH_AVX2;
    if (zmm_saved && avx512 && avx2)
        paths |= PATH_AVX512;
    return paths;
}
#else
static unsigned detect_paths(void) { return 1u; }
#endif

static const fi_kernels *const all_paths[] = {&fi_kernels_portable, &fi_kernels_avx2,
                                              &fi_kernels_avx512};
#define N_PATHS (int)(sizeof all_paths / sizeof all_paths[0])

static _Atomic(const fi_kernels *) current = NULL;

unsigned fi_simd_available(void)
{
    static _Atomic unsigned cached = 0;
    unsigned paths = atomic_load(&cached);
    if (paths == 0) {
        paths = detect_paths();
        atomic_store(&cached, paths);
    }
    return paths;
}

const char *fi_simd_name(int i)
{
    return i >= 0 && i < N_PATHS ? all_paths[i]->name : NULL;
}

const fi_kernels *fi_kernels_current(void)
{
    const fi_kernels *k = atomic_load(&current);
    if (k == NULL) {  /* the best path this machine runs */
        unsigned paths = fi_simd_available();
        int best = 0;
        for (int i = 0; i < N_PATHS; i++)
            if (paths & (1u << i))
                best = i;
        k = all_paths[best];
        atomic_store(&current, k);
    }
    return k;
}

const char *fi_simd_current(void)
{
    return fi_kernels_current()->name;
}

int fi_simd_select(const char *name)
{
    for (int i = 0; i < N_PATHS; i++) {
        if (strcmp(name, all_paths[i]->name) != 0)
            continue;
        if (!(fi_simd_available() & (1u << i)))
            return -2;
        atomic_store(&current, all_paths[i]);
        return 0;
    }
    return -1;
}

/* Conversion instructions for narrow dtypes, beyond what a path requires. */
#if defined(__x86_64__) || defined(__i386__)
static unsigned detect_features(void)
{
    unsigned features = 0;
    uint32_t a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1))
        features |= FI_CPU_F16C;
    /* leaf 7 subleaf 1 exists when subleaf 0 says so in EAX */
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && a >= 1 &&
        __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 5) & 1))
        features |= FI_CPU_AVX512_BF16;
    return features;
}
#else
static unsigned detect_features(void) { return 0; }
#endif

#define FEATURES_UNKNOWN (1u << 31)

unsigned fi_cpu_features(void)
{
    static _Atomic unsigned cached = FEATURES_UNKNOWN;
    unsigned features = atomic_load(&cached);
    if (features == FEATURES_UNKNOWN) {
        features = detect_features();
        atomic_store(&cached, features);
    }
    return features;
}

static _Atomic int hardware_allowed = 1;

int fi_round_hardware_allowed(void)
{
    return atomic_load(&hardware_allowed);
}

int fi_round_select(const char *how)
{
    if (strcmp(how, "hardware") != 0 && strcmp(how, "integer") != 0)
        return -1;
    atomic_store(&hardware_allowed, strcmp(how, "hardware") == 0);
    return 0;
}
