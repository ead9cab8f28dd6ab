// Numbers shared by the AssemblyScript kernels (src/kernels/*.ts) and the TypeScript side that calls
// them (src/backend/wasm/backend.ts): one definition, imported by both. Keep to the subset both
// languages compile: `export const NAME = <integer literal>;` only (i32 in AssemblyScript, number in
// TypeScript). Check both builds after a change: `npm run build:kernels` and `npx tsc -p .`.

// ---- GEMM blocking (gemm.ts, conv.ts, winograd.ts; scratch sizes in the wasm backend) ----------
/** Rows of the register-blocked micro-kernel. */
export const MR = 4;
/** Columns of the micro-kernel: B is packed in panels of NR columns. */
export const NR = 8;
/** Depth of a packed block of matmul: a KC x NR panel of B stays in L1. */
export const KC = 256;
/** Rows of A per block: MC x KC floats stay in L2. */
export const MC = 64;
/** Columns of B packed at once by matmul. */
export const NC = 512;
/** Deepest k block of a convolution GEMM. */
export const KCMAX = 384;
/** Pixels per reduction block of the convolution filter gradient. */
export const KCP = 256;
/** Depth of a k block of the Winograd tile GEMMs. */
export const KCW = 256;
/** Inner elements per float64 accumulator chunk of the reductions (scratch: CHUNK float64). */
export const CHUNK = 512;

// ---- the parameter block ------------------------------------------------------------------
/** Byte address of the parameter block every kernel call reads (inside the pool's control area, [4 KiB, 8 KiB)). */
export const PARAMS = 4096;

// ---- codes in the parameter block ----------------------------------------------------------
export const DT_FLOAT32 = 0;
export const DT_INT32 = 1;
export const DT_UINT8 = 2;
export const DT_FLOAT64 = 3;

export const BIN_ADD = 0;
export const BIN_SUB = 1;
export const BIN_MUL = 2;
export const BIN_DIV = 3;
export const BIN_MAX = 4;
export const BIN_MIN = 5;
export const BIN_POW = 6;
export const BIN_GREATER = 7;
export const BIN_LESS = 8;
export const BIN_EQUAL = 9;

export const RED_SUM = 0;
export const RED_MAX = 1;
export const RED_MIN = 2;
export const RED_MEAN = 3;
export const RED_PROD = 4;
