#include "encoder/encoder.h"

#include <algorithm>
#include <utility>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/embedding.h"

namespace terra {

EncoderOutput run_encoder(const ModelWeights& w, const ModelConfig& c, const int* tokens, int n,
                          const EncoderBuffers& b, const AttentionScratch& attn, const FeedForwardScratch& ff,
                          const ThreadPool& pool) {
  const int64_t d = c.d_model;
  for (int t = 0; t < n; ++t) {
    float* x = b.x + t * d;
    embed_token(w.embedding, tokens[t], x);
    add_position(w.encoder_pos, c, t, x);
    std::copy(x, x + d, b.y + t * d);
  }
  float* x = b.x;  // the stream receiving the next half-residual
  float* y = b.y;
  for (const LayerWeights& layer : w.encoder) {
    const AttentionWeights& aw = layer.attention[0];
    for (int t = 0; t < n; ++t) {  // every key and value first: the attention is not causal
      layer_norm(y + t * d, aw.norm.scale, aw.norm.bias, c.layernorm_eps, size_t(d), b.row);
      matvec(aw.q.w, b.row, aw.q.bias, b.q + t * d, pool);
      matvec(aw.k.w, b.row, aw.k.bias, b.kv.k + t * d, pool);
      matvec(aw.v.w, b.row, aw.v.bias, b.kv.v + t * d, pool);
    }
    for (int t = 0; t < n; ++t) {
      attend(b.q + t * d, b.kv, n, c.d_model, c.n_heads, attn.scores, attn.context);
      matvec(aw.o.w, attn.context, aw.o.bias, b.row, pool);
      add_inplace(x + t * d, b.row, size_t(d));
    }
    std::swap(x, y);
    if (layer.ff.has_sru) std::fill(b.sru_state, b.sru_state + c.sru_layers * c.sru_width, 0.0f);
    for (int t = 0; t < n; ++t) {  // the SRU recurrence runs in input order
      feed_forward_step(layer.ff, c.layernorm_eps, y + t * d, ff, b.sparse, b.sru_state, b.row, pool);
      add_inplace(x + t * d, b.row, size_t(d));
    }
    std::swap(x, y);
  }
  if (c.reversible_encoder) return {x, y};
  // LN(Dense((a + b) / 2)), written over stream one, which then feeds both decoder streams.
  for (int t = 0; t < n; ++t) {
    float* a = x + t * d;
    const float* s = y + t * d;
    for (int64_t i = 0; i < d; ++i) attn.context[i] = (a[i] + s[i]) * 0.5f;
    matvec(w.encoder_out_dense.w, attn.context, w.encoder_out_dense.bias, b.row, pool);
    layer_norm(b.row, w.encoder_out_norm.scale, w.encoder_out_norm.bias, c.layernorm_eps, size_t(d), a);
  }
  return {x, x};
}

}  // namespace terra
