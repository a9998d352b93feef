/* The sampling kernels, written once against the vector API (simd_vector.h)
 * and compiled once per SIMD path: kernels_<path>.c sets the target, includes
 * its simd_<path>.h, then this file with FI_PATH and FI_NAME set. Every value
 * is computed lane by lane from its own raw words by the same operations in
 * the same order on every path, so every path writes the same bits; paths
 * differ only in how many lanes a vector has and how they are stored.
 *
 * Element formulas: docs/stream.md, "From bits to numbers"; narrow
 * dtypes: "Narrow formats" (the float32 values, rounded as they are stored). */
#include <string.h>

#include "fimath.h"
#include "kernels.h"
#include "narrow.h"
#include "philox_lanes.h"

#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)
#define FI_KERNELS FI_CAT(fi_kernels_, FI_PATH)

/* 2*pi and sqrt(2), each rounded once to the target precision. */
#define FI_TWO_PI_F 6.28318530717958647692f
#define FI_TWO_PI_D 6.28318530717958647692
#define FI_SQRT2_F 1.41421356237309504880f
#define FI_SQRT2_D 1.41421356237309504880

/* A step writes the elements of nvecs vectors of Philox words from block0
 * on, in logical order, to dst: FI_STEP_VECS vectors for the bulk of a run
 * (dst FI_VBYTES-aligned if streaming), SMALL_VECS for its ends and for
 * strided output, so that a short row costs little. The elements take as
 * many bytes as the words (float32, float64, raw words) or half as many
 * (bfloat16, float16), at most SMALL_BYTES for a small step. */
#define SMALL_VECS 2
#define SMALL_BYTES (SMALL_VECS * FI_VBYTES)
struct kernel_ctx;
typedef void (*step_fn)(const struct kernel_ctx *c, uint64_t block0, char *dst, int streaming);

/* The fi_kernel_ctx of this path: what every step needs, prepared once per fill. */
typedef struct kernel_ctx {
    fi_philox_lanes philox;
    float af, bf, cf, ef;   /* the fi_dist parameters a, b, c, erf_c in float32 */
    double ad, bd, cd, ed;  /* ... and in float64 */
    float scale_f;          /* uniform: half 2^-24 */
    double scale_d;         /* uniform: half 2^-53 */
    step_fn step, small_step;
    unsigned size, per_block;  /* bytes per element, elements per block */
    int hardware;              /* narrow dtypes: round with conversion instructions */
    int subnormals;            /* some value may be a float32 subnormal */
} kernel_ctx;

_Static_assert(sizeof(kernel_ctx) <= FI_KERNEL_CTX_BYTES && _Alignof(kernel_ctx) <= 64,
               "kernel_ctx must fit in fi_kernel_ctx");

static void ctx_init(kernel_ctx *c, const fi_dist *d)
{
    philox_lanes_init(&c->philox, d->key, d->stream);
    c->af = (float)d->a;
    c->bf = (float)d->b;
    c->cf = (float)d->c;
    c->ef = (float)d->erf_c;
    c->ad = d->a;
    c->bd = d->b;
    c->cd = d->c;
    c->ed = d->erf_c;
    c->scale_f = c->bf * 0x1p-24f;
    c->scale_d = c->bd * 0x1p-53;
    c->hardware = 0;
    c->subnormals = 1;
}

/* m = 2k + 1 - 2^24 for k = x >> 8, as a float (exact). The arithmetic shift
 * gives (x >> 7) - 2^25 [top bit set]; xor with -2^24 (0xff000000) turns that
 * into (x >> 7) - 2^24 in both cases, the or sets bit 0 (2k + 1): two
 * operations (one vpternlogd) where a subtraction makes three. */
FI_INLINE vf symmetric_m_f32(vu32 x)
{
    return v_i32_to_f((((vi32)x >> 7) ^ -(1 << 24)) | 1);
}
/* s = m 2^-24, exact. */
FI_INLINE vf symmetric_f32(vu32 x)
{
    return symmetric_m_f32(x) * 0x1p-24f;
}
/* u 2^24 = k + 0.5 (rounded: k converts exactly, the add rounds), where
 * u = (k + 0.5) 2^-24. Callers fold the exact 2^-24 into their next multiply:
 * c (y 2^-24) and (c 2^-24) y are the same product, rounded once. */
FI_INLINE vf open01_f32_2p24(vu32 x)
{
    return v_i32_to_f((vi32)(x >> 8)) + 0.5f;
}
/* The same for float64 from k = v >> 11, v a raw 64-bit value (AVX2 has no
 * 64-bit arithmetic shift, so m is made with a subtraction here). */
FI_INLINE vd symmetric_m_f64(vu64 v)
{
    return v_i64_to_d((vi64)((v >> 10) | 1u) - ((int64_t)1 << 53));
}
FI_INLINE vd symmetric_f64(vu64 v)
{
    return symmetric_m_f64(v) * 0x1p-53;
}
FI_INLINE vd open01_f64_2p53(vu64 v)
{
    return v_u64_to_d(v >> 11) + 0.5;
}
/* Raw 64-bit values 2b, 2b + 1 of each block b, from its words in reversed
 * order (x3, x2, x1, x0): as 64-bit lanes those already are (value 2b + 1,
 * value 2b), value j being word 2j << 32 | word 2j+1; swap the two lanes. */
FI_INLINE vu64 raw64(vu32 reversed_words)
{
    return (vu64)FI_PERM4_U32(reversed_words, 2, 3, 0, 1);
}

/* Stores a step's vectors. Kept apart from the arithmetic: dst is a char *,
 * which may alias anything, so a store in the middle would keep the compiler
 * from interleaving the independent vectors' arithmetic across it. */
FI_INLINE void put(char *dst, const vu32 *y, int streaming, const int nvecs)
{
    for (int v = 0; v < nvecs; v++) {
        if (streaming)
            v_stream(dst + v * FI_VBYTES, y[v]);
        else
            v_store(dst + v * FI_VBYTES, y[v]);
    }
}

/* How a float32 step stores its values: as they are, or rounded to a narrow
 * dtype, in integers (narrow.h) or, if the fill's hardware flag is set, by
 * the path's conversion instructions. Steps check that flag once each: a
 * branch that always goes the same way costs less than compiling every
 * kernel twice more. */
enum { OUT_F32, OUT_BF16, OUT_F16, OUTS };

/* The step's float32 values y (as bits) rounded to the narrow dtype of out:
 * twice as many lanes per vector, so h gets half as many vectors. */
FI_INLINE void narrow(const vu32 *y, vu32 *h, const int nvecs, const int out, int hardware,
                      int subnormals)
{
#ifdef FI_HW_BF16
    /* The instruction flushes subnormals (only tiny parameters give them) to
     * zero: a step with one rounds in integers. */
    if (out == OUT_BF16 && hardware && !(subnormals && v_any_subnormal_f(y, nvecs))) {
        for (int v = 0; v < nvecs; v += 2)
            h[v / 2] = v_bf16_hw((vf)y[v], (vf)y[v + 1]);
        return;
    }
#endif
#ifdef FI_HW_F16
    if (out == OUT_F16 && hardware) {
        for (int v = 0; v < nvecs; v += 2)
            h[v / 2] = v_f16_hw((vf)y[v], (vf)y[v + 1]);
        return;
    }
#endif
    (void)hardware;
    (void)subnormals;
    for (int v = 0; v < nvecs; v += 2) {
        if (out == OUT_F16)
            h[v / 2] = v_pack_lo16(f16_in_low_half((vf)y[v]), f16_in_low_half((vf)y[v + 1]));
        else
            h[v / 2] = v_pack_hi16(bf16_in_high_half((vf)y[v]),
                                   bf16_in_high_half((vf)y[v + 1]));
    }
}

FI_INLINE void put_f32(const kernel_ctx *c, char *dst, const vu32 *y, int streaming,
                       const int nvecs, const int out)
{
    if (out == OUT_F32) {
        put(dst, y, streaming, nvecs);
    } else {
        vu32 h[FI_STEP_VECS / 2];
        narrow(y, h, nvecs, out, c->hardware, c->subnormals);
        put(dst, h, streaming, nvecs / 2);
    }
}

FI_INLINE void raw(const kernel_ctx *c, uint64_t block0, char *dst, int streaming,
                   const int nvecs)
{
    vu32 x[FI_STEP_VECS];
    philox_lanes_words(&c->philox, block0, x, 0, nvecs);
    put(dst, x, streaming, nvecs);
}

/* value = mid + half s, s = m 2^-p, as docs/stream.md orders it: the general form.
 * When half 2^-p is exact (not subnormal), half (m 2^-p) = (half 2^-p) m, the
 * same product rounded once: the scaled form saves a multiply. If also mid is
 * 0 and half is not (so no product is 0, let alone -0), adding mid changes no
 * bit: the centered form (every symmetric uniform, such as glorot_uniform). */
enum { UNIFORM_GENERAL, UNIFORM_SCALED, UNIFORM_CENTERED };

static int uniform_form(double mid, double half, double scale, double two_p)
{
    if (!(scale * two_p == half))   /* inexact, or NaN */
        return UNIFORM_GENERAL;
    if (mid == 0.0 && half != 0.0)
        return UNIFORM_CENTERED;
    return UNIFORM_SCALED;
}

FI_INLINE void uniform_f32(const kernel_ctx *c, uint64_t block0, char *dst, int streaming,
                           const int nvecs, const int form, const int out)
{
    const float mid = c->af, half = c->bf, scale = c->scale_f;
    vu32 x[FI_STEP_VECS];
    philox_lanes_words(&c->philox, block0, x, 0, nvecs);
    for (int v = 0; v < nvecs; v++) {
        vf m = symmetric_m_f32(x[v]);
        vf y = form == UNIFORM_GENERAL ? mid + half * (m * 0x1p-24f)
             : form == UNIFORM_SCALED ? mid + scale * m : scale * m;
        x[v] = (vu32)y;
    }
    put_f32(c, dst, x, streaming, nvecs, out);
}

FI_INLINE void uniform_f64(const kernel_ctx *c, uint64_t block0, char *dst, int streaming,
                           const int nvecs, const int form)
{
    const double mid = c->ad, half = c->bd, scale = c->scale_d;
    vu32 x[FI_STEP_VECS];
    philox_lanes_words(&c->philox, block0, x, 1, nvecs);
    for (int v = 0; v < nvecs; v++) {
        vd m = symmetric_m_f64(raw64(x[v]));
        vd y = form == UNIFORM_GENERAL ? mid + half * (m * 0x1p-53)
             : form == UNIFORM_SCALED ? mid + scale * m : scale * m;
        x[v] = (vu32)y;
    }
    put(dst, x, streaming, nvecs);
}

#define UNIFORM_FORM(name, fn, form) \
    FI_INLINE void name(const kernel_ctx *c, uint64_t block0, char *dst, int streaming, \
                        const int nvecs) \
    { \
        fn(c, block0, dst, streaming, nvecs, form); \
    }
#define UNIFORM_F32_FORM(name, form) \
    FI_INLINE void name(const kernel_ctx *c, uint64_t block0, char *dst, int streaming, \
                        const int nvecs, const int out) \
    { \
        uniform_f32(c, block0, dst, streaming, nvecs, form, out); \
    }
UNIFORM_F32_FORM(uniform_f32_general, UNIFORM_GENERAL)
UNIFORM_F32_FORM(uniform_f32_scaled, UNIFORM_SCALED)
UNIFORM_F32_FORM(uniform_f32_centered, UNIFORM_CENTERED)
UNIFORM_FORM(uniform_f64_general, uniform_f64, UNIFORM_GENERAL)
UNIFORM_FORM(uniform_f64_scaled, uniform_f64, UNIFORM_SCALED)
UNIFORM_FORM(uniform_f64_centered, uniform_f64, UNIFORM_CENTERED)

/* Box-Muller: two uniforms give exactly two normals, which suits a counter-based
 * generator. Radius and angle words alternate in the stream; splitting them
 * into two vectors lets each lane compute one pair, log and sqrt on one
 * vector, sin and cos on the other, instead of both on every lane. */
FI_INLINE void normal_f32(const kernel_ctx *c, uint64_t block0, char *dst, int streaming,
                          const int nvecs, const int out)
{
    const float mean = c->af, std = c->bf;
    vu32 x[FI_STEP_VECS];
    philox_lanes_words(&c->philox, block0, x, 1, nvecs);
#pragma GCC unroll 8
    for (int v = 0; v < nvecs; v += 2) {
        /* words (x3, x2, x1, x0) per block: radii x0, x2 and angles x1, x3 of
         * both vectors' blocks, pair by pair in stream order */
        vu32 radius = FI_PAIRS_U32(x[v], x[v + 1], 3, 1);
        vu32 angle = FI_PAIRS_U32(x[v], x[v + 1], 2, 0);
        vf r = v_sqrt_f(-2.0f * fi_logf_scaled(open01_f32_2p24(radius), 24));
        vf t = (FI_TWO_PI_F * 0x1p-24f) * open01_f32_2p24(angle);
        vf s, co, even, odd;
        fi_sincosf(t, &s, &co);
        v_interleave_f(mean + std * (r * co), mean + std * (r * s), &even, &odd);
        x[v] = (vu32)even;
        x[v + 1] = (vu32)odd;
    }
    put_f32(c, dst, x, streaming, nvecs, out);
}

FI_INLINE void normal_f64(const kernel_ctx *c, uint64_t block0, char *dst, int streaming,
                          const int nvecs)
{
    const double mean = c->ad, std = c->bd;
    vu32 x[FI_STEP_VECS];
    philox_lanes_words(&c->philox, block0, x, 1, nvecs);
#pragma GCC unroll 8
    for (int v = 0; v < nvecs; v += 2) {
        /* 64-bit lanes (value 2b + 1, value 2b) per block b: angles, radii */
        vu64 radius, angle;
        v_deinterleave64((vu64)x[v], (vu64)x[v + 1], &angle, &radius);
        vd r = v_sqrt_d(-2.0 * fi_log_scaled(open01_f64_2p53(radius), 53));
        vd t = (FI_TWO_PI_D * 0x1p-53) * open01_f64_2p53(angle);
        vd s, co, even, odd;
        fi_sincos(t, &s, &co);
        v_interleave_d(mean + std * (r * co), mean + std * (r * s), &even, &odd);
        x[v] = (vu32)even;
        x[v + 1] = (vu32)odd;
    }
    put(dst, x, streaming, nvecs);
}

/* Inverse CDF: one slot, one element, never a rejection. The clamp only keeps
 * |z| <= bound where erfinv's last-ulp error would step over it; min and max
 * are z > bound ? bound : (z < -bound ? -bound : z) for every z. */
FI_INLINE void truncated_normal_f32(const kernel_ctx *c, uint64_t block0, char *dst,
                                    int streaming, const int nvecs, const int out)
{
    const float mean = c->af, std = c->bf, erf_c = c->ef;
    const vf bound = v_bcast_f(c->cf);
    vu32 x[FI_STEP_VECS];
    vf y[FI_STEP_VECS], w[FI_STEP_VECS], p[FI_STEP_VECS];
    vi32 tail = (vi32){0};  /* some lane of the step is in the tail */
    philox_lanes_words(&c->philox, block0, x, 0, nvecs);
    /* fi_erfinvf, with its one branch taken for the whole step (see fimath.h) */
#pragma GCC unroll 8
    for (int v = 0; v < nvecs; v++) {
        y[v] = symmetric_f32(x[v]) * erf_c;
        w[v] = erfinvf_w(fi_absf(y[v]));
        p[v] = erfinvf_central(w[v]);
        tail |= erfinvf_in_tail(w[v]);
    }
    if (v_any32(tail))
        for (int v = 0; v < nvecs; v++)
            p[v] = v_sel_f(erfinvf_in_tail(w[v]), erfinvf_tail(w[v]), p[v]);
    for (int v = 0; v < nvecs; v++) {
        vf z = FI_SQRT2_F * erfinvf_finish(p[v], y[v]);
        x[v] = (vu32)(mean + std * v_max_f(v_min_f(z, bound), -bound));
    }
    put_f32(c, dst, x, streaming, nvecs, out);
}

FI_INLINE void truncated_normal_f64(const kernel_ctx *c, uint64_t block0, char *dst,
                                    int streaming, const int nvecs)
{
    const double mean = c->ad, std = c->bd, erf_c = c->ed;
    const vd bound = v_bcast_d(c->cd);
    vu32 x[FI_STEP_VECS];
    vd y[FI_STEP_VECS], a[FI_STEP_VECS], e[FI_STEP_VECS];
    vi64 tail = (vi64){0}, far = (vi64){0};  /* some lane of the step is in them */
    philox_lanes_words(&c->philox, block0, x, 1, nvecs);
    /* fi_erfinv, with its branches taken for the whole step (see fimath.h) */
#pragma GCC unroll 8
    for (int v = 0; v < nvecs; v++) {
        y[v] = symmetric_f64(raw64(x[v])) * erf_c;
        a[v] = fi_abs_d(y[v]);
        e[v] = erfinv_central(a[v]);
        tail |= ~erfinv_is_central(a[v]);
    }
    if (v_any64(tail)) {
        vd r[FI_STEP_VECS];
#pragma GCC unroll 8
        for (int v = 0; v < nvecs; v++) {
            r[v] = erfinv_tail_r(a[v]);
            far |= erfinv_is_far(r[v]);
        }
#pragma GCC unroll 8
        for (int v = 0; v < nvecs; v++) {
            vd xt = erfinv_tail_near(r[v]);
            if (v_any64(far))
                xt = v_sel_d(erfinv_is_far(r[v]), erfinv_tail_far(r[v]), xt);
            e[v] = v_sel_d(erfinv_is_central(a[v]), e[v], xt);
        }
    }
    for (int v = 0; v < nvecs; v++) {
        vd z = FI_SQRT2_D * fi_sign_d(e[v], y[v]);
        x[v] = (vu32)(mean + std * v_max_d(v_min_d(z, bound), -bound));
    }
    put(dst, x, streaming, nvecs);
}

/* The math of one vector is a long chain of dependent multiplies and adds;
 * the hardware's scheduler cannot look far enough ahead to overlap those of a
 * step's several vectors, so for Box-Muller the compiler's is asked to
 * interleave them (measured: +15% on AVX-512, but -5% on the uniform steps,
 * which are not latency-bound, hence per function). */
#if defined(__GNUC__) && !defined(__clang__)
#define FI_INTERLEAVE_CHAINS __attribute__((optimize("schedule-insns", "sched-pressure")))
#else
#define FI_INTERLEAVE_CHAINS
#endif

/* A full step and a small one from each body. */
#define STEPS(name, body, attributes) \
    attributes static void name(const kernel_ctx *c, uint64_t block0, char *dst, int streaming) \
    { \
        body(c, block0, dst, streaming, FI_STEP_VECS); \
    } \
    static void name##_small(const kernel_ctx *c, uint64_t block0, char *dst, int streaming) \
    { \
        body(c, block0, dst, streaming, SMALL_VECS); \
    }
/* The same from a float32 body, storing its values as `out` says. */
#define STEPS_OUT(name, body, attributes, out) \
    attributes static void name(const kernel_ctx *c, uint64_t block0, char *dst, int streaming) \
    { \
        body(c, block0, dst, streaming, FI_STEP_VECS, out); \
    } \
    static void name##_small(const kernel_ctx *c, uint64_t block0, char *dst, int streaming) \
    { \
        body(c, block0, dst, streaming, SMALL_VECS, out); \
    }
/* A float32 body's steps for every OUT_, and name##_outs: them, by OUT_. */
#define STEPS_F32(name, body, attributes) \
    STEPS_OUT(name, body, attributes, OUT_F32) \
    STEPS_OUT(name##_bf16, body, attributes, OUT_BF16) \
    STEPS_OUT(name##_f16, body, attributes, OUT_F16) \
    static const step_fn name##_outs[OUTS][2] = { \
        {name, name##_small}, {name##_bf16, name##_bf16_small}, {name##_f16, name##_f16_small}};
STEPS(step_raw, raw, )
STEPS_F32(step_uniform_f32, uniform_f32_general, )
STEPS_F32(step_uniform_f32_scaled, uniform_f32_scaled, )
STEPS_F32(step_uniform_f32_centered, uniform_f32_centered, )
STEPS(step_uniform_f64, uniform_f64_general, )
STEPS(step_uniform_f64_scaled, uniform_f64_scaled, )
STEPS(step_uniform_f64_centered, uniform_f64_centered, )
STEPS_F32(step_normal_f32, normal_f32, FI_INTERLEAVE_CHAINS)
STEPS(step_normal_f64, normal_f64, FI_INTERLEAVE_CHAINS)
STEPS_F32(step_truncated_normal_f32, truncated_normal_f32, FI_INTERLEAVE_CHAINS)
STEPS(step_truncated_normal_f64, truncated_normal_f64, FI_INTERLEAVE_CHAINS)

/* Elements first .. first + take - 1 of a small step at block, to out. */
FI_INLINE void small_part(const kernel_ctx *c, uint64_t block, uint64_t first, uint64_t take,
                          char *out, int64_t stride)
{
    _Alignas(FI_VBYTES) char tmp[SMALL_BYTES];
    c->small_step(c, block, tmp, 0);
    if (stride == (int64_t)c->size) {
        memcpy(out, tmp + first * c->size, take * c->size);
        return;
    }
    for (uint64_t i = 0; i < take; i++, out += stride)
        memcpy(out, tmp + (first + i) * c->size, c->size);
}

/* Writes n elements of `size` bytes (per_block of them per block) from
 * element `offset` of `block` on. A step may start at any block, since a
 * value depends only on its own block, so contiguous output is written in
 * place from the first block boundary (the first FI_VBYTES-aligned one, to
 * stream) and only what is left at either end, or every step of strided
 * output, goes through small steps and a copy. */
static void run(const fi_kernel_ctx *k, uint64_t block, unsigned offset, uint64_t n, char *out,
                int64_t stride, unsigned flags)
{
    const kernel_ctx *c = (const kernel_ctx *)k->bytes;
    const unsigned size = c->size, per_block = c->per_block;
    const unsigned block_bytes = size * per_block;  /* 16, or 8 for a narrow dtype */
    const uint64_t small_blocks = SMALL_VECS * FI_VEC_BLOCKS;
    const uint64_t small_len = small_blocks * per_block, step_len = FI_STEP_BLOCKS * per_block;
    const uint64_t small_bytes = small_len * size, step_bytes = step_len * size;

    if (stride != (int64_t)size || (uintptr_t)out % size != 0) {
        while (n > 0) {
            uint64_t take = small_len - offset < n ? small_len - offset : n;
            small_part(c, block, offset, take, out, stride);
            out += (int64_t)take * stride;
            n -= take;
            block += small_blocks;
            offset = 0;
        }
        return;
    }

    /* Either every block of output starts block_bytes-aligned or none does,
     * and then nothing can be streamed. */
    uint64_t head = (per_block - offset) % per_block;
    const uintptr_t first_block = (uintptr_t)(out + head * size);
    const int streaming = (flags & FI_RUN_STREAM) && first_block % block_bytes == 0 &&
                          n * size >= FI_STREAM_MIN_RUN;
    if (streaming)
        head += (FI_VBYTES - first_block % FI_VBYTES) % FI_VBYTES / block_bytes * per_block;
    if (head > n)
        head = n;
    if (head > 0) {     /* head < FI_VBYTES bytes: one small step holds it */
        small_part(c, block, offset, head, out, stride);
        out += head * size;
        n -= head;
        block += (offset + head) / per_block;
    }
    for (; n >= step_len; n -= step_len, out += step_bytes, block += FI_STEP_BLOCKS)
        c->step(c, block, out, streaming);
    for (; n >= small_len; n -= small_len, out += small_bytes, block += small_blocks)
        c->small_step(c, block, out, streaming);
    if (n > 0)
        small_part(c, block, 0, n, out, stride);
    if (streaming)
        v_stream_fence();
}

/* The instructions this path rounds to dtype with, by their CPUID name, where
 * it has some, the CPU runs them and fi_round_select allows them; else NULL. */
static const char *hardware(fi_dtype dtype)
{
    if (!fi_round_hardware_allowed())
        return NULL;
#ifdef FI_HW_BF16
    if (dtype == FI_BFLOAT16 && (fi_cpu_features() & FI_HW_BF16_NEEDS) == FI_HW_BF16_NEEDS)
        return FI_HW_BF16;
#endif
#ifdef FI_HW_F16
    if (dtype == FI_FLOAT16 && (fi_cpu_features() & FI_HW_F16_NEEDS) == FI_HW_F16_NEEDS)
        return FI_HW_F16;
#endif
    (void)dtype;
    return NULL;
}

/* How a float32 step stores values of dtype (OUT_). */
static int out_of(fi_dtype dtype)
{
    return dtype == FI_BFLOAT16 ? OUT_BF16 : dtype == FI_FLOAT16 ? OUT_F16 : OUT_F32;
}

static void prepare_fill(const fi_dist *d, fi_kernel_ctx *k)
{
    /* float32 steps by kind (uniform by form), each by OUT_ */
    static const step_fn (*const uniform32[])[2] = {
        step_uniform_f32_outs, step_uniform_f32_scaled_outs, step_uniform_f32_centered_outs};
    static const step_fn (*const others32[])[2] = {
        0, step_normal_f32_outs, step_truncated_normal_f32_outs};
    static const step_fn uniform64[][2] = {
        {step_uniform_f64, step_uniform_f64_small},
        {step_uniform_f64_scaled, step_uniform_f64_scaled_small},
        {step_uniform_f64_centered, step_uniform_f64_centered_small}};
    static const step_fn others64[][2] = {
        {0, 0}, {step_normal_f64, step_normal_f64_small},
        {step_truncated_normal_f64, step_truncated_normal_f64_small}};
    kernel_ctx *c = (kernel_ctx *)k->bytes;
    const fi_dtype_info *dtype = &fi_dtypes[d->dtype];
    ctx_init(c, d);
    const step_fn *steps;
    if (dtype->draws == FI_FLOAT32) {
        const int form = uniform_form(c->af, c->bf, c->scale_f, 0x1p24);
        const step_fn (*outs)[2] = d->kind == FI_UNIFORM ? uniform32[form] : others32[d->kind];
        steps = outs[out_of(d->dtype)];
        /* A centered uniform value is scale m with |m| >= 1, never below |scale|:
         * every symmetric uniform scheme, checked for subnormals for nothing. */
        c->subnormals = !(d->kind == FI_UNIFORM && form == UNIFORM_CENTERED &&
                          (c->scale_f >= 0x1p-126f || c->scale_f <= -0x1p-126f));
    } else {
        steps = d->kind == FI_UNIFORM ? uniform64[uniform_form(c->ad, c->bd, c->scale_d, 0x1p53)]
                                      : others64[d->kind];
    }
    c->step = steps[0];
    c->small_step = steps[1];
    c->size = dtype->size;
    c->per_block = dtype->per_block;
    c->hardware = hardware(d->dtype) != NULL;
}

static void prepare_raw(const fi_dist *d, fi_kernel_ctx *k)
{
    kernel_ctx *c = (kernel_ctx *)k->bytes;
    ctx_init(c, d);
    c->step = step_raw;
    c->small_step = step_raw_small;
    c->size = sizeof(uint32_t);
    c->per_block = 4;
}

/* One vector of inputs at a time; the last, partial one padded with 0.5,
 * which every function takes. */
static void math_run(fi_math fn, fi_dtype dtype, const void *in, void *out, size_t n)
{
    const size_t size = dtype == FI_FLOAT32 ? sizeof(float) : sizeof(double);
    const size_t lanes = FI_VBYTES / size;
    for (size_t i = 0; i < n; i += lanes) {
        const size_t take = n - i < lanes ? n - i : lanes;
        _Alignas(FI_VBYTES) char buf[FI_VBYTES];
        if (dtype == FI_FLOAT32) {
            vf x = v_bcast_f(0.5f), y = x, s, co;
            memcpy(&x, (const char *)in + i * size, take * size);
            switch (fn) {
            case FI_MATH_LOG: y = fi_logf(x); break;
            case FI_MATH_SIN: fi_sincosf(x, &y, &co); break;
            case FI_MATH_COS: fi_sincosf(x, &s, &y); break;
            case FI_MATH_ERFINV: y = fi_erfinvf(x); break;
            }
            memcpy(buf, &y, sizeof y);
        } else {
            vd x = v_bcast_d(0.5), y = x, s, co;
            memcpy(&x, (const char *)in + i * size, take * size);
            switch (fn) {
            case FI_MATH_LOG: y = fi_log(x); break;
            case FI_MATH_SIN: fi_sincos(x, &y, &co); break;
            case FI_MATH_COS: fi_sincos(x, &s, &y); break;
            case FI_MATH_ERFINV: y = fi_erfinv(x); break;
            }
            memcpy(buf, &y, sizeof y);
        }
        memcpy((char *)out + i * size, buf, take * size);
    }
}

/* Two vectors of inputs at a time, as a small step rounds them; the last,
 * partial ones padded with 0. */
static void round_run(fi_dtype dtype, const float *in, uint16_t *out, size_t n)
{
    const int how = out_of(dtype), hw = hardware(dtype) != NULL;
    const size_t lanes = SMALL_VECS * FI_LANES32;
    for (size_t i = 0; i < n; i += lanes) {
        const size_t take = n - i < lanes ? n - i : lanes;
        vu32 y[FI_STEP_VECS] = {{0}}, h[FI_STEP_VECS / 2];
        memcpy(y, in + i, take * sizeof *in);
        narrow(y, h, SMALL_VECS, how, hw, 1);
        memcpy(out + i, h, take * sizeof *out);
    }
}

const fi_kernels FI_KERNELS = {FI_NAME, prepare_fill, prepare_raw, run, math_run, round_run,
                               hardware};
