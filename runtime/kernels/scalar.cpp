// The portable reference path: plain loops with several accumulators. Every SIMD set is tested
// against it.
#include "core/dtype.h"
#include "kernels/kernel_set.h"
#include "kernels/row_ops.h"

#include <type_traits>

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

inline float widen(float w) { return w; }
inline float widen(int8_t w) { return float(w); }
inline float widen(uint16_t h) { return half_to_float(h); }

// f16 and int8 rows: four accumulators.
template <typename T>
float dot(const T* w, const float* x, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += widen(w[i]) * x[i];
    s1 += widen(w[i + 1]) * x[i + 1];
    s2 += widen(w[i + 2]) * x[i + 2];
    s3 += widen(w[i + 3]) * x[i + 3];
  }
  for (; i < n; ++i) s0 += widen(w[i]) * x[i];
  return (s0 + s1) + (s2 + s3);
}

uint64_t fma_burst(size_t rounds, float* sink) {
  constexpr int kChains = 8;
  float a[kChains];
  for (int k = 0; k < kChains; ++k) a[k] = 1.0f + float(k) * 1e-3f;
  for (size_t r = 0; r < rounds; ++r) {
    for (float& v : a) v = v * 0.999999f + 1e-6f;
  }
  float t = 0;
  for (float v : a) t += v;
  *sink += t;
  return uint64_t(rounds) * kChains * 2;
}

template <typename T, float (*Dot)(const T*, const float*, size_t)>
void dot4(const T* w, size_t stride, const float* x, size_t n, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = Dot(w + r * stride, x, n);
}

void dot2x4_taps(const float* const* w, const float* const* x, int taps, size_t n, float* out) {
  for (int t = 0; t < taps; ++t) {
    for (int k = 0; k < 4; ++k) {
      out[k] += dot_f32(w[2 * t], x[4 * t + k], n);
      out[4 + k] += dot_f32(w[2 * t + 1], x[4 * t + k], n);
    }
  }
}

template <typename T>
void axpy(float a, const T* w, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * widen(w[i]);
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

void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
  for (size_t b = 0; b < n / 32; ++b, w += 16, y += 32) {
    const float s = a * half_to_float(scales[b]);
    for (int j = 0; j < 16; ++j) {
      y[j] += s * float((w[j] & 15) - 8);
      y[j + 16] += s * float((w[j] >> 4) - 8);
    }
  }
}

template <typename T>
void scaled(const T* w, float s, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = s * widen(w[i]);
}

void scaled_i4(const uint8_t* w, const uint16_t* scales, float* out, size_t n) {
  for (size_t b = 0; b < n / 32; ++b, w += 16, out += 32) {
    const float s = half_to_float(scales[b]);
    for (int j = 0; j < 16; ++j) {
      out[j] = s * float((w[j] & 15) - 8);
      out[j + 16] = s * float((w[j] >> 4) - 8);
    }
  }
}

float dot_i8_q8(const int8_t* w, const int8_t* xq, const float* xs, size_t n) {
  float s = 0;
  for (size_t b = 0; b * 32 < n; ++b) {
    int32_t t = 0;
    for (size_t i = b * 32; i < n && i < (b + 1) * 32; ++i) t += int32_t(w[i]) * int32_t(xq[i]);
    s += float(t) * xs[b];
  }
  return s;
}

float dot_i4_q8(const uint8_t* w, const uint16_t* scales, const int8_t* xq, const float* xs, size_t n) {
  float s = 0;
  for (size_t b = 0; b < n / 32; ++b, w += 16, xq += 32) {
    int32_t t = 0;
    for (int j = 0; j < 16; ++j) t += ((w[j] & 15) - 8) * int32_t(xq[j]) + ((w[j] >> 4) - 8) * int32_t(xq[j + 16]);
    s += float(t) * (half_to_float(scales[b]) * xs[b]);
  }
  return s;
}

// The body RowOpsOf builds the scalar set's row operations from.
struct ScalarBody {
  template <typename T>
  static float dot(const T* w, const float* x, size_t n) {
    if constexpr (std::is_same_v<T, float>) {
      return dot_f32(w, x, n);
    } else {
      return terra::dot<T>(w, x, n);
    }
  }
  template <typename T>
  static void axpy(float a, const T* w, float* y, size_t n) {
    terra::axpy<T>(a, w, y, n);
  }
  static float dot_i4(const uint8_t* w, const uint16_t* scales, const float* x, size_t n) {
    return terra::dot_i4(w, scales, x, n);
  }
  static void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
    terra::axpy_i4(a, w, scales, y, n);
  }
  static float dot_i8_q8(const int8_t* w, const int8_t* xq, const float* xs, size_t n) {
    return terra::dot_i8_q8(w, xq, xs, n);
  }
  template <typename T>
  static void scaled(const T* w, float s, float* out, size_t n) {
    terra::scaled<T>(w, s, out, n);
  }
  static void scaled_i4(const uint8_t* w, const uint16_t* scales, float* out, size_t n) {
    terra::scaled_i4(w, scales, out, n);
  }
  static float dot_i4_q8(const uint8_t* w, const uint16_t* scales, const int8_t* xq, const float* xs, size_t n) {
    return terra::dot_i4_q8(w, scales, xq, xs, n);
  }
  template <typename T>
  static float widen(T v) { return terra::widen(v); }
};

const KernelSet kScalar{"scalar",         dot_f32,     dot<uint16_t>, dot4<float, dot_f32>, dot4<uint16_t, dot<uint16_t>>,
                        dot2x4_taps,
                        axpy<float>,      axpy<uint16_t>, sum_f32,    fma_burst,  dot<int8_t>,           dot_i4,
                        axpy<int8_t>,     axpy_i4,        dot_i8_q8,  dot_i4_q8,  RowOpsOf<ScalarBody>::table()};

}  // namespace

const KernelSet* scalar_kernels() { return &kScalar; }

}  // namespace terra
