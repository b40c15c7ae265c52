#include "kernels/vector_ops.h"

#include <cmath>

namespace terra {

void axpy_row(const MatrixRef& w, int64_t row, int64_t begin, int64_t n, float s, float* y) {
  const KernelSet& k = kernels();
  switch (w.dtype) {
    case DType::kF32: k.axpy_f32(s, w.f32_row(row) + begin, y, size_t(n)); break;
    case DType::kF16: k.axpy_f16(s, w.f16_row(row) + begin, y, size_t(n)); break;
    case DType::kI8: k.axpy_i8(s * w.i8_scale(row), w.i8_row(row) + begin, y, size_t(n)); break;
    case DType::kI4:
      k.axpy_i4(s, w.i4_row(row) + begin / 2, w.i4_scales(row) + begin / kInt4Block, y, size_t(n));
      break;
  }
}

void copy_row(const MatrixRef& w, int64_t row, float* out) {
  const int64_t n = w.cols;
  switch (w.dtype) {
    case DType::kF32: {
      const float* r = w.f32_row(row);
      for (int64_t i = 0; i < n; ++i) out[i] = r[i];
      break;
    }
    case DType::kF16: {
      const uint16_t* r = w.f16_row(row);
      for (int64_t i = 0; i < n; ++i) out[i] = half_to_float(r[i]);
      break;
    }
    case DType::kI8: {
      const int8_t* r = w.i8_row(row);
      const float scale = w.i8_scale(row);
      for (int64_t i = 0; i < n; ++i) out[i] = float(r[i]) * scale;
      break;
    }
    case DType::kI4: {
      for (int64_t i = 0; i < n; ++i) out[i] = 0.0f;
      kernels().axpy_i4(1.0f, w.i4_row(row), w.i4_scales(row), out, size_t(n));
      break;
    }
  }
}

void add_inplace(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

void layer_norm(const float* x, const float* scale, const float* bias, float eps, size_t n, float* out) {
  // Two passes in double: the statistics of a few thousand floats, cheap next to any matvec.
  double mean = 0;
  if (bias != nullptr) {
    for (size_t i = 0; i < n; ++i) mean += x[i];
    mean /= double(n);
  }
  double var = 0;
  for (size_t i = 0; i < n; ++i) {
    const double c = x[i] - mean;
    var += c * c;
  }
  var /= double(n);
  const float inv = float(1.0 / std::sqrt(var + double(eps)));
  const float m = float(mean);
  if (bias != nullptr) {
    for (size_t i = 0; i < n; ++i) out[i] = (x[i] - m) * inv * scale[i] + bias[i];
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = x[i] * inv * scale[i];
  }
}

void softmax_inplace(float* x, size_t n) {
  float mx = x[0];
  for (size_t i = 1; i < n; ++i) {
    if (x[i] > mx) mx = x[i];
  }
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

void relu_inplace(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0;
}

}  // namespace terra
