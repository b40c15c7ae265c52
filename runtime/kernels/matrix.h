// A weight matrix in place in the mapped model file: `rows` rows of `cols` contiguous elements.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace terra {

struct MatrixRef {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;

  const float* f32_row(int64_t r) const { return static_cast<const float*>(data) + r * cols; }
  const uint16_t* f16_row(int64_t r) const { return static_cast<const uint16_t*>(data) + r * cols; }
};

}  // namespace terra
