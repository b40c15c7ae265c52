// Kernels over activation vectors and single weight rows: the pieces every layer is made of.
// Dot products and row updates go through the run-time chosen KernelSet (kernel_set.h); the
// rest are short loops over activations.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_set.h"
#include "core/matrix.h"

namespace terra {

inline float dot_f32(const float* a, const float* b, size_t n) { return kernels().dot_f32(a, b, n); }

// The chosen kernel set's operations on a row of this dtype (kernel_set.h, RowOps).
inline const RowOps& row_ops(DType t) { return kernels().rows[static_cast<size_t>(t)]; }

inline float dot_row(const MatrixRef& w, int64_t row, const float* x) { return row_ops(w.dtype).dot(w, row, x); }
inline void axpy_row(const MatrixRef& w, int64_t row, int64_t begin, int64_t n, float s, float* y) {
  row_ops(w.dtype).axpy(w, row, begin, n, s, y);
}
inline void copy_row(const MatrixRef& w, int64_t row, float* out) { row_ops(w.dtype).widen(w, row, out); }
// Asks the cache for w[row][begin..begin+n) ahead of use: rows picked at run time (sparse FF) are
// scattered, so the hardware prefetchers cannot guess them. GCC/Clang builtin, a no-op elsewhere.
inline void prefetch_row(const MatrixRef& w, int64_t row, int64_t begin, int64_t n) {
  // Data plane only: a row's scales are a few bytes next to its neighbours'.
  const uint64_t first = data_plane_offset(w.dtype, uint64_t(row) * uint64_t(w.cols) + uint64_t(begin));
  const uint64_t last = data_plane_offset(w.dtype, uint64_t(row) * uint64_t(w.cols) + uint64_t(begin + n));
  const char* p = static_cast<const char*>(w.data);
  for (uint64_t off = first; off < last; off += 64) __builtin_prefetch(p + off, 0, 3);
}

// ---- integer dot products for int8 and int4 rows ----
// An activation quantized per block of 32 (scale = max|x| / 127, q = round(x / scale)), so an
// int8 or int4 row's products are summed in integers (RowOps::dot_q8). Each element's rounding
// moves a dot product by at most |w_i| * scale / 2 (tests/test_kernels.cpp checks the bound).
// Lives on the caller's stack: decoding allocates nothing. Longer rows take the float path.
struct QuantizedActivation {
  static constexpr size_t kMaxCols = 32768;
  int8_t q[kMaxCols];
  float scales[kMaxCols / 32];
};
void quantize_q8(const float* x, size_t n, int8_t* q, float* scales);
// Which int8/int4 rows take the integer path, for the whole process. kAuto (the default): int4
// rows only, the measured choice on x86 (docs/perf/quantized-kernels.md: the 800M baseline in int4
// decodes 23-26% faster this way; int8 measured 0.96-1.09x of its float path, no gain).
// TERRA_ACTIVATIONS=float|integer|auto or set_activation_path() choose another.
enum class ActivationPath { kAuto, kFloat, kInteger };
ActivationPath activation_path();
void set_activation_path(ActivationPath path);
// True when w's rows take the integer path: its dtype has dot_q8, the path above picks it, and
// rows are at most kMaxCols long.
bool use_integer_dots(const MatrixRef& w);

void add_inplace(float* x, const float* y, size_t n);  // x += y
// LayerNorm: centered (x-mean)/sqrt(var+eps)*scale+bias, or RMS-style x/sqrt(mean(x²)+eps)*scale
// when bias is null (trax's center=False).
void layer_norm(const float* x, const float* scale, const float* bias, float eps, size_t n, float* out);
// Returns the log of the normalizer, log(sum(exp(x))) (LSH attention combines rounds by it).
float softmax_inplace(float* x, size_t n);
// -log softmax(logits)[target] in double (logsumexp - logits[target]); not finite when a logit is not.
double neg_log_softmax(const float* logits, size_t n, size_t target);
void relu_inplace(float* x, size_t n);

}  // namespace terra
