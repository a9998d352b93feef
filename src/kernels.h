/* One set of sampling kernels per SIMD path, all built from kernels_impl.h. */
#ifndef FASTINIT_KERNELS_H
#define FASTINIT_KERNELS_H

#include "fastinit.h"

/* A run may store its contiguous stretches with cache-bypassing (streaming)
 * stores: only worth it when the whole fill is too large to stay in cache,
 * and only for stretches of FI_STREAM_MIN_RUN bytes or more: the short rows of
 * a region cost more in alignment and fences than bypassing saves (measured:
 * rows of 2 KiB of a 32 MiB region, 5.5 GB/s streamed, 11 GB/s not). */
#define FI_RUN_STREAM 1u
#define FI_STREAM_MIN_RUN 65536

/* A fill made ready for one path's kernels (round keys, parameters in the
 * path's vectors, the step to run): prepared once per fill, then only read,
 * by any number of threads. The path's own layout lives in these bytes. */
#define FI_KERNEL_CTX_BYTES 2048
typedef struct {
    _Alignas(64) unsigned char bytes[FI_KERNEL_CTX_BYTES];
} fi_kernel_ctx;

typedef void (*fi_prepare_fn)(const fi_dist *d, fi_kernel_ctx *k);

/* Writes n consecutive elements of the prepared fill, the first being element
 * `offset` of Philox block `block`, at out, out + stride, ... (stride in bytes).
 * For raw words an element is one 32-bit word. */
typedef void (*fi_run_fn)(const fi_kernel_ctx *k, uint64_t block, unsigned offset, uint64_t n,
                          char *out, int64_t stride, unsigned flags);

/* The path's own ln, sin, cos, erfinv, the ones its kernels use, on n values
 * of dtype (for tests of accuracy and of agreement between paths). */
typedef enum { FI_MATH_LOG, FI_MATH_SIN, FI_MATH_COS, FI_MATH_ERFINV } fi_math;
typedef void (*fi_math_fn)(fi_math fn, fi_dtype dtype, const void *in, void *out, size_t n);

/* The path's rounding of n float32 values to a narrow dtype, the one its
 * fills use now (see fi_round_narrow). */
typedef void (*fi_round_fn)(fi_dtype dtype, const float *in, uint16_t *out, size_t n);
/* The CPUID name of the instructions the path rounds to dtype with now, or
 * NULL where it rounds in integers. */
typedef const char *(*fi_hardware_fn)(fi_dtype dtype);

typedef struct {
    const char *name;
    fi_prepare_fn prepare_fill;  /* d->kind and d->dtype values */
    fi_prepare_fn prepare_raw;   /* raw 32-bit words of d's key and stream */
    fi_run_fn run;
    fi_math_fn math;
    fi_round_fn round;
    fi_hardware_fn hardware;
} fi_kernels;

extern const fi_kernels fi_kernels_portable;
extern const fi_kernels fi_kernels_avx2;
extern const fi_kernels fi_kernels_avx512;

/* The kernels of the path in use (set once at import, or by fi_simd_select). */
const fi_kernels *fi_kernels_current(void);

/* CPU features that no path requires but some use where present: conversion
 * instructions for rounding to narrow dtypes (dispatch.c reads CPUID). */
enum { FI_CPU_F16C = 1u << 0, FI_CPU_AVX512_BF16 = 1u << 1 };
unsigned fi_cpu_features(void);
/* 0 after fi_round_select("integer"): kernels must not use those instructions. */
int fi_round_hardware_allowed(void);

#endif
