// A weight matrix in place in the mapped model file: `rows` rows of `cols` contiguous elements,
// f32, f16 or quantized (core/quant.h: a data plane, then a scale plane at `scales`).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/quant.h"

namespace terra {

struct MatrixRef {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* scales = nullptr;  // int8: f32 per row; int4: f16 per block of 32

  // Points at the planes of a tensor's bytes.
  static MatrixRef of(const void* bytes, DType dtype, int64_t rows, int64_t cols) {
    MatrixRef m{bytes, dtype, rows, cols, nullptr};
    if (dtype == DType::kI8 || dtype == DType::kI4) {
      m.scales = static_cast<const uint8_t*>(bytes) + data_plane_bytes(dtype, uint64_t(rows), uint64_t(cols));
    }
    return m;
  }

  const float* f32_row(int64_t r) const { return static_cast<const float*>(data) + r * cols; }
  const uint16_t* f16_row(int64_t r) const { return static_cast<const uint16_t*>(data) + r * cols; }
  const int8_t* i8_row(int64_t r) const { return static_cast<const int8_t*>(data) + r * cols; }
  float i8_scale(int64_t r) const { return static_cast<const float*>(scales)[r]; }
  const uint8_t* i4_row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * (cols / 2); }
  const uint16_t* i4_scales(int64_t r) const { return static_cast<const uint16_t*>(scales) + r * (cols / kInt4Block); }

  // Rows [first, first + count) as a matrix of their own (a convolution tap's rows).
  MatrixRef row_range(int64_t first, int64_t count) const {
    MatrixRef m{data, dtype, count, cols, scales};
    switch (dtype) {
      case DType::kF32: m.data = f32_row(first); break;
      case DType::kF16: m.data = f16_row(first); break;
      case DType::kI8: m.data = i8_row(first), m.scales = static_cast<const float*>(scales) + first; break;
      case DType::kI4: m.data = i4_row(first), m.scales = i4_scales(first); break;
    }
    return m;
  }
};

}  // namespace terra
