// The portable reference path: plain loops with several accumulators. Every SIMD set is tested
// against it.
#include "core/dtype.h"
#include "kernels/kernel_set.h"

namespace terra {

namespace {

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

void dot4_f32(const float* w, size_t stride, const float* x, size_t n, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = dot_f32(w + r * stride, x, n);
}

void dot4_f16(const uint16_t* w, size_t stride, const float* x, size_t n, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = dot_f16(w + r * stride, x, n);
}

void axpy_f32(float a, const float* w, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * w[i];
}

void axpy_f16(float a, const uint16_t* w, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * half_to_float(w[i]);
}

float sum_f32(const float* w, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += w[i];
    s1 += w[i + 1];
    s2 += w[i + 2];
    s3 += w[i + 3];
  }
  for (; i < n; ++i) s0 += w[i];
  return (s0 + s1) + (s2 + s3);
}

float dot_i8(const int8_t* w, const float* x, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += float(w[i]) * x[i];
    s1 += float(w[i + 1]) * x[i + 1];
    s2 += float(w[i + 2]) * x[i + 2];
    s3 += float(w[i + 3]) * x[i + 3];
  }
  for (; i < n; ++i) s0 += float(w[i]) * x[i];
  return (s0 + s1) + (s2 + s3);
}

float dot_i4(const uint8_t* w, const uint16_t* scales, const float* x, size_t n) {
  float s = 0;
  for (size_t b = 0; b < n / 32; ++b, w += 16, x += 32) {
    float lo = 0, hi = 0;
    for (int j = 0; j < 16; ++j) {
      lo += float((w[j] & 15) - 8) * x[j];
      hi += float((w[j] >> 4) - 8) * x[j + 16];
    }
    s += (lo + hi) * half_to_float(scales[b]);
  }
  return s;
}

void axpy_i8(float a, const int8_t* w, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * float(w[i]);
}

void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
  for (size_t b = 0; b < n / 32; ++b, w += 16, y += 32) {
    const float s = a * half_to_float(scales[b]);
    for (int j = 0; j < 16; ++j) {
      y[j] += s * float((w[j] & 15) - 8);
      y[j + 16] += s * float((w[j] >> 4) - 8);
    }
  }
}

const KernelSet kScalar{"scalar", dot_f32, dot_f16, dot4_f32, dot4_f16, axpy_f32, axpy_f16, sum_f32, dot_i8, dot_i4, axpy_i8, axpy_i4};

}  // namespace

const KernelSet* scalar_kernels() { return &kScalar; }

}  // namespace terra
