# Declarations of the C core (src/fastinit.h) for Cython.
from libc.stdint cimport uint16_t, uint32_t, uint64_t, int64_t

cdef extern from "fastinit.h" nogil:
    enum: FI_STREAM_VERSION
    enum: FI_MAX_DIMS
    enum: FI_STREAM_MIN_BYTES

    ctypedef enum fi_kind:
        FI_UNIFORM
        FI_NORMAL
        FI_TRUNCATED_NORMAL

    ctypedef enum fi_dtype:
        FI_FLOAT32
        FI_FLOAT64
        FI_BFLOAT16
        FI_FLOAT16

    enum: FI_NDTYPES

    ctypedef struct fi_dtype_info:
        const char *name
        unsigned size
        unsigned per_block
        fi_dtype draws

    const fi_dtype_info fi_dtypes[]

    ctypedef struct fi_dist:
        pass

    ctypedef struct fi_region:
        int ndim
        uint64_t count[FI_MAX_DIMS]
        uint64_t logical_stride[FI_MAX_DIMS]
        int64_t byte_stride[FI_MAX_DIMS]
        uint64_t origin_index
        char *base

    int fi_dist_init(fi_dist *d, uint64_t seed, uint64_t stream, fi_kind kind,
                     fi_dtype dtype, double a, double b, double c)
    uint64_t fi_region_size(const fi_region *r)
    void fi_fill_region(const fi_dist *d, const fi_region *r, uint64_t begin,
                        uint64_t end, int threads)
    int fi_max_threads()
    void fi_random_raw(uint64_t seed, uint64_t stream, uint64_t block, unsigned offset,
                       size_t count, uint32_t *out, int threads)

    const char *fi_simd_current()
    unsigned fi_simd_available()
    const char *fi_simd_name(int i)
    int fi_simd_select(const char *name)

    int fi_eval_math(const char *fn, fi_dtype dtype, const void *inp, void *out, size_t n)
    int fi_round_narrow(fi_dtype dtype, const float *inp, uint16_t *out, size_t n)
    int fi_round_select(const char *how)
    const char *fi_round_current(fi_dtype dtype)

# The pool's hooks for tests (src/threadpool.h).
cdef extern from "threadpool.h" nogil:
    enum: FI_MAX_THREADS
    int fi_pool_last_threads()
    int fi_set_max_threads(int n)
