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

// trax LSHSelfAttention (layers/attention_lsh.h). Encoder: tokens() gets the whole input.
// Decoder: trax's predict mode. A first call of several rows at position 0 (the encoder's rows and
// the start token) is one full pass over the memory; every other row is decoded alone, over a
// memory of predict_mem_len rows that drops its oldest predict_drop_len when full. The memory
// holds each row's key (normalized), value and buckets, so its size is fixed whatever the length.
class LshAttentionLayer : public Layer {
 public:
  LshAttentionLayer(const AttentionWeights& w, const ModelConfig& c, LayerScratch& s, bool decoder);
  void plan(ArenaPlan& plan, const LayerLimits& limits) override;
  void step(const float* x, int pos, float* out, const ThreadPool& pool) override;
  void tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) override;

 private:
  void encode(int n, float* out, const ThreadPool& pool);       // s_.normed rows -> out
  void first_call(int n, float* out, const ThreadPool& pool);   // the decoder's first call
  // The rotations of a call hashing with `call` ([heads, dk, call.rotation_cols()]): the file's,
  // or, with a derived count, drawn for it from the heads' keys into scratch (draw_rotations).
  const float* call_rotations(const LshSettings& call) const;
  void draw_rotations(const LshSettings& call, float* out) const;

  const AttentionWeights& w_;
  const ModelConfig& c_;
  LayerScratch& s_;
  LshSettings lsh_;
  LshSettings step_;  // a decoded row's settings (trax hashes it as a call of two rows); set by plan()
  bool decoder_;
  // Derived count: the decoded rows' rotations (the same for every row), drawn at the first step
  // (counters_[2] says they are; state, so a copied or reset sequence keeps them consistent).
  float* step_rotations_ = nullptr;
  // The decoder's memory (per-sequence state).
  float* keys_ = nullptr;       // [mem_len, heads * dk]
  float* values_ = nullptr;     // [mem_len, heads * dv]
  int32_t* buckets_ = nullptr;  // [heads, n_hashes, mem_len], with trax's round offsets r * n_buckets
  // [3]: rows in the memory (trax mem_end), rows its buckets cover (buckets_idx), step rotations drawn
  int32_t* counters_ = nullptr;
};

}  // namespace terra
