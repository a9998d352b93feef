/* The portable path: baseline x86-64 (SSE2) or whatever the compiler targets. */
#define FI_PATH portable
#define FI_NAME "portable"
#include "kernels_impl.h"
