// The one interface of the layers the stacks run: each is a half-residual branch F(LN(x)) of a
// block (attention or feed-forward), which
//   plan():   declares its per-sequence state and its scratch in the session's arena plan;
//   step():   runs one position (decoding);
//   tokens(): runs a block of positions, rows of [n, d] (prefill, the encoder). This is the one
//             place the batched products (matmul_tokens) happen.
// The session (decoder/session.cpp) and the encoder (encoder/encoder.cpp) only add each branch to
// its stream and swap the streams; they never reach into a layer.
#pragma once

#include <cstdint>

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "layers/attention_dense.h"
#include "layers/attention_lsh.h"
#include "layers/attention_multconv.h"
#include "layers/feed_forward.h"
#include "model/config.h"

namespace terra {

// Scratch every layer of a session shares (one buffer per slot: layers run one at a time).
struct LayerScratch {
  AttentionScratch attn;   // one position
  FeedForwardScratch ff;   // one position
  float* normed = nullptr;   // [n, d]: LN of a block's rows
  float* q = nullptr;        // [n, heads * dk]
  float* context = nullptr;  // [n, heads * dv]
  KVCache kv;                // the encoder's keys and values of the whole input
  float* hidden = nullptr;   // [chunk, d_ff]: the dense FF's hidden rows
  SparseFFTokensScratch sparse_ff;  // a chunk of positions through a sparse FF
  MultConvTokensScratch multconv;   // a chunk of positions through multiplicative-conv attention
  SruTokensScratch sru;             // a chunk of positions through the FF's SRU branch
  struct Lsh {                      // LSH attention (layers/attention_lsh.h)
    float* qk = nullptr;            // [rows, heads * dk]: the shared query/key projection
    float* v = nullptr;             // [rows, heads * dv]
    LshPassScratch pass;            // one head's full pass
    float* rotated = nullptr;       // [threads, rotation columns]: a decoded row's hashing
    float* rotations = nullptr;     // [heads, dk, rotation columns]: a call's, when its count is derived
    float* dots = nullptr;          // [threads, candidates]
    int32_t* picked = nullptr;      // [threads, candidates]
  } lsh;
  MatmulScratch mm;          // the batched products' (kernels/matmul.h); its engine is the session's
};

// How much a layer must plan for.
struct LayerLimits {
  int positions = 0;  // decoder: the session's context; encoder: the longest input
  int block = 0;      // the most rows one tokens() call gets
  int threads = 1;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual void plan(ArenaPlan& plan, const LayerLimits& limits) = 0;
  // out = F(LN(x)) at position `pos`; the layer's state advances by one position.
  virtual void step(const float* x, int pos, float* out, const ThreadPool& pool) = 0;
  // Rows t < n of out = F(LN(x)) at positions pos0 + t, the same as n steps in order.
  virtual void tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) = 0;
  // The sparse FF's choice at the last position (B entries), else null.
  virtual const int32_t* selected_units() const { return nullptr; }
};

}  // namespace terra
