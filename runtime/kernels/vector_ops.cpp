#include "kernels/vector_ops.h"

#include <cmath>

namespace terra {

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
