#include "layers/attention_core.h"

#include <cmath>
#include <cstdint>

#include "kernels/vector_ops.h"

namespace terra {

void attend(const float* q, const KVCache& cache, int n, int heads, int dk, int dv, float* scores, float* context) {
  const int64_t kw = int64_t(heads) * dk, vw = int64_t(heads) * dv;  // row widths of the cache
  const float scale = float(1.0 / std::sqrt(double(dk)));
  for (int h = 0; h < heads; ++h) {
    const int64_t ko = int64_t(h) * dk, vo = int64_t(h) * dv;
    for (int t = 0; t < n; ++t) scores[t] = dot_f32(q + ko, cache.k + int64_t(t) * kw + ko, size_t(dk)) * scale;
    softmax_inplace(scores, size_t(n));
    float* ctx = context + vo;
    for (int64_t e = 0; e < dv; ++e) ctx[e] = 0;
    for (int t = 0; t < n; ++t) {
      const float p = scores[t];
      const float* v = cache.v + int64_t(t) * vw + vo;
      for (int64_t e = 0; e < dv; ++e) ctx[e] += p * v[e];
    }
  }
}

}  // namespace terra
