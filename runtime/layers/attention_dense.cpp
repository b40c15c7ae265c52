#include "layers/attention_dense.h"

#include <cmath>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"

namespace terra {

void dense_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                          const KVCache& cache, const AttentionScratch& s, float* out, const ThreadPool& pool) {
  const int64_t d = c.d_model, dh = c.head_dim();
  float* k_row = cache.k + int64_t(pos) * d;
  float* v_row = cache.v + int64_t(pos) * d;
  matvec(w.q.w, x, w.q.bias, s.q, pool);
  matvec(w.k.w, x, w.k.bias, k_row, pool);
  matvec(w.v.w, x, w.v.bias, v_row, pool);

  const float scale = float(1.0 / std::sqrt(double(dh)));
  for (int h = 0; h < c.n_heads; ++h) {
    const int64_t off = h * dh;
    for (int t = 0; t <= pos; ++t) {
      s.scores[t] = dot_f32(s.q + off, cache.k + int64_t(t) * d + off, size_t(dh)) * scale;
    }
    softmax_inplace(s.scores, size_t(pos) + 1);
    float* ctx = s.context + off;
    for (int64_t e = 0; e < dh; ++e) ctx[e] = 0;
    for (int t = 0; t <= pos; ++t) {
      const float p = s.scores[t];
      const float* v = cache.v + int64_t(t) * d + off;
      for (int64_t e = 0; e < dh; ++e) ctx[e] += p * v[e];
    }
  }
  matvec(w.o.w, s.context, w.o.bias, out, pool);
}

}  // namespace terra
