#include "encoder/encoder.h"

#include <algorithm>
#include <utility>

#include "kernels/matmul.h"
#include "kernels/vector_ops.h"
#include "layers/embedding.h"

namespace terra {

Encoder::Encoder(const ModelWeights& w, const ModelConfig& c, LayerScratch& s)
    : w_(w), c_(c), layers_(make_encoder_layers(w, c, s)), mm_(s.mm) {}

void Encoder::plan(ArenaPlan& plan, int max_input, int threads) {
  const uint64_t d = uint64_t(c_.d_model), in = uint64_t(max_input);
  for (auto& layer : layers_) layer->plan(plan, LayerLimits{max_input, max_input, threads});
  plan.scratch(&x_, in * d);
  plan.scratch(&y_, in * d);
  plan.scratch(&out_, in * d);
  chunk_ = std::max(1, std::min(max_input, tokens_per_pass(mm_.engine)));
  plan.scratch(&row_, uint64_t(chunk_) * d);
  plan_matmul(plan, mm_, d, d, threads);
}

EncoderOutput Encoder::run(const int* tokens, int n, const ThreadPool& pool) {
  const int64_t d = c_.d_model;
  for (int t = 0; t < n; ++t) {
    float* x = x_ + t * d;
    embed_token(w_.embedding, tokens[t], x);
    add_position(w_.encoder_pos, c_, t, x);
    std::copy(x, x + d, y_ + t * d);
  }
  float* x = x_;  // the stream receiving the next half-residual
  float* y = y_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->tokens(y, n, 0, out_, pool);
    add_inplace(x, out_, size_t(n) * size_t(d));
    // trax's use_two_swaps_per_encoder_block = False leaves out the swap after the FF (the odd
    // branches): the next attention adds to the stream the FF just added to.
    if (i % 2 == 0 || c_.use_two_swaps_per_encoder_block) std::swap(x, y);
  }
  if (c_.reversible_encoder) return {x, y};
  // LN(Dense((a + b) / 2)), written over stream one, which then feeds both decoder streams.
  for (int64_t i = 0; i < int64_t(n) * d; ++i) out_[i] = (x[i] + y[i]) * 0.5f;
  for (int t0 = 0; t0 < n; t0 += chunk_) {
    const int m = std::min(chunk_, n - t0);
    matmul_tokens(w_.encoder_out_dense.w, out_ + t0 * d, m, w_.encoder_out_dense.bias, row_, mm_, pool);
    for (int t = 0; t < m; ++t) {
      layer_norm(row_ + t * d, w_.encoder_out_norm.scale, w_.encoder_out_norm.bias, c_.layernorm_eps, size_t(d),
                 x + (t0 + t) * d);
    }
  }
  return {x, x};
}

}  // namespace terra
