/*
 * fimath.h -- fastinit's own ln, sin/cos and erfinv, written once against the
 * vector API (simd_vector.h) and compiled once per SIMD path.
 *
 * Why: calling the platform libm (or its vector variants) would make the
 * numbers depend on the libm version and on the SIMD path. This is one
 * source for every path, using only IEEE-754 + - * /, correctly rounded sqrt,
 * exact conversions, comparisons/selects and integer bit operations, compiled
 * with -ffp-contract=off (no FMA) and without -ffast-math, so every path
 * rounds at the same places the same way. Range splits compute both sides and
 * select per lane; a side is skipped only when no lane of the vector selects
 * it, which cannot change a selected value.
 *
 * Accuracy promise: < 4 ulp of the exact result over the stated ranges.
 * Measured max error: logf 0.83, sinf/cosf 1.52/1.66, erfinvf 3.08 (all
 * three exhaustive over every float in range); log 0.75, sin/cos 1.25/1.35,
 * erfinv 2.87 (dense random + hard points vs mpmath).
 *
 *   fi_logf    cephes logf: m in [sqrt(.5),sqrt(2)), degree-9 polynomial
 *              (cephes coefficients), ln2 split in two parts.
 *   fi_log     fdlibm e_log.c: s = f/(2+f), Lg1..Lg7 (fdlibm coefficients).
 *   fi_sincosf 4-part Cody-Waite reduction by pi/2 (float), cephes sinf/cosf
 *              polynomials on [-pi/4, pi/4].
 *   fi_sincos  4-part Cody-Waite reduction by pi/2 (double), fdlibm
 *              k_sin.c / k_cos.c kernels (musl form).
 *   fi_erfinvf Giles (2010) scheme: erfinv(y)/y as a polynomial in
 *              w = -log((1-y)(1+y)) (w < 5) or sqrt(w) (w >= 5), float
 *              arithmetic; degree-9 coefficients refitted for fastinit
 *              (relative least squares at Chebyshev nodes, mpmath), which
 *              cut the max error from 3.76 to 3.08 ulp vs Giles' own.
 *   fi_erfinv  Wichura AS241 PPND16 rational approximations of the normal
 *              quantile (1/sqrt(2) folded in), each rewritten exactly as
 *              leading terms + small rational correction to cut rounding.
 *
 * erf is needed once per fill, in double, and lives in erf_scalar.h.
 *
 * Ranges: fi_logf (0, 1] (stream range [2^-25, 1], 1 included: u rounds to 1
 * for the largest k, docs/stream.md), fi_log (0, 1] (stream range [2^-54, 1]),
 * subnormals included; both also work for larger x (fi_logf x < 2^103, fi_log
 * x < 2^969), but not for 0, negatives, inf or NaN.
 * fi_sincosf/fi_sincos: t in [0, 2*pi].  fi_erfinvf/fi_erfinv: y in (-1, 1).
 */
#ifndef FASTINIT_FIMATH_H
#define FASTINIT_FIMATH_H

#ifndef FI_VBYTES
#error "include a simd_<path>.h header before fimath.h"
#endif

/* |x| and "x with the sign bit of y" as pure bit operations */
FI_INLINE vf fi_absf(vf x) { return (vf)((vu32)x & 0x7fffffffu); }
FI_INLINE vd fi_abs_d(vd x) { return (vd)((vu64)x & 0x7fffffffffffffffu); }
FI_INLINE vf fi_signf(vf x, vf y) { return (vf)((vu32)x | ((vu32)y & 0x80000000u)); }
FI_INLINE vd fi_sign_d(vd x, vd y) { return (vd)((vu64)x | ((vu64)y & 0x8000000000000000u)); }

/* ======================================================================
 * log
 * ==================================================================== */

/* ln(x 2^-p) for normal x: the argument comes scaled by 2^p. A caller with
 * x = y 2^p at hand saves a multiply, and the bits are those of fi_logf(y). */
FI_INLINE vf fi_logf_scaled(vf x, const int p)
{
    /* x = 2^e * m with m in [sqrt(1/2), sqrt(2)): bias the exponent field so
     * that it rolls over at sqrt(1/2) instead of at 1. */
    vu32 u = (vu32)x + (0x3f800000u - 0x3f3504f3u);
    vi32 e = (vi32)(u >> 23) - (127 + p);
    vf m = (vf)((u & 0x007fffffu) + 0x3f3504f3u);
    vf f = m - 1.0f;                    /* exact (Sterbenz) */
    vf fe = v_i32_to_f(e);

    /* cephes logf: log(1+f) = f - f^2/2 + f^3 P(f) */
    vf z = f * f;
    vf p9 = v_bcast_f(7.0376836292e-2f);
    p9 = p9 * f - 1.1514610310e-1f;
    p9 = p9 * f + 1.1676998740e-1f;
    p9 = p9 * f - 1.2420140846e-1f;
    p9 = p9 * f + 1.4249322787e-1f;
    p9 = p9 * f - 1.6668057665e-1f;
    p9 = p9 * f + 2.0000714765e-1f;
    p9 = p9 * f - 2.4999993993e-1f;
    p9 = p9 * f + 3.3333331174e-1f;
    vf y = p9 * f * z;
    /* ln2 = 0.693359375 (exact, 9 bits, so e*hi is exact) - 2.12194440e-4 */
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    return (f + y) + fe * 0.693359375f;
}

FI_INLINE vf fi_logf(vf x)
{
    /* Always scale by 2^24 (exact) so that subnormal inputs become normal;
     * cheaper than a select, valid for x < 2^103. */
    return fi_logf_scaled(x * 0x1p24f, 24);
}

/* ln(x 2^-p) for normal x, as fi_logf_scaled. */
FI_INLINE vd fi_log_scaled(vd x, const int p)
{
    /* x = 2^k * m, m in [sqrt(1/2), sqrt(2)) (same trick as fi_logf). The
     * exponent field becomes a double by way of a mantissa (2^52 + field). */
    vu64 u = (vu64)x + (0x3ff0000000000000u - 0x3fe6a09e00000000u);
    vd k = (vd)(0x4330000000000000u | (u >> 52)) - (0x1p52 + 1023.0 + p);  /* exact */
    vd m = (vd)((u & 0x000fffffffffffffu) + 0x3fe6a09e00000000u);
    vd f = m - 1.0;                     /* exact */

    /* fdlibm: log(1+f) = f - hfsq + s*(hfsq+R), s = f/(2+f) */
    vd hfsq = 0.5 * f * f;
    vd s = f / (2.0 + f);
    vd z = s * s;
    vd w = z * z;
    vd t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    vd t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    vd R = t2 + t1;
    const double ln2_hi = 6.93147180369123816490e-01; /* 32 bits: k*ln2_hi exact */
    const double ln2_lo = 1.90821492927058770002e-10;
    return s * (hfsq + R) + k * ln2_lo - hfsq + f + k * ln2_hi;
}

FI_INLINE vd fi_log(vd x)
{
    return fi_log_scaled(x * 0x1p54, 54);   /* exact; subnormals -> normal (x < 2^969) */
}

/* ======================================================================
 * sin / cos on [0, 2*pi]
 * ==================================================================== */

/* pi/2 = P1 + P2 + P3 + P4.  P1..P3 have <= 12 significant bits, so n*Pi
 * (n <= 4) is exact; t - n*P1 is exact by Sterbenz, and the following
 * subtractions are exact whenever the result is small, which keeps full
 * relative accuracy next to the zeros of sin/cos. */
#define FI_PIO2F_1  0x1.922p+0f
#define FI_PIO2F_2 -0x1.2aep-18f
#define FI_PIO2F_3 -0x1.dea0p-31f
#define FI_PIO2F_4  0x1.184698p-44f

FI_INLINE void fi_sincosf(vf t, vf *s, vf *c)
{
    /* n = round(t * 2/pi) in {0..4} by adding 1.5*2^23: n lands in the low
     * mantissa bits of nb, which also gives the quadrant as an integer. */
    vf nb = t * 0.63661977236758134f + 0x1.8p23f;
    vf n = nb - 0x1.8p23f;
    vu32 q = (vu32)nb;
    vf r = t - n * FI_PIO2F_1;
    r = r - n * FI_PIO2F_2;
    r = r - n * FI_PIO2F_3;
    r = r - n * FI_PIO2F_4;            /* r in [-pi/4, pi/4] */

    /* cephes sinf / cosf polynomials */
    vf z = r * r;
    vf sp = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
    vf cp = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z
            - 0.5f * z + 1.0f;

    /* quadrant q: (sin, cos) = (sp, cp), (cp, -sp), (-sp, -cp), (-cp, sp) */
    vu32 swap = -(q & 1u);
    vu32 ps = (vu32)sp, pc = (vu32)cp;
    vu32 sv = (pc & swap) | (ps & ~swap);
    vu32 cv = (ps & swap) | (pc & ~swap);
    *s = (vf)(sv ^ ((q & 2u) << 30));
    *c = (vf)(cv ^ (((q + 1u) & 2u) << 30));
}

/* P1..P3 have 33 significant bits (P4 is the rounded remainder). */
#define FI_PIO2_1 0x1.921fb544p+0
#define FI_PIO2_2 0x1.0b4611a6p-34
#define FI_PIO2_3 0x1.3198a2ep-69
#define FI_PIO2_4 0x1.b839a252049c1p-104

FI_INLINE void fi_sincos(vd t, vd *s, vd *c)
{
    vd nb = t * 0.63661977236758134308 + 0x1.8p52;
    vd n = nb - 0x1.8p52;
    vu64 q = (vu64)nb;
    vd r = t - n * FI_PIO2_1;
    r = r - n * FI_PIO2_2;
    r = r - n * FI_PIO2_3;
    r = r - n * FI_PIO2_4;

    vd z = r * r;
    vd w = z * z;
    /* fdlibm k_sin.c */
    vd rs = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * 2.75573137070700676789e-06)
            + z * w * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10);
    vd sp = r + z * r * (-1.66666666666666324348e-01 + z * rs);
    /* fdlibm k_cos.c; w0 + ((1-w0)-hz) recovers the rounding error of 1-hz */
    vd rc = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05))
            + w * w * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
    vd hz = 0.5 * z;
    vd w0 = 1.0 - hz;
    vd cp = w0 + (((1.0 - w0) - hz) + z * rc);

    /* quadrant as in fi_sincosf, where bit 1 of q + 1 is bit 1 ^ bit 0 of q
     * (here that saves a few instructions; in fi_sincosf it measured slower) */
    vu64 q1 = q << 62, q0 = q << 63;    /* bit 1, bit 0 of q in the sign bit */
    vu64 swap = -(q0 >> 63);
    vu64 ps = (vu64)sp, pc = (vu64)cp;
    vu64 sv = (pc & swap) | (ps & ~swap);
    vu64 cv = (ps & swap) | (pc & ~swap);
    *s = (vd)(sv ^ (q1 & 0x8000000000000000u));
    *c = (vd)(cv ^ ((q1 ^ q0) & 0x8000000000000000u));
}

/* ======================================================================
 * erfinv
 * ==================================================================== */

/* fi_erfinvf in parts, so that a kernel can run the common part of all its
 * vectors before it branches, once, for the rare tail: a branch per vector
 * would keep the compiler from interleaving their long dependency chains. */
FI_INLINE vf erfinvf_w(vf a)            /* a = |y| */
{
    /* (1-a) is exact for a >= 0.5, which keeps the tails accurate */
    return -fi_logf((1.0f - a) * (1.0f + a));
}

FI_INLINE vf erfinvf_central(vf w)      /* w < 5: polynomial in w - 2.5 */
{
    vf wc = w - 2.5f;
    vf pc = v_bcast_f(-8.941413832e-09f);
    pc = pc * wc + 2.326479986e-08f;
    pc = pc * wc + 4.682669612e-07f;
    pc = pc * wc + -3.463092980e-06f;
    pc = pc * wc + -4.973069736e-06f;
    pc = pc * wc + 2.183458855e-04f;
    pc = pc * wc + -1.252725255e-03f;
    pc = pc * wc + -4.177388269e-03f;
    pc = pc * wc + 2.466402799e-01f;
    pc = pc * wc + 1.501409411e+00f;
    return pc;
}

/* w >= 5 (|y| > 0.9966): a truncated normal cut at 2 std never gets here */
FI_INLINE vi32 erfinvf_in_tail(vf w) { return ~(w < 5.0f); }

FI_INLINE vf erfinvf_tail(vf w)         /* polynomial in sqrt(w) - 3 */
{
    vf wt = v_sqrt_f(w) - 3.0f;
    vf pt = v_bcast_f(1.171320764e-04f);
    pt = pt * wt + -3.119622415e-04f;
    pt = pt * wt + -5.776786929e-05f;
    pt = pt * wt + 1.487985835e-03f;
    pt = pt * wt + -3.597478615e-03f;
    pt = pt * wt + 5.685857963e-03f;
    pt = pt * wt + -7.637168746e-03f;
    pt = pt * wt + 9.445427917e-03f;
    pt = pt * wt + 1.001675010e+00f;
    pt = pt * wt + 2.832976818e+00f;
    return pt;
}

/* erfinv(y) = sign(y) |y| p(w), p the central or the tail polynomial */
FI_INLINE vf erfinvf_finish(vf p, vf y) { return fi_signf(p * fi_absf(y), y); }

FI_INLINE vf fi_erfinvf(vf y)
{
    vf w = erfinvf_w(fi_absf(y));
    vi32 tail = erfinvf_in_tail(w);
    vf p = erfinvf_central(w);
    if (v_any32(tail))
        p = v_sel_f(tail, erfinvf_tail(w), p);
    return erfinvf_finish(p, y);
}

/* PPND16 central region |y| <= 0.85: erfinv(y)/y = A(r)/B(r) with
 * r = 0.180625 - q^2, q = y/2. Evaluating A/B directly costs ~6 ulp of
 * rounding, so it is rewritten exactly as c0 + q^2 M(r)/B(r) (M = (A -
 * c0 B)/(0.180625 - r), c0 = A/B at r = 0.180625): the rounding errors of
 * M/B then only touch a correction that is < 26% of the result. */
FI_INLINE vd erfinv_central(vd a)
{
    vd q = 0.5 * a;
    vd q2 = q * q;
    vd rc = 0.180625 - q2;
    vd num = v_bcast_d(3.74476677224566583e+03);
    num = num * rc + 1.43173944738121245e+04;
    num = num * rc + 1.36397536356514738e+04;
    num = num * rc + 5.02805368635430023e+03;
    num = num * rc + 8.33787063070113959e+02;
    num = num * rc + 6.25437517839112616e+01;
    num = num * rc + 1.72349002693056441e+00;
    vd den = v_bcast_d(5.2264952788528545610e+03);
    den = den * rc + 2.8729085735721942674e+04;
    den = den * rc + 3.9307895800092710610e+04;
    den = den * rc + 2.1213794301586595867e+04;
    den = den * rc + 5.3941960214247511077e+03;
    den = den * rc + 6.8718700749205790830e+02;
    den = den * rc + 4.2313330701600911252e+01;
    den = den * rc + 1.0;
    /* c0 = 8.86226925452758052e-01 + 2.75128565739939556e-17 (~sqrt(pi)/2) */
    return a * 8.86226925452758052e-01 + (a * 2.75128565739939556e-17 + (a * q2) * (num / den));
}

/* The PPND16 tail rationals C/D in r = sqrt(-log((1-|y|)/2)), rewritten
 * exactly as l0 + l1 t + t^2 M(t)/D(t) (polynomial division), again so that
 * the rounding errors of the rational only touch a small correction. */
FI_INLINE vd erfinv_tail_near(vd r)     /* 1.6 < r <= 5 */
{
    vd t1 = r - 1.6;
    vd m1 = v_bcast_d(-1.26884446974359634e-09);
    m1 = m1 * t1 - 1.13567776760352225e-04;
    m1 = m1 * t1 - 2.83629245929480599e-03;
    m1 = m1 * t1 - 2.31775407493590227e-02;
    m1 = m1 * t1 - 8.36561812503268942e-02;
    m1 = m1 * t1 - 1.39184136976645750e-01;
    m1 = m1 * t1 - 8.70211333763176442e-02;
    vd d1 = v_bcast_d(1.05075007164441684324e-9);
    d1 = d1 * t1 + 5.47593808499534494600e-4;
    d1 = d1 * t1 + 1.51986665636164571966e-2;
    d1 = d1 * t1 + 1.48103976427480074590e-1;
    d1 = d1 * t1 + 6.89767334985100004550e-1;
    d1 = d1 * t1 + 1.67638483018380384940e+0;
    d1 = d1 * t1 + 2.05319162663775882187e+0;
    d1 = d1 * t1 + 1.0;
    return 1.00652203360368797e+00 + t1 * (1.20756067878050510e+00 + t1 * (m1 / d1));
}

FI_INLINE vd erfinv_tail_far(vd r)      /* r > 5 */
{
    vd t2 = r - 5.0;
    vd m2 = v_bcast_d(-2.12513332335657522e-15);
    m2 = m2 * t2 - 5.62251974802219633e-09;
    m2 = m2 * t2 - 6.89212262562721271e-07;
    m2 = m2 * t2 - 2.62252605782440651e-05;
    m2 = m2 * t2 - 4.07194884428343595e-04;
    m2 = m2 * t2 - 2.67774269241128141e-03;
    m2 = m2 * t2 - 6.14365039572968650e-03;
    vd d2 = v_bcast_d(2.04426310338993978564e-15);
    d2 = d2 * t2 + 1.42151175831644588870e-7;
    d2 = d2 * t2 + 1.84631831751005468180e-5;
    d2 = d2 * t2 + 7.86869131145613259100e-4;
    d2 = d2 * t2 + 1.48753612908506148525e-2;
    d2 = d2 * t2 + 1.36929880922735805310e-1;
    d2 = d2 * t2 + 5.99832206555887937690e-1;
    d2 = d2 * t2 + 1.0;
    return 4.70784952191303407e+00 + t2 * (1.03955959476670623e+00 + t2 * (m2 / d2));
}

/* fi_erfinv in parts, as fi_erfinvf (a kernel branches once per step). */
FI_INLINE vi64 erfinv_is_central(vd a) { return a <= 0.85; }
FI_INLINE vd erfinv_tail_r(vd a)        /* 1-|y| is exact for |y| >= 0.5 */
{
    return v_sqrt_d(-fi_log(0.5 * (1.0 - a)));
}
FI_INLINE vi64 erfinv_is_far(vd r) { return ~(r <= 5.0); }

/* Each region costs divisions, so it is evaluated only if some lane selects
 * it: a truncated normal cut at 2 std never needs r > 5 (1-|y| < 3e-11), and
 * whole vectors often stay central. */
FI_INLINE vd fi_erfinv(vd y)
{
    vd a = fi_abs_d(y);
    vi64 central = erfinv_is_central(a);
    vd x = v_any64(central) ? erfinv_central(a) : a;
    if (v_any64(~central)) {
        vd r = erfinv_tail_r(a);
        vi64 far = erfinv_is_far(r);
        vd xt = erfinv_tail_near(r);
        if (v_any64(far))
            xt = v_sel_d(far, erfinv_tail_far(r), xt);
        x = v_sel_d(central, x, xt);
    }
    return fi_sign_d(x, y);
}

#endif /* FASTINIT_FIMATH_H */
