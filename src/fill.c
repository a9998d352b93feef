/* Filling a region of a logical tensor, split across threads.
 *
 * The work is the box's elements in row-major box order; a thread takes a
 * contiguous slice of it and walks it row by row. A row is a run of
 * consecutive logical indices, which the kernels fill in one call. */
#include "baseline.h"

#include <string.h>

#include "erf_scalar.h"
#include "kernels.h"
#include "threadpool.h"

/* Below this many elements per thread, another thread saves less than it
 * costs to hand it work. */
#define FI_MIN_PER_THREAD (UINT64_C(1) << 16)
/* Each thread's share is cut into a few parts, which the threads take as they
 * go: one slowed down (by a noisy neighbour on its CPU) then runs fewer. */
#define FI_PARTS_PER_THREAD 4
#define FI_MIN_PER_PART (UINT64_C(1) << 15)

/* A float32 or float64 Philox block is 16 bytes of values: 4 or 2 of them. */
const fi_dtype_info fi_dtypes[FI_NDTYPES] = {
    [FI_FLOAT32] = {"float32", 4, 4, FI_FLOAT32},
    [FI_FLOAT64] = {"float64", 8, 2, FI_FLOAT64},
    [FI_BFLOAT16] = {"bfloat16", 2, 4, FI_FLOAT32},
    [FI_FLOAT16] = {"float16", 2, 4, FI_FLOAT32},
};

int fi_dist_init(fi_dist *d, uint64_t seed, uint64_t stream, fi_kind kind, fi_dtype dtype,
                 double a, double b, double c)
{
    if ((unsigned)kind > FI_TRUNCATED_NORMAL || (unsigned)dtype >= FI_NDTYPES)
        return -1;
    memset(d, 0, sizeof *d);
    d->key[0] = (uint32_t)seed;
    d->key[1] = (uint32_t)(seed >> 32);
    d->stream[0] = (uint32_t)stream;
    d->stream[1] = (uint32_t)(stream >> 32);
    d->kind = kind;
    d->dtype = dtype;
    d->a = a;
    d->b = b;
    d->c = c;
    if (kind == FI_TRUNCATED_NORMAL) {  /* erf(c / sqrt 2), in the precision drawn */
        if (fi_dtypes[dtype].draws == FI_FLOAT32)
            d->erf_c = fi_erff((float)c / 1.41421356237309504880f);
        else
            d->erf_c = fi_erf(c / 1.41421356237309504880);
    }
    return 0;
}

uint64_t fi_region_size(const fi_region *r)
{
    uint64_t n = 1;
    for (int k = 0; k < r->ndim; k++)
        n *= r->count[k];
    return n;
}

/* Joins neighbouring dimensions that are one run both in logical order and in
 * memory, so a C-ordered array is one long row, not many short ones. */
static void merge_dims(fi_region *r)
{
    int out = 0;
    for (int k = 1; k < r->ndim; k++) {
        int joinable = r->logical_stride[out] == r->count[k] * r->logical_stride[k] &&
                       r->byte_stride[out] == (int64_t)r->count[k] * r->byte_stride[k];
        if (joinable) {
            r->count[out] *= r->count[k];
            r->logical_stride[out] = r->logical_stride[k];
            r->byte_stride[out] = r->byte_stride[k];
        } else {
            out++;
            r->count[out] = r->count[k];
            r->logical_stride[out] = r->logical_stride[k];
            r->byte_stride[out] = r->byte_stride[k];
        }
    }
    r->ndim = out + 1;
}

typedef struct {
    const fi_kernel_ctx *kernel;
    fi_run_fn run;
    const fi_region *region;
    unsigned per_block;
    uint64_t begin, end;
    unsigned flags;
} fill_job;

/* Part `part` of nparts of [begin, end), as even as integers allow. */
static void split(uint64_t begin, uint64_t end, int part, int nparts, uint64_t *lo, uint64_t *hi)
{
    uint64_t n = end - begin, q = n / (uint64_t)nparts, rem = n % (uint64_t)nparts;
    uint64_t p = (uint64_t)part;
    *lo = begin + q * p + (p < rem ? p : rem);
    *hi = *lo + q + (p < rem ? 1 : 0);
}

static void fill_part(void *arg, int part, int nparts)
{
    const fill_job *job = arg;
    const fi_region *r = job->region;
    const unsigned per_block = job->per_block;
    const int last = r->ndim - 1;
    uint64_t pos, hi, m[FI_MAX_DIMS];
    split(job->begin, job->end, part, nparts, &pos, &hi);

    uint64_t rest = pos;  /* box multi-index of pos */
    for (int k = last; k >= 0; k--) {
        m[k] = rest % r->count[k];
        rest /= r->count[k];
    }
    while (pos < hi) {
        uint64_t logical = r->origin_index;
        char *addr = r->base;
        for (int k = 0; k <= last; k++) {
            logical += m[k] * r->logical_stride[k];
            addr += (int64_t)m[k] * r->byte_stride[k];
        }
        uint64_t n = r->count[last] - m[last];
        if (n > hi - pos)
            n = hi - pos;
        job->run(job->kernel, logical / per_block, (unsigned)(logical % per_block), n, addr,
                 r->byte_stride[last], job->flags);
        pos += n;
        m[last] += n;
        for (int k = last; k > 0 && m[k] == r->count[k]; k--) {
            m[k] = 0;
            m[k - 1]++;
        }
    }
}

static int threads_for(uint64_t n, int threads)
{
    uint64_t useful = n / FI_MIN_PER_THREAD;
    if (useful < 1)
        useful = 1;
    if (threads < 1)
        threads = 1;
    if (threads > fi_max_threads())
        threads = fi_max_threads();
    return useful < (uint64_t)threads ? (int)useful : threads;
}

static int parts_for(uint64_t n, int threads)
{
    if (threads <= 1)
        return 1;
    uint64_t parts = n / FI_MIN_PER_PART;
    if (parts > (uint64_t)threads * FI_PARTS_PER_THREAD)
        parts = (uint64_t)threads * FI_PARTS_PER_THREAD;
    return parts > (uint64_t)threads ? (int)parts : threads;
}

/* Splits n elements of work across the pool. */
static void pool_split(uint64_t n, int threads, fi_task task, void *job)
{
    const int nthreads = threads_for(n, threads);
    fi_pool_run(nthreads, parts_for(n, nthreads), task, job);
}

void fi_fill_region(const fi_dist *d, const fi_region *r, uint64_t begin, uint64_t end,
                    int threads)
{
    if (begin >= end)
        return;
    fi_region merged = *r;
    merge_dims(&merged);
    /* From FI_STREAM_MIN_BYTES on, a fill bypasses the caches: the data could
     * not stay in them anyway, and bypassing skips reading each line in before
     * overwriting it. Below it, the data stays in cache for its next reader. */
    const fi_dtype_info *dtype = &fi_dtypes[d->dtype];
    const uint64_t bytes = fi_region_size(r) * dtype->size;
    /* Prepared once, here, for every row of every thread. */
    const fi_kernels *kernels = fi_kernels_current();
    fi_kernel_ctx kernel;
    kernels->prepare_fill(d, &kernel);
    fill_job job = {&kernel, kernels->run, &merged, dtype->per_block, begin, end,
                    bytes >= FI_STREAM_MIN_BYTES ? FI_RUN_STREAM : 0u};
    pool_split(end - begin, threads, fill_part, &job);
}

typedef struct {
    fi_kernel_ctx kernel;
    fi_run_fn run;
    uint64_t block;
    unsigned offset;
    size_t count;
    uint32_t *out;
    unsigned flags;
} raw_job;

static void raw_part(void *arg, int part, int nparts)
{
    const raw_job *job = arg;
    uint64_t lo, hi;
    split(0, job->count, part, nparts, &lo, &hi);
    uint64_t word = job->offset + lo;  /* relative to word 4 * block */
    job->run(&job->kernel, job->block + word / 4, (unsigned)(word % 4), hi - lo,
             (char *)(job->out + lo), sizeof(uint32_t), job->flags);
}

void fi_random_raw(uint64_t seed, uint64_t stream, uint64_t block, unsigned offset,
                   size_t count, uint32_t *out, int threads)
{
    raw_job job;
    fi_dist d;
    const fi_kernels *kernels = fi_kernels_current();
    fi_dist_init(&d, seed, stream, FI_UNIFORM, FI_FLOAT32, 0.0, 0.0, 0.0);
    kernels->prepare_raw(&d, &job.kernel);
    job.run = kernels->run;
    job.block = block;
    job.offset = offset;
    job.count = count;
    job.out = out;
    job.flags = count * sizeof(uint32_t) >= FI_STREAM_MIN_BYTES ? FI_RUN_STREAM : 0u;
    if (count > 0)
        pool_split(count, threads, raw_part, &job);
}

/* erf runs only at set-up, in scalar code; the others are the current path's
 * vector functions, the very ones its kernels call. */
int fi_eval_math(const char *fn, fi_dtype dtype, const void *in, void *out, size_t n)
{
    static const struct { const char *name; fi_math fn; } vector_fns[] = {
        {"log", FI_MATH_LOG}, {"sin", FI_MATH_SIN}, {"cos", FI_MATH_COS},
        {"erfinv", FI_MATH_ERFINV}};
    if (dtype != FI_FLOAT32 && dtype != FI_FLOAT64)
        return -1;
    if (strcmp(fn, "erf") == 0) {
        for (size_t i = 0; i < n; i++) {
            if (dtype == FI_FLOAT32)
                ((float *)out)[i] = fi_erff(((const float *)in)[i]);
            else
                ((double *)out)[i] = fi_erf(((const double *)in)[i]);
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof vector_fns / sizeof vector_fns[0]; i++) {
        if (strcmp(fn, vector_fns[i].name) == 0) {
            fi_kernels_current()->math(vector_fns[i].fn, dtype, in, out, n);
            return 0;
        }
    }
    return -1;
}

int fi_round_narrow(fi_dtype dtype, const float *in, uint16_t *out, size_t n)
{
    if (dtype != FI_BFLOAT16 && dtype != FI_FLOAT16)
        return -1;
    fi_kernels_current()->round(dtype, in, out, n);
    return 0;
}

const char *fi_round_current(fi_dtype dtype)
{
    if (dtype != FI_BFLOAT16 && dtype != FI_FLOAT16)
        return NULL;
    const char *hardware = fi_kernels_current()->hardware(dtype);
    return hardware != NULL ? hardware : "integer";
}
