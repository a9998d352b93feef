/* Run-time choice of the SIMD path. This file is compiled for the baseline
 * target: it only asks the CPU (CPUID) and the OS (XGETBV: are the wide
 * registers saved on context switch?) what can run, and hands out kernels. */
#include "baseline.h"

#include <stdatomic.h>
#include <string.h>

#include "kernels.h"

/* The paths, best last; bit i of fi_simd_available() is path i. */
enum { PATH_PORTABLE, PATH_AVX2, PATH_AVX512, N_PATHS };

static const fi_kernels *const all_paths[] = {
    [PATH_PORTABLE] = &fi_kernels_portable,
    [PATH_AVX2] = &fi_kernels_avx2,
    [PATH_AVX512] = &fi_kernels_avx512,
};
_Static_assert(sizeof all_paths / sizeof all_paths[0] == N_PATHS,
               "all_paths needs one entry per path of the enum");

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* CPUID leaf 1, ECX */
#define CPUID1_ECX_OSXSAVE (1u << 27)  /* the OS enabled XGETBV */
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID1_ECX_F16C (1u << 29)
/* CPUID leaf 7 subleaf 0, EBX */
#define CPUID7_EBX_AVX2 (1u << 5)
#define CPUID7_EBX_AVX512F (1u << 16)
#define CPUID7_EBX_AVX512DQ (1u << 17)
#define CPUID7_EBX_AVX512BW (1u << 30)
#define CPUID7_EBX_AVX512VL (1u << 31)
#define CPUID7_EBX_AVX512_WE_USE \
    (CPUID7_EBX_AVX512F | CPUID7_EBX_AVX512DQ | CPUID7_EBX_AVX512BW | CPUID7_EBX_AVX512VL)
/* CPUID leaf 7 subleaf 1, EAX */
#define CPUID7_1_EAX_AVX512_BF16 (1u << 5)
/* XCR0: the register state the OS saves on a context switch */
#define XCR0_SSE (1u << 1)
#define XCR0_AVX (1u << 2)        /* upper halves of YMM */
#define XCR0_OPMASK (1u << 5)     /* AVX-512 k0-k7 */
#define XCR0_ZMM_HI256 (1u << 6)  /* upper halves of ZMM0-15 */
#define XCR0_HI16_ZMM (1u << 7)   /* ZMM16-31 */
#define XCR0_YMM_STATE (XCR0_SSE | XCR0_AVX)
#define XCR0_ZMM_STATE (XCR0_YMM_STATE | XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static int has_all(uint64_t bits, uint64_t wanted)
{
    return (bits & wanted) == wanted;
}

static unsigned detect_paths(void)
{
    unsigned paths = 1u << PATH_PORTABLE;
    uint32_t a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !has_all(c, CPUID1_ECX_OSXSAVE | CPUID1_ECX_AVX))
        return paths;
    const uint64_t xcr0 = read_xcr0();
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return paths;
    const int avx2 = has_all(b, CPUID7_EBX_AVX2) && has_all(xcr0, XCR0_YMM_STATE);
    if (avx2)
        paths |= 1u << PATH_AVX2;
    if (avx2 && has_all(b, CPUID7_EBX_AVX512_WE_USE) && has_all(xcr0, XCR0_ZMM_STATE))
        paths |= 1u << PATH_AVX512;
    return paths;
}
#else
static unsigned detect_paths(void) { return 1u << PATH_PORTABLE; }
#endif

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
    if (__get_cpuid(1, &a, &b, &c, &d) && has_all(c, CPUID1_ECX_F16C))
        features |= FI_CPU_F16C;
    /* leaf 7 subleaf 1 exists when subleaf 0 says so in EAX */
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && a >= 1 &&
        __get_cpuid_count(7, 1, &a, &b, &c, &d) && has_all(a, CPUID7_1_EAX_AVX512_BF16))
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
