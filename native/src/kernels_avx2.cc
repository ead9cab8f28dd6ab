// The kernels for one instruction set (flags in binding.gyp); see kernels.inc.
#define ISA_AVX2 1
#define RUN_NAME run_avx2
#include "kernels.inc"
