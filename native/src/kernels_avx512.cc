// The kernels for one instruction set (flags in binding.gyp); see kernels.inc.
#define ISA_AVX512 1
#define RUN_NAME run_avx512
#include "kernels.inc"
