// One kernel set's operations on a weight row, per dtype (ggml's type_traits_cpu, one table per
// instruction set): built from a kernel body K (simd_body.h's SimdKernels, or scalar.cpp's), so a
// row operation is one call into code compiled for that instruction set. Templates only, for the
// reason simd_body.h gives. K provides dot<T>, axpy<T> (T = float, uint16_t f16, int8_t),
// dot_i4, axpy_i4, dot_i8_q8, dot_i4_q8, scaled<T> and scaled_i4 (a row times a scale, stored as
// f32) and widen(T) (one weight as f32).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/matrix.h"
#include "core/quant.h"
#include "kernels/kernel_set.h"

namespace terra {

template <typename K>
struct RowOpsOf {
  static size_t len(const MatrixRef& w) { return size_t(w.cols); }
  template <typename T>
  static const T* row(const MatrixRef& w, int64_t r) { return static_cast<const T*>(w.data) + r * w.cols; }

  // f32 and f16: the kernels read the row as it is.
  template <typename T>
  static float dot(const MatrixRef& w, int64_t r, const float* x) { return K::template dot<T>(row<T>(w, r), x, len(w)); }
  template <typename T>
  static void axpy(const MatrixRef& w, int64_t r, int64_t begin, int64_t n, float s, float* y) {
    K::template axpy<T>(s, row<T>(w, r) + begin, y, size_t(n));
  }
  // 1 * w is w exactly.
  template <typename T>
  static void widen(const MatrixRef& w, int64_t r, float* out) {
    K::template scaled<T>(row<T>(w, r), 1.0f, out, len(w));
  }

  // int8: the kernels are unscaled; the row's scale is applied here.
  static float dot_i8(const MatrixRef& w, int64_t r, const float* x) {
    return K::template dot<int8_t>(w.i8_row(r), x, len(w)) * w.i8_scale(r);
  }
  static void axpy_i8(const MatrixRef& w, int64_t r, int64_t begin, int64_t n, float s, float* y) {
    K::template axpy<int8_t>(s * w.i8_scale(r), w.i8_row(r) + begin, y, size_t(n));
  }
  static void widen_i8(const MatrixRef& w, int64_t r, float* out) {
    K::template scaled<int8_t>(w.i8_row(r), w.i8_scale(r), out, len(w));
  }

  // int4: each block's f16 scale is applied inside the kernels.
  static float dot_i4(const MatrixRef& w, int64_t r, const float* x) {
    return K::dot_i4(w.i4_row(r), w.i4_scales(r), x, len(w));
  }
  static void axpy_i4(const MatrixRef& w, int64_t r, int64_t begin, int64_t n, float s, float* y) {
    K::axpy_i4(s, w.i4_row(r) + begin / 2, w.i4_scales(r) + begin / kInt4Block, y, size_t(n));
  }
  static void widen_i4(const MatrixRef& w, int64_t r, float* out) {
    K::scaled_i4(w.i4_row(r), w.i4_scales(r), out, len(w));
  }

  // Against a quantized activation (int8 and int4 rows only).
  static float dot_q8_i8(const MatrixRef& w, int64_t r, const int8_t* xq, const float* xs) {
    return K::dot_i8_q8(w.i8_row(r), xq, xs, len(w)) * w.i8_scale(r);
  }
  static float dot_q8_i4(const MatrixRef& w, int64_t r, const int8_t* xq, const float* xs) {
    return K::dot_i4_q8(w.i4_row(r), w.i4_scales(r), xq, xs, len(w));
  }

  // Indexed by DType: f32, f16, int8, int4.
  static constexpr std::array<RowOps, 4> table() {
    return {{{dot<float>, axpy<float>, widen<float>, nullptr},
             {dot<uint16_t>, axpy<uint16_t>, widen<uint16_t>, nullptr},
             {dot_i8, axpy_i8, widen_i8, dot_q8_i8},
             {dot_i4, axpy_i4, widen_i4, dot_q8_i4}}};
  }
};

}  // namespace terra
