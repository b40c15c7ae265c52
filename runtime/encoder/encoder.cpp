#include "encoder/encoder.h"

#include <algorithm>
#include <utility>

#include "kernels/matmul.h"
#include "kernels/vector_ops.h"
#include "layers/embedding.h"

namespace terra {

Encoder::Encoder(const ModelWeights& w, const ModelConfig& c, LayerScratch& s, EncoderBuffers buffers)
    : w_(w), c_(c), layers_(make_encoder_layers(w, c, s)), buffers_(buffers), mm_(s.mm) {}

void Encoder::plan(ArenaPlan& plan, int max_input, int threads) {
  const uint64_t d = uint64_t(c_.d_model), in = uint64_t(max_input);
  for (auto& layer : layers_) layer->plan(plan, LayerLimits{max_input, max_input, threads});
  for (float** slot : {buffers_.first, buffers_.second, buffers_.branch}) plan.scratch(slot, in * d);
  chunk_ = std::max(1, std::min(max_input, tokens_per_pass(mm_.engine)));
  plan.scratch(&row_, uint64_t(chunk_) * d);
  plan_matmul(plan, mm_, d, d, threads);
}

EncoderOutput Encoder::run(const int* tokens, int n, const ThreadPool& pool) {
  const int64_t d = c_.d_model;
  float* const first = *buffers_.first;
  float* const second = *buffers_.second;
  float* const out = *buffers_.branch;
  for (int t = 0; t < n; ++t) {
    float* x = first + t * d;
    embed_token(w_.embedding, tokens[t], x);
    add_position(w_.encoder_pos, c_, t, x);
    std::copy(x, x + d, second + t * d);
  }
  float* x = first;  // the stream receiving the next half-residual
  float* y = second;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->tokens(y, n, 0, out, pool);
    add_inplace(x, out, size_t(n) * size_t(d));
    // trax's use_two_swaps_per_encoder_block = False leaves out the swap after the FF (the odd
    // branches): the next attention adds to the stream the FF just added to.
    if (i % 2 == 0 || c_.use_two_swaps_per_encoder_block) std::swap(x, y);
  }
  const size_t all = size_t(n) * size_t(d);
  if (c_.reversible_encoder) {  // both streams as they are, in (first, second) order
    if (x != first) std::swap_ranges(first, first + all, second);
    return {first, second};
  }
  // LN(Dense((a + b) / 2)), which feeds both decoder streams.
  for (size_t i = 0; i < all; ++i) out[i] = (x[i] + y[i]) * 0.5f;
  for (int t0 = 0; t0 < n; t0 += chunk_) {
    const int m = std::min(chunk_, n - t0);
    matmul_tokens(w_.encoder_out_dense.w, out + t0 * d, m, w_.encoder_out_dense.bias, row_, mm_, pool);
    for (int t = 0; t < m; ++t) {
      layer_norm(row_ + t * d, w_.encoder_out_norm.scale, w_.encoder_out_norm.bias, c_.layernorm_eps, size_t(d),
                 first + (t0 + t) * d);
    }
  }
  std::copy(first, first + all, second);
  return {first, second};
}

}  // namespace terra
