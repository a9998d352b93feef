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
typedef enum { FI_FLOAT32 = 0, FI_FLOAT64 = 1, FI_BFLOAT16 = 2, FI_FLOAT16 = 3 } fi_dtype;
#define FI_NDTYPES 4

/* What the core knows of each dtype, one row per fi_dtype in its order: the
 * one place that says how a dtype is computed and stored. A narrow dtype
 * (bfloat16, float16) draws the float32 stream: each value is the float32
 * value of the same element rounded to nearest, ties to even (docs/stream.md,
 * "Narrow formats"). */
typedef struct {
    const char *name;    /* "float32", "float64", "bfloat16", "float16" */
    unsigned size;       /* bytes per element */
    unsigned per_block;  /* elements per Philox block */
    fi_dtype draws;      /* the stream its values come from: FI_FLOAT32 or FI_FLOAT64 */
} fi_dtype_info;

extern const fi_dtype_info fi_dtypes[FI_NDTYPES];

/* A distribution ready to sample: built by fi_dist_init, read-only after. */
typedef struct {
    uint32_t key[2];     /* (seed mod 2^32, seed >> 32) */
    uint32_t stream[2];  /* counter words c2, c3 */
    fi_kind kind;
    fi_dtype dtype;
    /* Parameters already rounded to the dtype drawn (exact in a double):
     * uniform: a = mid, b = half; normal: a = mean, b = std;
     * truncated normal: a = mean, b = std, c = bound, erf_c = erf(bound/sqrt 2). */
    double a, b, c, erf_c;
} fi_dist;

/* Sets up d; a, b, c must already be representable in the dtype that dtype
 * draws (float32 for the narrow ones). Returns 0, or -1 for an unknown kind
 * or dtype. */
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
 * than CPUs cannot fill faster, and the values never depend on the count.
 * (Tests raise it with fi_set_max_threads, threadpool.h.) */
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

/* fastinit's own log, sin, cos, erf, erfinv on n values of dtype (float32 or
 * float64), exposed so tests can measure their accuracy. Returns -1 for an
 * unknown name or dtype. */
int fi_eval_math(const char *fn, fi_dtype dtype, const void *in, void *out, size_t n);

/* Rounding float32 to a narrow dtype, ties to even, as the current path's
 * kernels do: in integer arithmetic on every path, or with the CPU's
 * conversion instructions where the path has them and the CPU runs them (F16C
 * or AVX-512 vcvtps2ph for float16, AVX-512 BF16 vcvtne2ps2bf16 for
 * bfloat16). Both give the same bits; fi_round_select lets tests force either.
 * Returns 0, or -1 if dtype is not narrow. */
int fi_round_narrow(fi_dtype dtype, const float *in, uint16_t *out, size_t n);
/* "hardware" (the default: instructions where there are some) or "integer",
 * for every later fill and fi_round_narrow. Returns 0, or -1 for another name. */
int fi_round_select(const char *how);
/* How the current path rounds to dtype now: "integer" or the instructions'
 * CPUID name ("f16c", "avx512f", "avx512_bf16"); NULL if dtype is not narrow. */
const char *fi_round_current(fi_dtype dtype);

#endif
