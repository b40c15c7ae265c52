// The attention branches as layers (layers/layer.h): LN, then dense attention (trax
// CausalAttention in the decoder, full Attention in the encoder) or multiplicative-conv attention
// (the decoder's sparse QKV).
#pragma once

#include "layers/layer.h"
#include "model/weights.h"

namespace terra {

class DenseAttentionLayer : public Layer {
 public:
  // causal: the decoder's, with a KV cache kept per sequence. Otherwise the encoder's: tokens()
  // gets the whole input, whose keys and values are scratch.
  DenseAttentionLayer(const AttentionWeights& w, const ModelConfig& c, LayerScratch& s, bool causal)
      : w_(w), c_(c), s_(s), causal_(causal) {}
  void plan(ArenaPlan& plan, const LayerLimits& limits) override;
  void step(const float* x, int pos, float* out, const ThreadPool& pool) override;
  void tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) override;

 private:
  const AttentionWeights& w_;
  const ModelConfig& c_;
  LayerScratch& s_;
  bool causal_;
  KVCache cache_;  // causal: [positions, heads * dk] and [positions, heads * dv]
};

class MultConvAttentionLayer : public Layer {
 public:
  MultConvAttentionLayer(const AttentionWeights& w, const ModelConfig& c, LayerScratch& s) : w_(w), c_(c), s_(s) {}
  void plan(ArenaPlan& plan, const LayerLimits& limits) override;
  void step(const float* x, int pos, float* out, const ThreadPool& pool) override;
  // A chunk of positions per pass (attention_multconv.h, multconv_attention_tokens).
  void tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) override;

 private:
  const AttentionWeights& w_;
  const ModelConfig& c_;
  LayerScratch& s_;
  KVCache cache_;              // [positions, d] each
  float* u_history_ = nullptr;  // [qkv_length_kernel, d]
};

}  // namespace terra
