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

void add_inplace(float* x, const float* y, size_t n);  // x += y
// LayerNorm: centered (x-mean)/sqrt(var+eps)*scale+bias, or RMS-style x/sqrt(mean(x²)+eps)*scale
// when bias is null (trax's center=False).
void layer_norm(const float* x, const float* scale, const float* bias, float eps, size_t n, float* out);
void softmax_inplace(float* x, size_t n);
void relu_inplace(float* x, size_t n);

}  // namespace terra
