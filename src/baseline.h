/* Included first by every source file that is not a wide kernel (dispatch.c,
 * fill.c, kernels_portable.c, threadpool.c): they run on any x86-64 CPU, the
 * dispatcher before it has asked the CPU what it has, so they must not be
 * compiled with AVX enabled (a -march=native or -mavx2 in CFLAGS would let the
 * compiler put AVX instructions anywhere in them). Wide code lives only in
 * kernels_avx2.c and kernels_avx512.c, behind run-time dispatch. */
#ifndef FASTINIT_BASELINE_H
#define FASTINIT_BASELINE_H

#ifdef __AVX__
#error "fastinit: compile src/ without -march=... or -mavx* flags (found __AVX__); the wide paths are chosen at run time"
#endif

#endif
