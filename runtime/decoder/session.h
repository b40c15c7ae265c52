// A decoding session: the state of one sequence (KV caches, streams, scratch) in one arena
// planned at creation from the config and the maximum context. step() and prefill() allocate
// nothing; they read the mapped weights and write only into the arena.
//
// A token's path: step(token) -> embed + position -> for each decoder layer: attention
// half-residuals, then the FF half-residual (reversible two-stream swaps) -> LN((a+b)/2) ->
// loss layer -> logits().
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/arena.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "layers/attention_dense.h"
#include "layers/feed_forward.h"
#include "model/model.h"

namespace terra {

struct SessionOptions {
  int max_context = 0;  // tokens; 0 = the model's max_len capped at 4096
  int threads = 1;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(const Model& model, const SessionOptions& options);

  // Feeds one token at the next position and computes its logits.
  Status step(int token);
  // Feeds tokens in order; logits() then holds those of the last one.
  Status prefill(const int* tokens, size_t count);
  // Forgets the sequence; the next token is position 0.
  void reset() { position_ = 0; }

  const float* logits() const { return logits_; }
  int vocab_size() const { return config_.vocab_size; }
  int position() const { return position_; }
  int max_context() const { return max_context_; }
  size_t arena_bytes() const { return arena_.size(); }
  size_t threads() const { return pool_.threads(); }
  // Units the sparse FF of `layer` chose for the last token (B entries), or null for a dense FF.
  const int32_t* selected_units(int layer) const;

 private:
  Session(const Model& model, const SessionOptions& options, int max_context);
  Status plan();
  Status check_token(int token) const;
  void forward(int token, bool want_logits);

  const Model& model_;
  const ModelConfig& config_;
  const ModelWeights& weights_;
  int max_context_;
  int position_ = 0;
  ThreadPool pool_;
  Arena arena_;

  float* stream_a_ = nullptr;  // the two reversible residual streams, [d] each
  float* stream_b_ = nullptr;
  float* normed_ = nullptr;     // LayerNorm output, [d]
  float* branch_ = nullptr;     // a half-residual's branch output, [d]
  float* logits_ = nullptr;     // [V]
  std::vector<KVCache> kv_;     // one per (layer, attention sub-layer)
  AttentionScratch attn_;
  DenseFFScratch dense_ff_;
  std::vector<SparseFFScratch> sparse_ff_;  // per layer, so each keeps its last choice
};

}  // namespace terra
