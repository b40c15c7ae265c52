#include "layers/attention_layers.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/vector_ops.h"
#include "layers/attention_multconv.h"

namespace terra {

namespace {
uint64_t key_width(const ModelConfig& c) { return uint64_t(c.n_heads) * uint64_t(c.key_dim()); }
uint64_t value_width(const ModelConfig& c) { return uint64_t(c.n_heads) * uint64_t(c.value_dim()); }
}  // namespace

void DenseAttentionLayer::plan(ArenaPlan& plan, const LayerLimits& limits) {
  const uint64_t d = uint64_t(c_.d_model), kw = key_width(c_), vw = value_width(c_);
  const uint64_t positions = uint64_t(limits.positions), block = uint64_t(limits.block);
  if (causal_) {
    plan.state(&cache_.k, positions * kw, kw);
    plan.state(&cache_.v, positions * vw, vw);
  } else {
    plan.scratch(&s_.kv.k, positions * kw);
    plan.scratch(&s_.kv.v, positions * vw);
  }
  plan.scratch(&s_.attn.q, std::max(d, kw));
  plan.scratch(&s_.attn.context, std::max(d, vw));
  plan_attend(plan, s_.attn.attend, positions, limits.block, std::max(c_.key_dim(), c_.value_dim()), limits.threads,
              s_.mm);
  plan.scratch(&s_.normed, block * d);
  plan.scratch(&s_.q, block * kw);
  plan.scratch(&s_.context, block * vw);
  plan_matmul(plan, s_.mm, kw, d, limits.threads);  // q, k
  plan_matmul(plan, s_.mm, vw, d, limits.threads);  // v
  plan_matmul(plan, s_.mm, d, vw, limits.threads);  // o
}

void DenseAttentionLayer::step(const float* x, int pos, float* out, const ThreadPool& pool) {
  if (!causal_) return tokens(x, 1, pos, out, pool);
  layer_norm(x, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(c_.d_model), s_.normed);
  dense_attention_step(w_, c_, s_.normed, pos, cache_, s_.attn, out, pool);
}

void DenseAttentionLayer::tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) {
  const int64_t d = c_.d_model, kw = int64_t(key_width(c_)), vw = int64_t(value_width(c_));
  for (int t = 0; t < n; ++t) {
    layer_norm(x + t * d, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed + t * d);
  }
  // Keys and values of the whole block first (each weight matrix read once), then each position
  // attends: causally over the cache, or (encoder) over the whole input.
  const KVCache& keys = causal_ ? cache_ : s_.kv;
  const int64_t first = causal_ ? pos0 : 0;
  matmul_tokens(w_.q.w, s_.normed, n, w_.q.bias, s_.q, s_.mm, pool);
  matmul_tokens(w_.k.w, s_.normed, n, w_.k.bias, keys.k + first * kw, s_.mm, pool);
  matmul_tokens(w_.v.w, s_.normed, n, w_.v.bias, keys.v + first * vw, s_.mm, pool);
  const AttendShape shape{n, causal_ ? pos0 + 1 : n, causal_, c_.n_heads, c_.key_dim(), c_.value_dim()};
  attend(s_.q, shape, keys, s_.attn.attend, s_.context, pool);
  matmul_tokens(w_.o.w, s_.context, n, w_.o.bias, out, s_.mm, pool);
}

void MultConvAttentionLayer::plan(ArenaPlan& plan, const LayerLimits& limits) {
  const uint64_t d = uint64_t(c_.d_model), positions = uint64_t(limits.positions);
  plan.state(&cache_.k, positions * d, d);
  plan.state(&cache_.v, positions * d, d);
  plan.state(&u_history_, uint64_t(c_.qkv_length_kernel) * d);
  plan.scratch(&s_.attn.q, std::max(d, key_width(c_)));
  plan.scratch(&s_.attn.gated, uint64_t(std::max(c_.qkv_sparsity, 1)) * d);
  plan.scratch(&s_.attn.widened, uint64_t(limits.threads) * d);
  uint64_t conv = 0;  // the convolution kernels a step widens to f32 (attention_multconv.cpp)
  for (const ConvWeights* cw : {&w_.conv_q, &w_.conv_k, &w_.conv_v}) {
    if (cw->kernel.dtype != DType::kF32) conv += uint64_t(cw->kernel.rows) * uint64_t(cw->kernel.cols);
  }
  if (conv > 0) plan.scratch(&s_.attn.conv_kernels, conv);
  if (c_.qkv_sparsity > 1) plan.scratch(&s_.attn.conv_zeros, d / uint64_t(c_.qkv_sparsity));
  plan_attend(plan, s_.attn.attend, positions, limits.block, c_.head_dim(), limits.threads, s_.mm);
  plan.scratch(&s_.normed, uint64_t(limits.block) * d);
  plan_multconv_tokens(plan, s_.multconv, w_, c_, limits.block, limits.threads, s_.mm);
  plan.scratch(&s_.q, uint64_t(s_.multconv.chunk) * d);
}

void MultConvAttentionLayer::step(const float* x, int pos, float* out, const ThreadPool& pool) {
  layer_norm(x, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(c_.d_model), s_.normed);
  multconv_attention_step(w_, c_, s_.normed, pos, cache_, u_history_, s_.attn, out, pool);
}

void MultConvAttentionLayer::tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) {
  const int64_t d = c_.d_model;
  for (int t = 0; t < n; ++t) {
    layer_norm(x + t * d, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed + t * d);
  }
  multconv_attention_tokens(w_, c_, s_.normed, n, pos0, cache_, u_history_, s_.attn, s_.multconv, s_.q, out, pool);
}

}  // namespace terra
