#include "kernels/vector_ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace terra {

void quantize_q8(const float* x, size_t n, int8_t* q, float* scales) {
  // Written so the compiler vectorizes it (it runs once per matvec on the calling thread):
  // eight running maxima, and rounding half away from zero by a truncating conversion.
  for (size_t b = 0; b * 32 < n; ++b) {
    const size_t begin = b * 32, end = std::min(n, begin + 32);
    float m[8] = {};
    for (size_t i = begin; i < end; ++i) {
      const float a = std::fabs(x[i]);
      m[i & 7] = a > m[i & 7] ? a : m[i & 7];
    }
    float amax = 0;
    for (float v : m) amax = v > amax ? v : amax;
    scales[b] = amax / 127.0f;
    const float inv = amax > 0 ? 127.0f / amax : 0.0f;
    for (size_t i = begin; i < end; ++i) {
      const float v = x[i] * inv;  // within [-127, 127] up to rounding of inv
      float r = v + (v < 0 ? -0.5f : 0.5f);
      r = r >= -127.0f ? r : -127.0f;  // a NaN becomes -127 here, not an undefined conversion
      r = r <= 127.0f ? r : 127.0f;
      q[i] = int8_t(int32_t(r));
    }
  }
}

namespace {
std::atomic<int> g_activations{-1};  // an ActivationPath, or -1: not read from the environment yet
}  // namespace

ActivationPath activation_path() {
  int v = g_activations.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* env = std::getenv("TERRA_ACTIVATIONS");
    v = int(ActivationPath::kAuto);
    if (env && std::strcmp(env, "float") == 0) v = int(ActivationPath::kFloat);
    if (env && std::strcmp(env, "integer") == 0) v = int(ActivationPath::kInteger);
    g_activations.store(v, std::memory_order_relaxed);
  }
  return ActivationPath(v);
}

void set_activation_path(ActivationPath path) { g_activations.store(int(path), std::memory_order_relaxed); }

bool use_integer_dots(const MatrixRef& w) {
  if (row_ops(w.dtype).dot_q8 == nullptr || size_t(w.cols) > QuantizedActivation::kMaxCols) return false;
  switch (activation_path()) {
    case ActivationPath::kFloat: return false;
    case ActivationPath::kInteger: return true;
    case ActivationPath::kAuto: return w.dtype == DType::kI4;
  }
  return false;
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

float softmax_inplace(float* x, size_t n) {
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
  return mx + float(std::log(sum));
}

void relu_inplace(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0;
}

double neg_log_softmax(const float* logits, size_t n, size_t target) {
  double mx = logits[0];
  for (size_t v = 1; v < n; ++v) mx = std::max(mx, double(logits[v]));
  double sum = 0;
  for (size_t v = 0; v < n; ++v) sum += std::exp(double(logits[v]) - mx);
  return mx + std::log(sum) - double(logits[target]);
}

}  // namespace terra
