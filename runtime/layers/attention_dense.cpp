#include "layers/attention_dense.h"

#include "kernels/matvec.h"

namespace terra {

void dense_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                          const KVCache& cache, const AttentionScratch& s, float* out, const ThreadPool& pool) {
  const int64_t kw = int64_t(c.n_heads) * c.key_dim(), vw = int64_t(c.n_heads) * c.value_dim();
  matvec(w.q.w, x, w.q.bias, s.q, pool);
  matvec(w.k.w, x, w.k.bias, cache.k + int64_t(pos) * kw, pool);
  matvec(w.v.w, x, w.v.bias, cache.v + int64_t(pos) * vw, pool);
  attend(s.q, {1, pos + 1, true, c.n_heads, c.key_dim(), c.value_dim()}, cache, s.attend, s.context, pool);
  matvec(w.o.w, s.context, w.o.bias, out, pool);
}

}  // namespace terra
