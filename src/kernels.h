/* One set of sampling kernels per SIMD path, all built from kernels_impl.h. */
#ifndef FASTINIT_KERNELS_H
#define FASTINIT_KERNELS_H

#include "fastinit.h"

/* Writes n consecutive elements of d's distribution, the first being element
 * `offset` of Philox block `block`, at out, out + stride, ... (stride in bytes).
 * For raw words (kind ignored) an element is one 32-bit word. */
typedef void (*fi_run_fn)(const fi_dist *d, uint64_t block, unsigned offset, uint64_t n,
                          char *out, int64_t stride);

typedef struct {
    const char *name;
    fi_run_fn fill;  /* d->kind and d->dtype values */
    fi_run_fn raw;   /* raw 32-bit words */
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
