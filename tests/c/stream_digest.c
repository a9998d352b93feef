/* Digests of fills, math and raw words through the public C API (fastinit.h),
 * one line each: test_cross_arch.py builds this for the host and for another
 * architecture and checks that every line is the same, on every SIMD path.
 * Usage: stream_digest [path]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fastinit.h"
static uint64_t fnv(const void *p, size_t n) { const unsigned char *b = p; uint64_t h = 1469598103934665603ull; for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; } return h; }
int main(int argc, char **argv) {
    if (argc > 1 && fi_simd_select(argv[1])) { fprintf(stderr, "no path %s\n", argv[1]); return 1; }
    const size_t n = 100003;
    char *buf = malloc(n * 8 + 64);
    struct { fi_kind k; double a, b, c; } cases[] = {
        {FI_UNIFORM, 0.0, 0.027, 0}, {FI_UNIFORM, 4.875, 2.375, 0}, {FI_UNIFORM, 0.0, 1e-40, 0},
        {FI_NORMAL, 0.0, 0.022, 0}, {FI_NORMAL, 1.5, 3.0, 0},
        {FI_TRUNCATED_NORMAL, 0.0, 0.022, 2.0}, {FI_TRUNCATED_NORMAL, 0.0, 1.0, 6.0}, {FI_TRUNCATED_NORMAL, -1.0, 2.0, 9.0}};
    for (int dt = 0; dt < FI_NDTYPES; dt++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            fi_dist d; fi_region r; memset(&r, 0, sizeof r);
            const unsigned size = fi_dtypes[dt].size;
            fi_dist_init(&d, 12345, 7, cases[c].k, (fi_dtype)dt, cases[c].a, cases[c].b, cases[c].c);
            r.ndim = 1; r.count[0] = n; r.logical_stride[0] = 1; r.byte_stride[0] = size;
            r.origin_index = 77; r.base = buf + 16;
            fi_fill_region(&d, &r, 0, n, 2);
            printf("fill kind %d dtype %d case %zu: %016llx\n", cases[c].k, dt, c, (unsigned long long)fnv(buf + 16, n * size));
        }
    const char *fns[] = {"log", "sin", "cos", "erfinv", "erf"};
    size_t m = 1 << 20;
    float *xf = malloc(m * 4), *yf = malloc(m * 4); double *xd = malloc(m * 8), *yd = malloc(m * 8);
    for (int f = 0; f < 5; f++) {
        for (size_t i = 0; i < m; i++) {
            double u = ((double)(i * 16 + 3) + 0.5) / (double)(m * 16);     /* in (0, 1) */
            double x = f == 0 ? u : f == 3 ? 2 * u - 1 : f == 4 ? 6 * u : 6.283185307179586 * u;
            xf[i] = (float)x; xd[i] = x;
        }
        fi_eval_math(fns[f], FI_FLOAT32, xf, yf, m); fi_eval_math(fns[f], FI_FLOAT64, xd, yd, m);
        printf("math %-6s: f32 %016llx f64 %016llx\n", fns[f], (unsigned long long)fnv(yf, m * 4), (unsigned long long)fnv(yd, m * 8));
    }
    uint32_t *raw = malloc(100001 * 4);
    fi_random_raw(~0ull, ~1ull, (1ull << 32) - 7, 3, 100001, raw, 2);
    printf("raw: %016llx\n", (unsigned long long)fnv(raw, 100001 * 4));
    return 0;
}
