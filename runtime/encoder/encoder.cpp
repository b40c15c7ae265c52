#include "encoder/encoder.h"

#include <algorithm>
#include <utility>

#include "kernels/matmul.h"
#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/embedding.h"

namespace terra {

EncoderOutput run_encoder(const ModelWeights& w, const ModelConfig& c, const int* tokens, int n,
                          const EncoderBuffers& b, const AttentionScratch& attn, const FeedForwardScratch& ff,
                          const ThreadPool& pool) {
  const int64_t d = c.d_model, kw = int64_t(c.n_heads) * c.key_dim(), vw = int64_t(c.n_heads) * c.value_dim();
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
    // Every key and value first (the attention is not causal), each weight matrix read once.
    for (int t = 0; t < n; ++t) {
      layer_norm(y + t * d, aw.norm.scale, aw.norm.bias, c.layernorm_eps, size_t(d), b.normed + t * d);
    }
    matmul_tokens(aw.q.w, b.normed, n, aw.q.bias, b.q, b.widened, pool);
    matmul_tokens(aw.k.w, b.normed, n, aw.k.bias, b.kv.k, b.widened, pool);
    matmul_tokens(aw.v.w, b.normed, n, aw.v.bias, b.kv.v, b.widened, pool);
    for (int t = 0; t < n; ++t) {
      attend(b.q + t * kw, b.kv, n, c.n_heads, c.key_dim(), c.value_dim(), attn.scores, b.context + t * vw);
    }
    matmul_tokens(aw.o.w, b.context, n, aw.o.bias, b.normed, b.widened, pool);
    add_inplace(x, b.normed, size_t(n) * size_t(d));
    std::swap(x, y);

    if (layer.ff.has_sru) std::fill(b.sru_state, b.sru_state + c.sru_layers * c.sru_width, 0.0f);
    if (layer.ff.sparse) {  // each position selects its own units
      for (int t = 0; t < n; ++t) {
        feed_forward_step(layer.ff, c.layernorm_eps, y + t * d, ff, b.sparse, b.sru_state, b.row, pool);
        add_inplace(x + t * d, b.row, size_t(d));
      }
    } else {
      for (int t0 = 0; t0 < n; t0 += b.chunk) {  // the hidden layer is kept for `chunk` positions
        const int m = std::min(b.chunk, n - t0);
        float* in = b.normed + t0 * d;
        float* out = b.context + t0 * d;
        for (int t = 0; t < m; ++t) {
          layer_norm(y + (t0 + t) * d, layer.ff.norm.scale, layer.ff.norm.bias, c.layernorm_eps, size_t(d), in + t * d);
        }
        matmul_tokens(layer.ff.w1.w, in, m, layer.ff.w1.bias, b.hidden, b.widened, pool);
        activate_inplace(layer.ff.activation, b.hidden, size_t(m) * size_t(c.d_ff));
        matmul_tokens(layer.ff.w2.w, b.hidden, m, layer.ff.w2.bias, out, b.widened, pool);
      }
      for (int t = 0; layer.ff.has_sru && t < n; ++t) {  // the SRU recurrence runs in input order
        sru_branch_step(layer.ff.sru, y + t * d, c.layernorm_eps, b.sru_state, ff.sru, ff.branch, pool);
        add_inplace(b.context + t * d, ff.branch, size_t(d));
      }
      add_inplace(x, b.context, size_t(n) * size_t(d));
    }
    // trax's use_two_swaps_per_encoder_block = False leaves out the swap after the FF: the next
    // attention adds to the stream the FF just added to.
    if (c.use_two_swaps_per_encoder_block) std::swap(x, y);
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
