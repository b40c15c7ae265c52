// The encoder of an encoder–decoder Terraformer: reversible blocks over the whole input at once
// (non-causal dense attention, then the FF), then LN(Dense((a+b)/2)) or, with
// reversible_encoder, both streams as they are. Its outputs become the first positions of the
// decoder's sequence (trax concatenates them; there is no cross-attention).
#pragma once

#include "core/thread_pool.h"
#include "layers/attention_dense.h"
#include "layers/feed_forward.h"
#include "model/config.h"
#include "model/weights.h"

namespace terra {

struct EncoderBuffers {
  float* x = nullptr;  // [max_input, d]: stream one
  float* y = nullptr;  // [max_input, d]: stream two
  float* q = nullptr;  // [max_input, heads * dk]
  KVCache kv;          // [max_input, heads * dk] and [max_input, heads * dv]
  float* sru_state = nullptr;  // [sru cells * width]
  SparseFFScratch sparse;
  float* row = nullptr;  // [d]
  float* normed = nullptr;   // [max_input, d]
  float* context = nullptr;  // [max_input, max(d, heads * dv)]
  float* hidden = nullptr;   // [chunk, d_ff]: dense FF of `chunk` positions at a time
  int chunk = 0;
  float* widened = nullptr;  // matmul_tokens' scratch
};

struct EncoderOutput {
  const float* first = nullptr;   // [n, d]: decoder stream one at the input positions
  const float* second = nullptr;  // [n, d]: decoder stream two
};

EncoderOutput run_encoder(const ModelWeights& w, const ModelConfig& c, const int* tokens, int n,
                          const EncoderBuffers& b, const AttentionScratch& attn, const FeedForwardScratch& ff,
                          const ThreadPool& pool);

}  // namespace terra
