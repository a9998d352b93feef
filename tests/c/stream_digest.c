/* The Philox known answers, then digests of fills, math and raw words through
 * the public C API (fastinit.h), one line each: test_cross_arch.py builds this
 * for the host and for another architecture and checks that every line is the
 * same, on every SIMD path. Usage: stream_digest KAT_FILE [path], KAT_FILE
 * being tests/data/philox_kat.txt; exits 1 if a known answer differs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fastinit.h"
static uint64_t fnv(const void *p, size_t n) { const unsigned char *b = p; uint64_t h = 1469598103934665603ull; for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; } return h; }
/* Checks each known answer of kat_path (Random123's kat_vectors format: "philox4x32 10",
 * counter c0..c3, key k0 k1, output x0..x3, in hex) as 4 raw words: block c0 | c1 << 32
 * of stream c2 | c3 << 32 of seed k0 | k1 << 32. Returns how many match, -1 on a
 * mismatch or an unreadable file. */
static int check_known_answers(const char *kat_path) {
    FILE *f = fopen(kat_path, "r");
    if (!f) { perror(kat_path); return -1; }
    char line[512], name[16];
    int matched = 0, rounds, failed = 0;
    unsigned c[4], k[2], x[4];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0) continue;
        if (sscanf(line, "%15s %d %x %x %x %x %x %x %x %x %x %x", name, &rounds, &c[0], &c[1], &c[2], &c[3],
                   &k[0], &k[1], &x[0], &x[1], &x[2], &x[3]) != 12 || strcmp(name, "philox4x32") || rounds != 10) {
            fprintf(stderr, "%s: not a philox4x32 10 line: %s", kat_path, line); failed = 1; continue;
        }
        uint32_t out[4];
        fi_random_raw(k[0] | (uint64_t)k[1] << 32, c[2] | (uint64_t)c[3] << 32, c[0] | (uint64_t)c[1] << 32, 0, 4, out, 1);
        if (out[0] != x[0] || out[1] != x[1] || out[2] != x[2] || out[3] != x[3]) {
            fprintf(stderr, "known answer differs: got %08x %08x %08x %08x for %s", out[0], out[1], out[2], out[3], line);
            failed = 1;
        } else matched++;
    }
    fclose(f);
    return failed ? -1 : matched;
}
int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: stream_digest KAT_FILE [path]\n"); return 2; }
    if (argc > 2 && fi_simd_select(argv[2])) { fprintf(stderr, "no path %s\n", argv[2]); return 1; }
    int matched = check_known_answers(argv[1]);
    if (matched < 1) return 1;
    printf("philox known answers: %d match\n", matched);
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
    free(buf); free(xf); free(yf); free(xd); free(yd); free(raw);
    return 0;
}
