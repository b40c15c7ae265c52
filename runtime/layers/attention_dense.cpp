#include "layers/attention_dense.h"

#include "kernels/matvec.h"

namespace terra {

void dense_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                          const KVCache& cache, const AttentionScratch& s, float* out, const ThreadPool& pool) {
  const int64_t d = c.d_model;
  matvec(w.q.w, x, w.q.bias, s.q, pool);
  matvec(w.k.w, x, w.k.bias, cache.k + int64_t(pos) * d, pool);
  matvec(w.v.w, x, w.v.bias, cache.v + int64_t(pos) * d, pool);
  attend(s.q, cache, pos + 1, c.d_model, c.n_heads, s.scores, s.context);
  matvec(w.o.w, s.context, w.o.bias, out, pool);
}

}  // namespace terra
