/* Philox4x32-10 (philox.h) on whole vectors, written once against the vector
 * API: one block in each 128-bit group of a vector, one counter word in each
 * 32-bit slot, so a 512-bit vector runs 4 blocks at once and its output words
 * come out in stream order (word 4b + k in slot k of block b's group).
 *
 * Inside the rounds a group holds (c0, c3, c2, c1) rather than (c0, c1, c2, c3):
 * the multiplicands c0, c2 sit in slots 0 and 2, where a 32x32->64 multiply
 * reads them, and c3, c1 sit in slots 1 and 3, right where the high halves of
 * M0 c0 and M1 c2 land, to be xored in place. With P = (M0 c0, M1 c2) as two
 * 64-bit products, one round is
 *
 *     Q = P ^ (0, c3 ^ k1, 0, c1 ^ k0) = (lo M0c0, hi M0c0 ^ c3 ^ k1, lo M1c2, hi M1c2 ^ c1 ^ k0)
 *       = (n3, n2, n1, n0)
 *
 * and moving Q's slots (3, 0, 1, 2) gives the next (n0, n3, n2, n1): a
 * multiply, a masked three-way xor and a shuffle (three instructions on
 * AVX-512, against four for the natural order, which needs a shift as well). */
#ifndef FASTINIT_PHILOX_LANES_H
#define FASTINIT_PHILOX_LANES_H

#include "philox.h"

#ifndef FI_VBYTES
#error "include a simd_<path>.h header before philox_lanes.h"
#endif

#define FI_VEC_BLOCKS (FI_VBYTES / 16)                /* blocks per vector */
#define FI_STEP_BLOCKS (FI_STEP_VECS * FI_VEC_BLOCKS)  /* blocks per step */

typedef struct {
    vu32 round_key[FI_PHILOX_ROUNDS];   /* (0, k1, 0, k0) of each round, every group */
    vu64 stream;                        /* (0, stream) as 64-bit lanes, every group */
    vu64 first_lanes;                   /* (~0, 0): where a group's block number goes */
    vu64 block_offset[FI_STEP_VECS];    /* (j, 0) in the j-th group of a step */
} fi_philox_lanes;

static inline void philox_lanes_init(fi_philox_lanes *p, const uint32_t key[2],
                                     const uint32_t stream[2])
{
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
        p->round_key[r] = v_u32x4(0, k1, 0, k0);
        k0 += FI_PHILOX_W0;
        k1 += FI_PHILOX_W1;
    }
    p->stream = (vu64)v_u32x4(0, 0, stream[0], stream[1]);
    p->first_lanes = (vu64)v_u32x4(~0u, ~0u, 0, 0);
    for (int v = 0; v < FI_STEP_VECS; v++)
        for (int i = 0; i < FI_LANES64; i++)
            p->block_offset[v][i] = i % 2 ? 0 : (uint64_t)(v * FI_VEC_BLOCKS + i / 2);
}

/* x[v] = the words of blocks block0 + v B, ..., block0 + v B + B - 1 (B blocks
 * per vector, v < nvecs <= FI_STEP_VECS), each block's in stream order (x0, x1, x2, x3) or, if reversed,
 * in the order the last round leaves them, (x3, x2, x1, x0): a kernel that
 * rearranges the words anyway saves a shuffle. The vectors are independent:
 * the rounds of all of them are interleaved to hide the multiply's latency. */
FI_INLINE void philox_lanes_words(const fi_philox_lanes *p, uint64_t block0,
                                  vu32 x[FI_STEP_VECS], const int reversed, const int nvecs)
{
    /* (block, stream) = (c0 | c1 << 32, c2 | c3 << 32): a 64-bit add carries
     * from c0 into c1 as the counter requires; then c1 and c3 swap places. */
    const vu64 base = (v_bcast_u64(block0) & p->first_lanes) | p->stream;
    const vu32 mul = v_u32x4(FI_PHILOX_M0, 0, FI_PHILOX_M1, 0);
    for (int v = 0; v < nvecs; v++)
        x[v] = FI_PERM4_U32((vu32)(base + p->block_offset[v]), 0, 3, 2, 1);
#pragma GCC unroll 10
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
#pragma GCC unroll 8
        for (int v = 0; v < nvecs; v++) {
            vu32 q = v_xor_odd_u32((vu32)v_mul_even_u32(x[v], mul), x[v], p->round_key[r]);
            if (r + 1 < FI_PHILOX_ROUNDS)
                x[v] = FI_PERM4_U32(q, 3, 0, 1, 2);
            else    /* q = (n3, n2, n1, n0) */
                x[v] = reversed ? q : FI_PERM4_U32(q, 3, 2, 1, 0);
        }
    }
}

#endif
