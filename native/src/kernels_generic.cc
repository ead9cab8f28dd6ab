// The kernels for one instruction set (flags in binding.gyp); see kernels.inc.
#define ISA_GENERIC 1
#define RUN_NAME run_generic
#include "kernels.inc"
