/* fastinit C core: the public API, with no Python in it.
 *
 * Every value written is the pure function of (seed, stream, logical index,
 * dtype, distribution) that docs/stream.md (stream version 1) defines;
 * threads, SIMD path and regions only decide who computes which value. */
#ifndef FASTINIT_H
#define FASTINIT_H

#include <stddef.h>
#include <stdint.h>

#define FI_STREAM_VERSION 1
#define FI_MAX_DIMS 64

/* Fills of at least this many bytes store their contiguous runs with
 * streaming (cache-bypassing) stores: the values are the same either way. */
#define FI_STREAM_MIN_BYTES (UINT64_C(4) << 20)

typedef enum { FI_UNIFORM = 0, FI_NORMAL = 1, FI_TRUNCATED_NORMAL = 2 } fi_kind;
typedef enum { FI_FLOAT32 = 0, FI_FLOAT64 = 1 } fi_dtype;

/* A distribution ready to sample: built by fi_dist_init, read-only after. */
typedef struct {
    uint32_t key[2];     /* (seed mod 2^32, seed >> 32) */
    uint32_t stream[2];  /* counter words c2, c3 */
    fi_kind kind;
    fi_dtype dtype;
    /* Parameters already rounded to the target dtype (exact in a double):
     * uniform: a = mid, b = half; normal: a = mean, b = std;
     * truncated normal: a = mean, b = std, c = bound, erf_c = erf(bound/sqrt 2). */
    double a, b, c, erf_c;
} fi_dist;

/* Sets up d; a, b, c must already be representable in dtype. Returns 0, or -1
 * for an unknown kind or dtype. */
int fi_dist_init(fi_dist *d, uint64_t seed, uint64_t stream, fi_kind kind,
                 fi_dtype dtype, double a, double b, double c);

/* A box of a logical tensor, as laid out in a buffer.
 * Box element m = (m_0, ..., m_{n-1}), 0 <= m_k < count[k], has logical index
 * origin_index + sum m_k * logical_stride[k] and lives at base + sum m_k * byte_stride[k].
 * The last dimension must have logical stride 1 (row-major logical order). */
typedef struct {
    int ndim;                                /* 1 .. FI_MAX_DIMS */
    uint64_t count[FI_MAX_DIMS];
    uint64_t logical_stride[FI_MAX_DIMS];
    int64_t byte_stride[FI_MAX_DIMS];
    uint64_t origin_index;
    char *base;
} fi_region;

/* Number of elements in the box. */
uint64_t fi_region_size(const fi_region *r);

/* Writes box elements with flat (row-major box) positions [begin, end) using
 * up to `threads` threads. Never fails for a valid region. */
void fi_fill_region(const fi_dist *d, const fi_region *r, uint64_t begin, uint64_t end,
                    int threads);

/* The most threads a fill runs on: the number of CPUs of the machine (online
 * ones, counted once). A fill asked for more runs on this many: more threads
 * than CPUs cannot fill faster, and the values never depend on the count. */
int fi_max_threads(void);

/* Raw 32-bit words w = 4*block + offset, ..., count of them (offset < 4). */
void fi_random_raw(uint64_t seed, uint64_t stream, uint64_t block, unsigned offset,
                   size_t count, uint32_t *out, int threads);

/* SIMD paths: "portable", "avx2", "avx512". */
const char *fi_simd_current(void);
/* Bit mask of paths this CPU and OS can run: bit i = path i of fi_simd_name. */
unsigned fi_simd_available(void);
const char *fi_simd_name(int i);  /* NULL past the last */
/* Selects a path by name; 0 on success, -1 unknown name, -2 not available here. */
int fi_simd_select(const char *name);

/* fastinit's own log, sin, cos, erf, erfinv on n values of dtype, exposed so
 * tests can measure their accuracy. Returns -1 for an unknown name. */
int fi_eval_math(const char *fn, fi_dtype dtype, const void *in, void *out, size_t n);

#endif
