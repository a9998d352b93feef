/* The portable path: plain C vectors, whatever the compiler targets (SSE2 on
 * x86-64, NEON on arm64, scalar code elsewhere). */
#include "baseline.h"

#include "simd_portable.h"
#define FI_PATH portable
#define FI_NAME "portable"
#include "kernels_impl.h"
