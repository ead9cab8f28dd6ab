// Shared between the Node-API glue (addon.cc) and the per-instruction-set kernel units
// (kernels_avx512.cc, kernels_avx2.cc, kernels_generic.cc, each compiling kernels.inc).
#pragma once
#include <cstdint>
#include <cstddef>
#include <functional>
#include "params.h"

namespace cn {

// Runs fn(0..parts-1) on the thread pool (the calling thread takes parts too) and returns when all
// are done. A part's work depends only on its index, never on the thread that runs it.
void parallel(int parts, const std::function<void(int)>& fn);
// Threads the pool computes with (1 = the calling thread only).
int threads();
// 64-byte aligned scratch, kept and grown as needed: slot 0..63 one per part, 64.. shared ones
// used by the calling thread outside parallel regions.
float* scratch(int slot, size_t floats);
constexpr int SHARED_SLOT = 64;

// Kernel ids (K_*) and parameter-block slots (slot::Conv::BATCH, ...) are in params.h, generated from
// src/kernels/params.ts: the TypeScript side (src/backend/native/backend.ts) writes the parameter
// block (doubles) by the same names and calls run(id). Byte offsets into the heap are doubles; -1 means null.

using RunFn = int (*)(int id, const double* params, uint8_t* base);

int run_avx512(int id, const double* params, uint8_t* base);
int run_avx2(int id, const double* params, uint8_t* base);
int run_generic(int id, const double* params, uint8_t* base);

}  // namespace cn
