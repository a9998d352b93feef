/* The sampling kernels, written once and compiled once per SIMD path: each
 * kernels_<path>.c sets a target with #pragma and includes this file with
 * FI_PATH set. The compiler vectorises the loops over the FI_GROUP blocks of a
 * group; every operation is IEEE (+ - * / sqrt, exact conversions) and nothing
 * is fused (-ffp-contract=off), so every path writes the same bits.
 *
 * Element formulas: ../shared/STREAM.md, "From bits to numbers". */
#include <string.h>

#include "fimath.h"
#include "kernels.h"
#include "philox.h"

#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)
#define FI_KERNELS FI_CAT(fi_kernels_, FI_PATH)

/* 2*pi and sqrt(2), each rounded once to the target precision. */
#define FI_TWO_PI_F 6.28318530717958647692f
#define FI_TWO_PI_D 6.28318530717958647692
#define FI_SQRT2_F 1.41421356237309504880f
#define FI_SQRT2_D 1.41421356237309504880

/* Blocks per group: enough lanes for the widest vectors, small enough for L1. */
#define FI_GROUP 16

/* Words x[k][j] of blocks block0 + j, j < FI_GROUP. */
static inline void philox_group(const fi_dist *d, uint64_t block0, uint32_t x[4][FI_GROUP])
{
    uint32_t c0[FI_GROUP], c1[FI_GROUP], c2[FI_GROUP], c3[FI_GROUP];
    for (int j = 0; j < FI_GROUP; j++) {
        uint64_t b = block0 + (uint64_t)j;
        c0[j] = (uint32_t)b;
        c1[j] = (uint32_t)(b >> 32);
        c2[j] = d->stream[0];
        c3[j] = d->stream[1];
    }
    uint32_t k0 = d->key[0], k1 = d->key[1];
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
        for (int j = 0; j < FI_GROUP; j++) {
            uint64_t p0 = (uint64_t)FI_PHILOX_M0 * c0[j];
            uint64_t p1 = (uint64_t)FI_PHILOX_M1 * c2[j];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
            c1[j] = (uint32_t)p1;
            c3[j] = (uint32_t)p0;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 += FI_PHILOX_W0;
        k1 += FI_PHILOX_W1;
    }
    for (int j = 0; j < FI_GROUP; j++) {
        x[0][j] = c0[j];
        x[1][j] = c1[j];
        x[2][j] = c2[j];
        x[3][j] = c3[j];
    }
}

/* s = (2k + 1 - 2^p) 2^-p in (-1, 1), exact. */
static inline float symmetric_f32(uint32_t x)
{
    int32_t m = (int32_t)((x >> 8) * 2u + 1u) - (INT32_C(1) << 24);
    return (float)m * 0x1p-24f;
}
static inline double symmetric_f64(uint64_t v)
{
    int64_t m = (int64_t)((v >> 11) * 2u + 1u) - (INT64_C(1) << 53);
    return (double)m * 0x1p-53;
}

/* u = (k + 0.5) 2^-p, rounded to the target precision. */
static inline float open01_f32(uint32_t x)
{
    return ((float)(x >> 8) + 0.5f) * 0x1p-24f;
}
static inline double open01_f64(uint64_t v)
{
    return ((double)(v >> 11) + 0.5) * 0x1p-53;
}

static inline uint64_t join64(uint32_t hi, uint32_t lo)
{
    return ((uint64_t)hi << 32) | lo;
}

/* Each gen_* writes the elements of FI_GROUP blocks, in logical order, to dst. */

static void gen_raw(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP], *out = dst;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++)
        for (int k = 0; k < 4; k++)
            out[4 * j + k] = x[k][j];
}

static void gen_uniform_f32(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP];
    float *out = dst, mid = (float)d->a, half = (float)d->b;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++)
        for (int k = 0; k < 4; k++)
            out[4 * j + k] = mid + half * symmetric_f32(x[k][j]);
}

static void gen_uniform_f64(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP];
    double *out = dst, mid = d->a, half = d->b;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++) {
        out[2 * j] = mid + half * symmetric_f64(join64(x[0][j], x[1][j]));
        out[2 * j + 1] = mid + half * symmetric_f64(join64(x[2][j], x[3][j]));
    }
}

/* Box-Muller: two uniforms give exactly two normals, one block a pair (or two). */
static void gen_normal_f32(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP];
    float *out = dst, mean = (float)d->a, std = (float)d->b;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++) {
        for (int pair = 0; pair < 2; pair++) {
            float r = __builtin_sqrtf(-2.0f * fi_logf(open01_f32(x[2 * pair][j])));
            float t = FI_TWO_PI_F * open01_f32(x[2 * pair + 1][j]);
            float s, c;
            fi_sincosf(t, &s, &c);
            out[4 * j + 2 * pair] = mean + std * (r * c);
            out[4 * j + 2 * pair + 1] = mean + std * (r * s);
        }
    }
}

static void gen_normal_f64(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP];
    double *out = dst, mean = d->a, std = d->b;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++) {
        double r = __builtin_sqrt(-2.0 * fi_log(open01_f64(join64(x[0][j], x[1][j]))));
        double t = FI_TWO_PI_D * open01_f64(join64(x[2][j], x[3][j]));
        double s, c;
        fi_sincos(t, &s, &c);
        out[2 * j] = mean + std * (r * c);
        out[2 * j + 1] = mean + std * (r * s);
    }
}

/* Inverse CDF: one slot, one element, never a rejection. The clamp only keeps
 * |z| <= bound where erfinv's last-ulp error would step over it. */
static void gen_truncated_normal_f32(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP];
    float *out = dst, mean = (float)d->a, std = (float)d->b;
    const float bound = (float)d->c, erf_c = (float)d->erf_c;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++)
        for (int k = 0; k < 4; k++) {
            float z = FI_SQRT2_F * fi_erfinvf(symmetric_f32(x[k][j]) * erf_c);
            z = z > bound ? bound : (z < -bound ? -bound : z);
            out[4 * j + k] = mean + std * z;
        }
}

static void gen_truncated_normal_f64(const fi_dist *d, uint64_t block0, void *dst)
{
    uint32_t x[4][FI_GROUP];
    double *out = dst, mean = d->a, std = d->b, bound = d->c, erf_c = d->erf_c;
    philox_group(d, block0, x);
    for (int j = 0; j < FI_GROUP; j++)
        for (int h = 0; h < 2; h++) {
            double z = FI_SQRT2_D * fi_erfinv(symmetric_f64(join64(x[2 * h][j], x[2 * h + 1][j])) * erf_c);
            z = z > bound ? bound : (z < -bound ? -bound : z);
            out[2 * j + h] = mean + std * z;
        }
}

typedef void (*gen_fn)(const fi_dist *d, uint64_t block0, void *dst);

/* Walks whole groups (groups start at multiples of FI_GROUP blocks, so where a
 * run starts never changes a value); writes straight into out where it can. */
static void run(const fi_dist *d, gen_fn gen, size_t size, unsigned per_block, uint64_t block,
                unsigned offset, uint64_t n, char *out, int64_t stride)
{
    _Alignas(64) unsigned char tmp[FI_GROUP * 4 * sizeof(float)];
    const uint64_t group_len = (uint64_t)FI_GROUP * per_block;
    uint64_t group = block / FI_GROUP;
    uint64_t skip = (block % FI_GROUP) * per_block + offset;
    const int direct_ok = stride == (int64_t)size && (uintptr_t)out % size == 0;
    while (n > 0) {
        uint64_t take = group_len - skip < n ? group_len - skip : n;
        if (direct_ok && take == group_len) {
            gen(d, group * FI_GROUP, out);
            out += take * size;
        } else {
            gen(d, group * FI_GROUP, tmp);
            for (uint64_t i = 0; i < take; i++, out += stride)
                memcpy(out, tmp + (skip + i) * size, size);
        }
        n -= take;
        skip = 0;
        group++;
    }
}

static void fill_run(const fi_dist *d, uint64_t block, unsigned offset, uint64_t n, char *out,
                     int64_t stride)
{
    static const gen_fn f32[] = {gen_uniform_f32, gen_normal_f32, gen_truncated_normal_f32};
    static const gen_fn f64[] = {gen_uniform_f64, gen_normal_f64, gen_truncated_normal_f64};
    if (d->dtype == FI_FLOAT32)
        run(d, f32[d->kind], sizeof(float), 4, block, offset, n, out, stride);
    else
        run(d, f64[d->kind], sizeof(double), 2, block, offset, n, out, stride);
}

static void raw_run(const fi_dist *d, uint64_t block, unsigned offset, uint64_t n, char *out,
                    int64_t stride)
{
    run(d, gen_raw, sizeof(uint32_t), 4, block, offset, n, out, stride);
}

const fi_kernels FI_KERNELS = {FI_NAME, fill_run, raw_run};
