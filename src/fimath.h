/*
 * fimath.h -- portable, bit-reproducible elementary functions for fastinit.
 *
 * Why: the fill kernels are compiled several times (baseline SSE2, AVX2,
 * AVX-512) and dispatched at run time.  Calling the platform libm (or its
 * vector variants) would make the generated numbers depend on the libm
 * version and on the SIMD path.  Everything here uses only IEEE-754 + - * /,
 * correctly rounded sqrt, comparisons/selects and integer bit operations, so
 * the same source gives the same bits on every target as long as the
 * including file is compiled with -ffp-contract=off (no FMA) and without
 * -ffast-math.  The per-element functions are branch-free (both sides of
 * every range split are computed and selected) so gcc auto-vectorizes loops
 * calling them.
 *
 * Accuracy promise: < 4 ulp of the exact result over the stated ranges.
 * Measured max error: logf 0.83, sinf/cosf 1.52/1.66, erfinvf 3.08 (all
 * three exhaustive over every float in range); log 0.75, sin/cos 1.25/1.35,
 * erfinv 2.87, erf 0.87, erff 0.50 (dense random + hard points vs mpmath).
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
 *   fi_erf     fdlibm s_erf.c (scalar, may branch), with a private exp.
 *   fi_erff    (float)fi_erf((double)x).
 *
 * Ranges: fi_logf (0, 1] (stream range [2^-25, 1-2^-25]), fi_log (0, 1]
 * (stream range [2^-54, 1-2^-54]), subnormals included; both also work for
 * larger x (fi_logf x < 2^103, fi_log x < 2^969), but not for 0, negatives,
 * inf or NaN.
 * fi_sincosf/fi_sincos: t in [0, 2*pi].  fi_erfinvf/fi_erfinv: y in (-1, 1).
 */
#ifndef FASTINIT_FIMATH_H
#define FASTINIT_FIMATH_H

#include <stdint.h>
#include <string.h>

/* ---- bit casts (memcpy compiles to a register move and vectorizes) ---- */

static inline uint32_t fi_f2u(float x)    { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float    fi_u2f(uint32_t u) { float x;    memcpy(&x, &u, 4); return x; }
static inline uint64_t fi_d2u(double x)   { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double   fi_u2d(uint64_t u) { double x;   memcpy(&x, &u, 8); return x; }

/* |x| and "x with the sign bit of y" as pure bit operations */
static inline float  fi_absf(float x) { return fi_u2f(fi_f2u(x) & 0x7fffffffu); }
static inline double fi_abs(double x) { return fi_u2d(fi_d2u(x) & 0x7fffffffffffffffull); }
static inline float  fi_signf(float x, float y) { return fi_u2f(fi_f2u(x) | (fi_f2u(y) & 0x80000000u)); }
static inline double fi_sign(double x, double y) { return fi_u2d(fi_d2u(x) | (fi_d2u(y) & 0x8000000000000000ull)); }

/* Branch-free selects, done on bit masks.  A plain `c ? a : b` is not
 * enough: gcc sinks an FP expression used in only one arm into that arm,
 * then will not if-convert it back (the op "could trap" under the default
 * -ftrapping-math) unless AVX-512 masking is available, so the loop would
 * stay scalar on SSE2/AVX2. */
static inline float fi_self(int c, float a, float b)
{
    uint32_t m = (uint32_t)0 - (uint32_t)(c != 0);
    return fi_u2f((fi_f2u(a) & m) | (fi_f2u(b) & ~m));
}
/* v <= k ? a : b for v, k in [+0, inf).  For non-negative doubles the bit
 * patterns order like the values, and the mask comes from a 64-bit subtract
 * and shift: SSE2 has no 64-bit compare, so a bool -> uint64 mask would not
 * vectorize there. */
static inline double fi_sel_le(double v, double k, double a, double b)
{
    uint64_t m = ((fi_d2u(k) - fi_d2u(v)) >> 63) - 1;  /* all ones iff v <= k */
    return fi_u2d((fi_d2u(a) & m) | (fi_d2u(b) & ~m));
}

/* ======================================================================
 * log
 * ==================================================================== */

static inline float fi_logf(float x)
{
    /* Always scale by 2^24 (exact) so that subnormal inputs become normal;
     * cheaper than a select, valid for x < 2^103. */
    x = x * 0x1p24f;

    /* x = 2^e * m with m in [sqrt(1/2), sqrt(2)): bias the exponent field so
     * that it rolls over at sqrt(1/2) instead of at 1. */
    uint32_t u = fi_f2u(x) + (0x3f800000u - 0x3f3504f3u);
    int32_t e = (int32_t)(u >> 23) - (127 + 24);
    float m = fi_u2f((u & 0x007fffffu) + 0x3f3504f3u);
    float f = m - 1.0f;                 /* exact (Sterbenz) */
    float fe = (float)e;

    /* cephes logf: log(1+f) = f - f^2/2 + f^3 P(f) */
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z;
    /* ln2 = 0.693359375 (exact, 9 bits, so e*hi is exact) - 2.12194440e-4 */
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    return (f + y) + fe * 0.693359375f;
}

/* Integer exponent as a double without an int64->double conversion (which
 * has no SSE2/AVX2 instruction): put the 11-bit field into a mantissa. */
static inline double fi_exp_field(uint64_t u)
{
    return fi_u2d(0x4330000000000000ull | (u >> 52)) - 0x1p52;
}

static inline double fi_log(double x)
{
    x = x * 0x1p54;                     /* exact; subnormals -> normal (x < 2^969) */

    /* x = 2^k * m, m in [sqrt(1/2), sqrt(2)) (same trick as fi_logf). */
    uint64_t u = fi_d2u(x) + (0x3ff0000000000000ull - 0x3fe6a09e00000000ull);
    double k = fi_exp_field(u) - (1023.0 + 54.0);
    double m = fi_u2d((u & 0x000fffffffffffffull) + 0x3fe6a09e00000000ull);
    double f = m - 1.0;                 /* exact */

    /* fdlibm: log(1+f) = f - hfsq + s*(hfsq+R), s = f/(2+f) */
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    double R = t2 + t1;
    const double ln2_hi = 6.93147180369123816490e-01; /* 32 bits: k*ln2_hi exact */
    const double ln2_lo = 1.90821492927058770002e-10;
    return s * (hfsq + R) + k * ln2_lo - hfsq + f + k * ln2_hi;
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

static inline void fi_sincosf(float t, float *s, float *c)
{
    /* n = round(t * 2/pi) in {0..4} by adding 1.5*2^23: n lands in the low
     * mantissa bits of nb, which also gives the quadrant as an integer. */
    float nb = t * 0.63661977236758134f + 0x1.8p23f;
    float n = nb - 0x1.8p23f;
    uint32_t q = fi_f2u(nb);
    float r = t - n * FI_PIO2F_1;
    r = r - n * FI_PIO2F_2;
    r = r - n * FI_PIO2F_3;
    r = r - n * FI_PIO2F_4;            /* r in [-pi/4, pi/4] */

    /* cephes sinf / cosf polynomials */
    float z = r * r;
    float sp = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
    float cp = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z
               - 0.5f * z + 1.0f;

    /* quadrant q: (sin, cos) = (sp, cp), (cp, -sp), (-sp, -cp), (-cp, sp) */
    uint32_t swap = (uint32_t)0 - (q & 1);
    uint32_t ps = fi_f2u(sp), pc = fi_f2u(cp);
    uint32_t sv = (pc & swap) | (ps & ~swap);
    uint32_t cv = (ps & swap) | (pc & ~swap);
    *s = fi_u2f(sv ^ ((q & 2) << 30));
    *c = fi_u2f(cv ^ (((q + 1) & 2) << 30));
}

/* P1..P3 have 33 significant bits (P4 is the rounded remainder). */
#define FI_PIO2_1 0x1.921fb544p+0
#define FI_PIO2_2 0x1.0b4611a6p-34
#define FI_PIO2_3 0x1.3198a2ep-69
#define FI_PIO2_4 0x1.b839a252049c1p-104

static inline void fi_sincos(double t, double *s, double *c)
{
    double nb = t * 0.63661977236758134308 + 0x1.8p52;
    double n = nb - 0x1.8p52;
    uint64_t q = fi_d2u(nb);
    double r = t - n * FI_PIO2_1;
    r = r - n * FI_PIO2_2;
    r = r - n * FI_PIO2_3;
    r = r - n * FI_PIO2_4;

    double z = r * r;
    double w = z * z;
    /* fdlibm k_sin.c */
    double rs = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * 2.75573137070700676789e-06)
                + z * w * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10);
    double sp = r + z * r * (-1.66666666666666324348e-01 + z * rs);
    /* fdlibm k_cos.c; w0 + ((1-w0)-hz) recovers the rounding error of 1-hz */
    double rc = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05))
                + w * w * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
    double hz = 0.5 * z;
    double w0 = 1.0 - hz;
    double cp = w0 + (((1.0 - w0) - hz) + z * rc);

    uint64_t swap = (uint64_t)0 - (q & 1);
    uint64_t ps = fi_d2u(sp), pc = fi_d2u(cp);
    uint64_t sv = (pc & swap) | (ps & ~swap);
    uint64_t cv = (ps & swap) | (pc & ~swap);
    *s = fi_u2d(sv ^ ((q & 2) << 62));
    *c = fi_u2d(cv ^ (((q + 1) & 2) << 62));
}

/* ======================================================================
 * erfinv
 * ==================================================================== */

static inline float fi_erfinvf(float y)
{
    float a = fi_absf(y);
    /* (1-a) is exact for a >= 0.5, which keeps the tails accurate */
    float w = -fi_logf((1.0f - a) * (1.0f + a));

    /* central part, w < 5: polynomial in w - 2.5 */
    float wc = w - 2.5f;
    float pc = -8.941413832e-09f;
    pc = pc * wc + 2.326479986e-08f;
    pc = pc * wc + 4.682669612e-07f;
    pc = pc * wc + -3.463092980e-06f;
    pc = pc * wc + -4.973069736e-06f;
    pc = pc * wc + 2.183458855e-04f;
    pc = pc * wc + -1.252725255e-03f;
    pc = pc * wc + -4.177388269e-03f;
    pc = pc * wc + 2.466402799e-01f;
    pc = pc * wc + 1.501409411e+00f;

    /* tail, w >= 5: polynomial in sqrt(w) - 3 */
    float wt = __builtin_sqrtf(w) - 3.0f;
    float pt = 1.171320764e-04f;
    pt = pt * wt + -3.119622415e-04f;
    pt = pt * wt + -5.776786929e-05f;
    pt = pt * wt + 1.487985835e-03f;
    pt = pt * wt + -3.597478615e-03f;
    pt = pt * wt + 5.685857963e-03f;
    pt = pt * wt + -7.637168746e-03f;
    pt = pt * wt + 9.445427917e-03f;
    pt = pt * wt + 1.001675010e+00f;
    pt = pt * wt + 2.832976818e+00f;

    float p = fi_self(w < 5.0f, pc, pt);
    return fi_signf(p * a, y);
}

static inline double fi_erfinv(double y)
{
    double a = fi_abs(y);

    /* central region |y| <= 0.85.  PPND16 gives erfinv(y)/y = A(r)/B(r) with
     * r = 0.180625 - q^2, q = y/2.  Evaluating A/B directly costs ~6 ulp of
     * rounding, so it is rewritten exactly as c0 + q^2 M(r)/B(r) (M = (A -
     * c0 B)/(0.180625 - r), c0 = A/B at r = 0.180625): the rounding errors of
     * M/B then only touch a correction that is < 26% of the result. */
    double q = 0.5 * a;
    double q2 = q * q;
    double rc = 0.180625 - q2;
    double num = 3.74476677224566583e+03;
    num = num * rc + 1.43173944738121245e+04;
    num = num * rc + 1.36397536356514738e+04;
    num = num * rc + 5.02805368635430023e+03;
    num = num * rc + 8.33787063070113959e+02;
    num = num * rc + 6.25437517839112616e+01;
    num = num * rc + 1.72349002693056441e+00;
    double den = 5.2264952788528545610e+03;
    den = den * rc + 2.8729085735721942674e+04;
    den = den * rc + 3.9307895800092710610e+04;
    den = den * rc + 2.1213794301586595867e+04;
    den = den * rc + 5.3941960214247511077e+03;
    den = den * rc + 6.8718700749205790830e+02;
    den = den * rc + 4.2313330701600911252e+01;
    den = den * rc + 1.0;
    /* c0 = 8.86226925452758052e-01 + 2.75128565739939556e-17 (~sqrt(pi)/2) */
    double xc = a * 8.86226925452758052e-01 + (a * 2.75128565739939556e-17 + (a * q2) * (num / den));

    /* tails: r = sqrt(-log((1-|y|)/2)); 1-|y| is exact for |y| >= 0.5 */
    double r = __builtin_sqrt(-fi_log(0.5 * (1.0 - a)));

    /* The PPND16 tail rationals C/D are rewritten exactly as
     * l0 + l1 t + t^2 M(t)/D(t) (polynomial division), again so that the
     * rounding errors of the rational only touch a small correction. */
    double t1 = r - 1.6;                /* 1.6 < r <= 5 */
    double m1 = -1.26884446974359634e-09;
    m1 = m1 * t1 - 1.13567776760352225e-04;
    m1 = m1 * t1 - 2.83629245929480599e-03;
    m1 = m1 * t1 - 2.31775407493590227e-02;
    m1 = m1 * t1 - 8.36561812503268942e-02;
    m1 = m1 * t1 - 1.39184136976645750e-01;
    m1 = m1 * t1 - 8.70211333763176442e-02;
    double d1 = 1.05075007164441684324e-9;
    d1 = d1 * t1 + 5.47593808499534494600e-4;
    d1 = d1 * t1 + 1.51986665636164571966e-2;
    d1 = d1 * t1 + 1.48103976427480074590e-1;
    d1 = d1 * t1 + 6.89767334985100004550e-1;
    d1 = d1 * t1 + 1.67638483018380384940e+0;
    d1 = d1 * t1 + 2.05319162663775882187e+0;
    d1 = d1 * t1 + 1.0;
    double x1 = 1.00652203360368797e+00 + t1 * (1.20756067878050510e+00 + t1 * (m1 / d1));

    double t2 = r - 5.0;                /* r > 5 */
    double m2 = -2.12513332335657522e-15;
    m2 = m2 * t2 - 5.62251974802219633e-09;
    m2 = m2 * t2 - 6.89212262562721271e-07;
    m2 = m2 * t2 - 2.62252605782440651e-05;
    m2 = m2 * t2 - 4.07194884428343595e-04;
    m2 = m2 * t2 - 2.67774269241128141e-03;
    m2 = m2 * t2 - 6.14365039572968650e-03;
    double d2 = 2.04426310338993978564e-15;
    d2 = d2 * t2 + 1.42151175831644588870e-7;
    d2 = d2 * t2 + 1.84631831751005468180e-5;
    d2 = d2 * t2 + 7.86869131145613259100e-4;
    d2 = d2 * t2 + 1.48753612908506148525e-2;
    d2 = d2 * t2 + 1.36929880922735805310e-1;
    d2 = d2 * t2 + 5.99832206555887937690e-1;
    d2 = d2 * t2 + 1.0;
    double x2 = 4.70784952191303407e+00 + t2 * (1.03955959476670623e+00 + t2 * (m2 / d2));

    double xt = fi_sel_le(r, 5.0, x1, x2);
    double x = fi_sel_le(a, 0.85, xc, xt);
    return fi_sign(x, y);
}

/* ======================================================================
 * erf (scalar helpers: called once per fill, so branches are fine)
 * ==================================================================== */

/* exp(x) for |x| < 700 (fdlibm e_exp.c method and coefficients). */
static inline double fi_exp_scalar(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    double kd = (x * 1.44269504088896338700e+00 + 0x1.8p52) - 0x1.8p52;
    double hi = x - kd * ln2_hi;        /* exact for |k| < 2^20 */
    double lo = kd * ln2_lo;
    double r = hi - lo;
    double z = r * r;
    double c = r - z * (1.66666666666666019037e-01 + z * (-2.77777777770155933842e-03
               + z * (6.61375632143793436117e-05 + z * (-1.65339022054652515390e-06
               + z * 4.13813679705723846039e-08))));
    double e = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    /* scale by 2^k in two steps so that k down to -1074 stays valid */
    int k = (int)kd;
    int k1 = k / 2, k2 = k - k1;
    return e * fi_u2d((uint64_t)(1023 + k1) << 52) * fi_u2d((uint64_t)(1023 + k2) << 52);
}

static inline double fi_erf(double x)
{
    /* fdlibm s_erf.c */
    const double erx = 8.45062911510467529297e-01;
    double ax = fi_abs(x);
    double res;
    if (!(ax == ax)) return x;          /* NaN */
    if (ax < 0.84375) {
        if (ax < 0x1p-28) return x + 1.28379167095512586316e-01 * x;
        double z = x * x;
        double r = 1.28379167095512558561e-01 + z * (-3.25042107247001499370e-01 + z * (-2.84817495755985104766e-02
                   + z * (-5.77027029648944159157e-03 + z * -2.37630166566501626084e-05)));
        double s = 1.0 + z * (3.97917223959155352819e-01 + z * (6.50222499887672944485e-02
                   + z * (5.08130628187576562776e-03 + z * (1.32494738004321644526e-04 + z * -3.96022827877536812320e-06))));
        return x + x * (r / s);
    }
    if (ax < 1.25) {
        double s = ax - 1.0;
        double P = -2.36211856075265944077e-03 + s * (4.14856118683748331666e-01 + s * (-3.72207876035701323847e-01
                   + s * (3.18346619901161753674e-01 + s * (-1.10894694282396677476e-01 + s * (3.54783043256182359371e-02
                   + s * -2.16637559486879084300e-03)))));
        double Q = 1.0 + s * (1.06420880400844228286e-01 + s * (5.40397917702171048937e-01 + s * (7.18286544141962662868e-02
                   + s * (1.26171219808761642112e-01 + s * (1.36370839120290507362e-02 + s * 1.19844998467991074170e-02)))));
        res = erx + P / Q;
    } else if (ax >= 6.0) {
        res = 1.0;
    } else {
        double s = 1.0 / (ax * ax);
        double R, S;
        if (ax < 1.0 / 0.35) {
            R = -9.86494403484714822705e-03 + s * (-6.93858572707181764372e-01 + s * (-1.05586262253232909814e+01
                + s * (-6.23753324503260060396e+01 + s * (-1.62396669462573470355e+02 + s * (-1.84605092906711035994e+02
                + s * (-8.12874355063065934246e+01 + s * -9.81432934416914548592e+00))))));
            S = 1.0 + s * (1.96512716674392571292e+01 + s * (1.37657754143519042600e+02 + s * (4.34565877475229228821e+02
                + s * (6.45387271733267880336e+02 + s * (4.29008140027567833386e+02 + s * (1.08635005541779435134e+02
                + s * (6.57024977031928170135e+00 + s * -6.04244152148580987438e-02)))))));
        } else {
            R = -9.86494292470009928597e-03 + s * (-7.99283237680523006574e-01 + s * (-1.77579549177547519889e+01
                + s * (-1.60636384855821916062e+02 + s * (-6.37566443368389627722e+02 + s * (-1.02509513161107724954e+03
                + s * -4.83519191608651397019e+02)))));
            S = 1.0 + s * (3.03380607434824582924e+01 + s * (3.25792512996573918826e+02 + s * (1.53672958608443695994e+03
                + s * (3.19985821950859553908e+03 + s * (2.55305040643316442583e+03 + s * (4.74528541206955367215e+02
                + s * -2.24409524465858183362e+01))))));
        }
        /* exp(-x^2) = exp(-z^2) exp((z-x)(z+x)) with z = x truncated to 32 bits,
         * so that -z*z is exact */
        double z = fi_u2d(fi_d2u(ax) & 0xffffffff00000000ull);
        double r = fi_exp_scalar(-z * z - 0.5625) * fi_exp_scalar((z - ax) * (z + ax) + R / S);
        res = 1.0 - r / ax;
    }
    return x < 0.0 ? -res : res;
}

static inline float fi_erff(float x)
{
    return (float)fi_erf((double)x);
}

#endif /* FASTINIT_FIMATH_H */
