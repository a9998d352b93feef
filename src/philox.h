/* Philox4x32-10 (Salmon et al., SC 2011), exactly as Random123 defines it.
 * These constants and the round function fix stream version 1: never change
 * them, not even for speed (see docs/stream.md). */
#ifndef FASTINIT_PHILOX_H
#define FASTINIT_PHILOX_H

#include <stdint.h>

#define FI_PHILOX_M0 UINT32_C(0xD2511F53)
#define FI_PHILOX_M1 UINT32_C(0xCD9E8D57)
#define FI_PHILOX_W0 UINT32_C(0x9E3779B9)
#define FI_PHILOX_W1 UINT32_C(0xBB67AE85)
#define FI_PHILOX_ROUNDS 10

static inline void fi_philox_round(uint32_t c[4], const uint32_t k[2])
{
    uint64_t p0 = (uint64_t)FI_PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)FI_PHILOX_M1 * c[2];
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0];
    uint32_t n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1];
    uint32_t n3 = (uint32_t)p0;
    c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
}

/* out = Philox4x32-10(counter, key). */
static inline void fi_philox4x32_10(const uint32_t counter[4], const uint32_t key[2],
                                    uint32_t out[4])
{
    uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
        fi_philox_round(c, k);
        k[0] += FI_PHILOX_W0;
        k[1] += FI_PHILOX_W1;
    }
    out[0] = c[0]; out[1] = c[1]; out[2] = c[2]; out[3] = c[3];
}

#endif
