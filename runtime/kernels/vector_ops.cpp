#include "kernels/vector_ops.h"

#include <cmath>

namespace terra {

namespace {

size_t len(const MatrixRef& w) { return size_t(w.cols); }

inline float widen(float v) { return v; }
inline float widen(uint16_t h) { return half_to_float(h); }
template <typename T>
const T* row(const MatrixRef& w, int64_t r) { return static_cast<const T*>(w.data) + r * w.cols; }

// f32 and f16 rows: the same operations, through the kernel set's entries for T.
template <typename T, auto Dot, auto Dot4, auto Axpy>
constexpr RowOps float_row_ops() {
  return {[](const MatrixRef& w, int64_t r, const float* x) { return (kernels().*Dot)(row<T>(w, r), x, len(w)); },
          [](const MatrixRef& w, int64_t r, int64_t count, const float* x, float* out) {
            const KernelSet& k = kernels();
            const size_t n = len(w);
            int64_t i = 0;
            for (; i + 4 <= count; i += 4) {
              float four[4];
              (k.*Dot4)(row<T>(w, r + i), n, x, n, four);
              for (int j = 0; j < 4; ++j) out[i + j] += four[j];
            }
            for (; i < count; ++i) out[i] += (k.*Dot)(row<T>(w, r + i), x, n);
          },
          [](const MatrixRef& w, int64_t r, int64_t begin, int64_t n, float s, float* y) {
            (kernels().*Axpy)(s, row<T>(w, r) + begin, y, size_t(n));
          },
          [](const MatrixRef& w, int64_t r, float* out) {
            const T* v = row<T>(w, r);
            for (size_t i = 0; i < len(w); ++i) out[i] = widen(v[i]);
          }};
}
constexpr RowOps kF32Ops = float_row_ops<float, &KernelSet::dot_f32, &KernelSet::dot4_f32, &KernelSet::axpy_f32>();
constexpr RowOps kF16Ops = float_row_ops<uint16_t, &KernelSet::dot_f16, &KernelSet::dot4_f16, &KernelSet::axpy_f16>();

// The quantized kernels have no four-row product: single rows.
template <float (*Dot)(const MatrixRef&, int64_t, const float*)>
void add_dots_by_rows(const MatrixRef& w, int64_t r, int64_t count, const float* x, float* out) {
  for (int64_t i = 0; i < count; ++i) out[i] += Dot(w, r + i, x);
}

// int8: the kernels are unscaled; the row's scale is applied here.
float dot_i8(const MatrixRef& w, int64_t r, const float* x) {
  return kernels().dot_i8(w.i8_row(r), x, len(w)) * w.i8_scale(r);
}
const RowOps kI8Ops{
    dot_i8, add_dots_by_rows<dot_i8>,
    [](const MatrixRef& w, int64_t r, int64_t begin, int64_t n, float s, float* y) {
      kernels().axpy_i8(s * w.i8_scale(r), w.i8_row(r) + begin, y, size_t(n));
    },
    [](const MatrixRef& w, int64_t r, float* out) {
      const int8_t* row = w.i8_row(r);
      const float scale = w.i8_scale(r);
      for (size_t i = 0; i < len(w); ++i) out[i] = float(row[i]) * scale;
    }};

// int4: each block's f16 scale is applied inside the kernels.
float dot_i4(const MatrixRef& w, int64_t r, const float* x) {
  return kernels().dot_i4(w.i4_row(r), w.i4_scales(r), x, len(w));
}
void axpy_i4(const MatrixRef& w, int64_t r, int64_t begin, int64_t n, float s, float* y) {
  kernels().axpy_i4(s, w.i4_row(r) + begin / 2, w.i4_scales(r) + begin / kInt4Block, y, size_t(n));
}
const RowOps kI4Ops{dot_i4, add_dots_by_rows<dot_i4>, axpy_i4, [](const MatrixRef& w, int64_t r, float* out) {
                      for (size_t i = 0; i < len(w); ++i) out[i] = 0.0f;
                      axpy_i4(w, r, 0, w.cols, 1.0f, out);
                    }};

}  // namespace

const RowOps kRowOps[4] = {kF32Ops, kF16Ops, kI8Ops, kI4Ops};  // DType order: f32, f16, int8, int4

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
