/* erf in double precision, scalar: fi_dist_init evaluates it once per fill
 * (erf(c / sqrt 2) for a truncated normal), so branches cost nothing here and
 * it is not part of the vector kernels.
 *
 *   fi_erf   fdlibm s_erf.c, with a private exp (fdlibm e_exp.c).
 *   fi_erff  (float)fi_erf((double)x).
 *
 * Measured max error: erf 0.87 ulp, erff 0.50 ulp (dense random + hard points
 * vs mpmath); the stream needs it within 4 ulp (docs/stream.md).
 * Only IEEE + - * / and bit operations: the same bits on every CPU. */
#ifndef FASTINIT_ERF_SCALAR_H
#define FASTINIT_ERF_SCALAR_H

#include <stdint.h>
#include <string.h>

static inline uint64_t fi_d2u(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double fi_u2d(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }
static inline double fi_abs(double x) { return fi_u2d(fi_d2u(x) & 0x7fffffffffffffffull); }

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


#endif
