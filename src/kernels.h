/* One set of sampling kernels per SIMD path, all built from kernels_impl.h. */
#ifndef FASTINIT_KERNELS_H
#define FASTINIT_KERNELS_H

#include "fastinit.h"

/* A run may store its contiguous stretches with cache-bypassing (streaming)
 * stores: only worth it when the whole fill is too large to stay in cache. */
#define FI_RUN_STREAM 1u

/* Writes n consecutive elements of d's distribution, the first being element
 * `offset` of Philox block `block`, at out, out + stride, ... (stride in bytes).
 * For raw words (kind ignored) an element is one 32-bit word. */
typedef void (*fi_run_fn)(const fi_dist *d, uint64_t block, unsigned offset, uint64_t n,
                          char *out, int64_t stride, unsigned flags);

/* The path's own ln, sin, cos, erfinv, the ones its kernels use, on n values
 * of dtype (for tests of accuracy and of agreement between paths). */
typedef enum { FI_MATH_LOG, FI_MATH_SIN, FI_MATH_COS, FI_MATH_ERFINV } fi_math;
typedef void (*fi_math_fn)(fi_math fn, fi_dtype dtype, const void *in, void *out, size_t n);

typedef struct {
    const char *name;
    fi_run_fn fill;  /* d->kind and d->dtype values */
    fi_run_fn raw;   /* raw 32-bit words */
    fi_math_fn math;
} fi_kernels;

extern const fi_kernels fi_kernels_portable;
extern const fi_kernels fi_kernels_avx2;
extern const fi_kernels fi_kernels_avx512;

/* Elements of d's dtype that one Philox block yields (4 for float32, 2 for float64). */
static inline unsigned fi_per_block(const fi_dist *d)
{
    return d->dtype == FI_FLOAT32 ? 4u : 2u;
}

/* The kernels of the path in use (set once at import, or by fi_simd_select). */
const fi_kernels *fi_kernels_current(void);

#endif
