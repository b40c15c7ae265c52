#include "kernels/vector_ops.h"

#include <cmath>

namespace terra {

float dot_f32(const float* a, const float* b, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
    s4 += a[i + 4] * b[i + 4];
    s5 += a[i + 5] * b[i + 5];
    s6 += a[i + 6] * b[i + 6];
    s7 += a[i + 7] * b[i + 7];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

float dot_f16(const uint16_t* w, const float* x, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += half_to_float(w[i]) * x[i];
    s1 += half_to_float(w[i + 1]) * x[i + 1];
    s2 += half_to_float(w[i + 2]) * x[i + 2];
    s3 += half_to_float(w[i + 3]) * x[i + 3];
  }
  for (; i < n; ++i) s0 += half_to_float(w[i]) * x[i];
  return (s0 + s1) + (s2 + s3);
}

void axpy_row(const MatrixRef& w, int64_t row, int64_t begin, int64_t n, float s, float* y) {
  if (w.dtype == DType::kF32) {
    const float* r = w.f32_row(row) + begin;
    for (int64_t i = 0; i < n; ++i) y[i] += s * r[i];
  } else {
    const uint16_t* r = w.f16_row(row) + begin;
    for (int64_t i = 0; i < n; ++i) y[i] += s * half_to_float(r[i]);
  }
}

void copy_row(const MatrixRef& w, int64_t row, float* out) {
  if (w.dtype == DType::kF32) {
    const float* r = w.f32_row(row);
    for (int64_t i = 0; i < w.cols; ++i) out[i] = r[i];
  } else {
    const uint16_t* r = w.f16_row(row);
    for (int64_t i = 0; i < w.cols; ++i) out[i] = half_to_float(r[i]);
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
