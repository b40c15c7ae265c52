// The feed-forward branch as a layer (layers/layer.h): LN, dense or sparse FF, plus the SRU
// branch when the model has one.
#pragma once

#include "layers/layer.h"
#include "model/weights.h"

namespace terra {

class FeedForwardLayer : public Layer {
 public:
  // decoder: the SRU state is kept per sequence. Otherwise the encoder's: each tokens() call is a
  // whole input, and the SRU starts from zero.
  FeedForwardLayer(const FeedForwardWeights& w, const ModelConfig& c, LayerScratch& s, bool decoder)
      : w_(w), c_(c), s_(s), decoder_(decoder) {}
  void plan(ArenaPlan& plan, const LayerLimits& limits) override;
  void step(const float* x, int pos, float* out, const ThreadPool& pool) override;
  // chunk_ rows at a time: the dense FF through matmul_tokens (the hidden rows are kept for a
  // chunk), the sparse FF through sparse_ff_tokens (each chosen row read once per chunk), the SRU
  // through sru_branch_tokens (its recurrence in order).
  void tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) override;
  const int32_t* selected_units() const override { return sparse_.selected; }

 private:
  const FeedForwardWeights& w_;
  const ModelConfig& c_;
  LayerScratch& s_;
  bool decoder_;
  SparseFFScratch sparse_;      // this layer's own: keeps its last choice
  float* sru_state_ = nullptr;  // [cells * width]
  int chunk_ = 1;               // rows per pass of the FF (kernels/matmul.h: tokens_per_pass)
};

}  // namespace terra
