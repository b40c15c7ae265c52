// The inner loops every layer runs, as one table of function pointers per instruction set:
// portable scalar, AVX2+FMA+F16C, AVX-512, NEON. The best one this CPU supports is chosen once
// at run time (platform::cpu_features); TERRA_KERNELS=scalar|avx2|avx512|neon forces one (tests, comparisons).
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <vector>

namespace terra {

struct MatrixRef;

// One weight dtype's operations on a row, in one kernel set (kernels/row_ops.h builds them): the
// one place where a weight dtype becomes kernel calls. Reached through row_ops() (vector_ops.h).
struct RowOps {
  float (*dot)(const MatrixRef& w, int64_t row, const float* x);  // w[row] · x
  // y[0..n) += s * w[row][begin..begin+n); for int4, begin and n are multiples of 32.
  void (*axpy)(const MatrixRef& w, int64_t row, int64_t begin, int64_t n, float s, float* y);
  void (*widen)(const MatrixRef& w, int64_t row, float* out);  // out = w[row] as f32
  // int8 and int4 rows only (null otherwise): w[row] · x with x quantized per block of 32
  // (quantize_q8: xq int8, xs its block scales), by integer multiply-adds within each block.
  float (*dot_q8)(const MatrixRef& w, int64_t row, const int8_t* xq, const float* xs);
};

struct KernelSet {
  const char* name;
  float (*dot_f32)(const float* w, const float* x, size_t n);
  float (*dot_f16)(const uint16_t* w, const float* x, size_t n);
  // out[r] = w[r*stride ..] · x for r < 4: four rows share each load of x.
  void (*dot4_f32)(const float* w, size_t stride, const float* x, size_t n, float* out);
  void (*dot4_f16)(const uint16_t* w, size_t stride, const float* x, size_t n, float* out);
  // out[4*r + k] += Σ_t w[2t + r] · x[4t + k] over t < taps, for rows r < 2 and vectors k < 4 (all
  // of n floats): a small product summed over several taps in eight accumulators, with one
  // horizontal sum per output at the end, not one per tap (the multiplicative-conv taps).
  void (*dot2x4_taps)(const float* const* w, const float* const* x, int taps, size_t n, float* out);
  void (*axpy_f32)(float a, const float* w, float* y, size_t n);     // y += a * w
  void (*axpy_f16)(float a, const uint16_t* w, float* y, size_t n);  // y += a * w
  // Sum of n floats: the bandwidth probe's plain read stream (no second operand).
  float (*sum_f32)(const float* w, size_t n);
  // The compute probe's stream: `rounds` rounds of independent multiply-adds in registers (enough
  // chains to cover the FMA units' latency), no memory touched. Returns the flops done (2 per
  // multiply-add) and adds a result to *sink so nothing is optimised away.
  uint64_t (*fma_burst)(size_t rounds, float* sink);
  // Quantized rows (core/quant.h), read in place. int8: unscaled, the caller applies the row's
  // scale. int4: n is a multiple of 32 and each block's f16 scale is applied inside.
  float (*dot_i8)(const int8_t* w, const float* x, size_t n);
  float (*dot_i4)(const uint8_t* w, const uint16_t* scales, const float* x, size_t n);
  void (*axpy_i8)(float a, const int8_t* w, float* y, size_t n);                           // y += a * w
  void (*axpy_i4)(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n);  // y += a * w
  // The same rows against an activation quantized per block of 32 (xq, scales xs): each block's
  // products summed in integers, then scaled (int8: unscaled by the row's scale, as dot_i8).
  float (*dot_i8_q8)(const int8_t* w, const int8_t* xq, const float* xs, size_t n);
  float (*dot_i4_q8)(const uint8_t* w, const uint16_t* scales, const int8_t* xq, const float* xs, size_t n);
  std::array<RowOps, 4> rows;  // per DType: whole-row operations on a MatrixRef
};

const KernelSet& kernels();
// Every set this build has and this CPU runs, scalar first.
std::vector<const KernelSet*> available_kernel_sets();

// Per-ISA tables (null when not built for this architecture).
const KernelSet* scalar_kernels();
const KernelSet* avx2_kernels();
const KernelSet* avx512_kernels();
const KernelSet* neon_kernels();

}  // namespace terra
