#include "layers/attention_core.h"

#include <cmath>
#include <cstdint>

#include "kernels/vector_ops.h"

namespace terra {

void attend(const float* q, const KVCache& cache, int n, int d, int heads, float* scores, float* context) {
  const int64_t dh = d / heads;
  const float scale = float(1.0 / std::sqrt(double(dh)));
  for (int h = 0; h < heads; ++h) {
    const int64_t off = h * dh;
    for (int t = 0; t < n; ++t) scores[t] = dot_f32(q + off, cache.k + int64_t(t) * d + off, size_t(dh)) * scale;
    softmax_inplace(scores, size_t(n));
    float* ctx = context + off;
    for (int64_t e = 0; e < dh; ++e) ctx[e] = 0;
    for (int t = 0; t < n; ++t) {
      const float p = scores[t];
      const float* v = cache.v + int64_t(t) * d + off;
      for (int64_t e = 0; e < dh; ++e) ctx[e] += p * v[e];
    }
  }
}

}  // namespace terra
