// How a tensor of each dtype is laid out in bytes, and the reference quantizers.
//
// A tensor is `rows` rows of `cols` elements, cols being its last dimension (a row is what one
// kernel call reads: an output unit's input weights, one sparse FF unit, one embedding).
//   f32, f16  rows x cols elements.
//   int8      a data plane of rows x cols int8 (q in [-127, 127]), then, at the next multiple of 64
//             bytes, a scale plane of rows f32: w = q * scale[row] (scale = max|w| / 127).
//   int4      cols % 32 == 0. A data plane of rows x cols/2 bytes, then, at the next multiple of 64,
//             a scale plane of rows x cols/32 f16: one scale per block of 32 weights along the row.
//             In a block's 16 bytes, byte j holds weight j in its low nibble and weight j + 16 in
//             its high nibble, each as q + 8 with q in [-8, 7]; w = q * scale (ggml's q4_0 rule:
//             scale = the block's value of largest magnitude / -8).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace terra {

constexpr int64_t kInt4Block = 32;

inline uint64_t round_up_64(uint64_t n) { return (n + 63) / 64 * 64; }

// Bytes of the data plane (and offset of the scale plane, if any).
inline uint64_t data_plane_bytes(DType t, uint64_t rows, uint64_t cols) {
  switch (t) {
    case DType::kF32: return rows * cols * 4;
    case DType::kF16: return rows * cols * 2;
    case DType::kI8: return round_up_64(rows * cols);
    case DType::kI4: return round_up_64(rows * cols / 2);
  }
  return 0;
}

// Byte offset of element i in the data plane.
inline uint64_t data_plane_offset(DType t, uint64_t i) {
  switch (t) {
    case DType::kF32: return i * 4;
    case DType::kF16: return i * 2;
    case DType::kI8: return i;
    case DType::kI4: return i / 2;
  }
  return 0;
}

inline uint64_t tensor_bytes(DType t, uint64_t rows, uint64_t cols) {
  switch (t) {
    case DType::kF32:
    case DType::kF16: return data_plane_bytes(t, rows, cols);
    case DType::kI8: return data_plane_bytes(t, rows, cols) + rows * 4;
    case DType::kI4: return data_plane_bytes(t, rows, cols) + rows * (cols / kInt4Block) * 2;
  }
  return 0;
}

// Bytes one row occupies, scales included (what reading one row costs).
inline double row_bytes(DType t, uint64_t cols) {
  switch (t) {
    case DType::kF32: return double(cols) * 4;
    case DType::kF16: return double(cols) * 2;
    case DType::kI8: return double(cols) + 4;
    case DType::kI4: return double(cols) / 2 + double(cols / kInt4Block) * 2;
  }
  return 0;
}

// Whether a row length can be stored in this dtype.
inline bool dtype_fits(DType t, int64_t cols) { return t != DType::kI4 || (cols > 0 && cols % kInt4Block == 0); }

// Reference quantizers (the converter writes with them; tests compare kernels against them).
// One int8 row: returns its scale.
inline float quantize_row_i8(const float* w, int64_t n, int8_t* q) {
  float amax = 0;
  for (int64_t i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(w[i]));
  const float scale = amax / 127.0f;
  const float inv = scale > 0 ? 1.0f / scale : 0.0f;
  for (int64_t i = 0; i < n; ++i) q[i] = int8_t(std::lrint(std::fmin(127.0f, std::fmax(-127.0f, w[i] * inv))));
  return scale;
}

// One int4 row of n (a multiple of 32): n/2 bytes and n/32 f16 scales.
inline void quantize_row_i4(const float* w, int64_t n, uint8_t* q, uint16_t* scales) {
  for (int64_t b = 0; b < n / kInt4Block; ++b) {
    const float* v = w + b * kInt4Block;
    float m = 0;
    for (int i = 0; i < kInt4Block; ++i) {
      if (std::fabs(v[i]) > std::fabs(m)) m = v[i];
    }
    const uint16_t h = float_to_half(m / -8.0f);
    scales[b] = h;
    const float d = half_to_float(h);  // quantize against the scale as stored
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    uint8_t* out = q + b * (kInt4Block / 2);
    for (int j = 0; j < 16; ++j) {
      const long lo = std::lrint(std::fmin(7.0f, std::fmax(-8.0f, v[j] * inv)));
      const long hi = std::lrint(std::fmin(7.0f, std::fmax(-8.0f, v[j + 16] * inv)));
      out[j] = uint8_t((lo + 8) | ((hi + 8) << 4));
    }
  }
}

inline float dequant_i4(const uint8_t* q, const uint16_t* scales, int64_t i) {
  const int64_t b = i / kInt4Block, j = i % kInt4Block;
  const uint8_t byte = q[b * (kInt4Block / 2) + (j & 15)];
  const int v = (j < 16 ? (byte & 15) : (byte >> 4)) - 8;
  return float(v) * half_to_float(scales[b]);
}

}  // namespace terra
