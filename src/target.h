/* Compiling part of a file for a wider x86 ISA, with gcc or clang alike:
 *
 *     #include <immintrin.h>      headers that only declare come first
 *     #include "kernels.h"
 *     FI_TARGET_BEGIN("avx2")
 *     ...function definitions, or #include "kernels_impl.h"...
 *     FI_TARGET_END
 *
 * Every function defined in between may use the ISA; nothing outside does, so
 * the rest of the program stays baseline and dispatch.c decides at run time
 * whether to call it. gcc reads "#pragma GCC target", which clang ignores;
 * clang reads "#pragma clang attribute push", which puts
 * __attribute__((target(...))) on each function declared up to the pop (so a
 * header that declares library functions is included before the region, or
 * its declarations would carry the target too). isa is a string literal such
 * as "avx2" or "avx512f,avx512dq". */
#ifndef FASTINIT_TARGET_H
#define FASTINIT_TARGET_H

#define FI_PRAGMA(text) _Pragma(#text)

#if defined(__clang__)
#define FI_TARGET_BEGIN(isa) \
    FI_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define FI_TARGET_END FI_PRAGMA(clang attribute pop)
#elif defined(__GNUC__)
#define FI_TARGET_BEGIN(isa) FI_PRAGMA(GCC push_options) FI_PRAGMA(GCC target(isa))
#define FI_TARGET_END FI_PRAGMA(GCC pop_options)
#else
#error "fastinit's wide kernels need gcc or clang (target attributes, vector extensions)"
#endif

#endif
