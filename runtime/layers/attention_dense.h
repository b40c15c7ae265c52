// Dense causal self-attention (trax CausalAttention) for one new position, over a KV cache.
#pragma once

#include "core/thread_pool.h"
#include "layers/attention_core.h"
#include "model/config.h"
#include "model/weights.h"

namespace terra {

struct AttentionScratch {
  float* q = nullptr;        // [max(d, heads * dk)]
  float* context = nullptr;  // [max(d, heads * dv)]
  AttendScratch attend;      // scores, one row of max_context per thread
  float* gated = nullptr;    // [S * d]: mult_conv's gated copies of the input
  float* widened = nullptr;  // [threads, d]: mult_conv's FactoredDense rows widened to f32
  float* conv_kernels = nullptr;  // mult_conv's three convolution kernels widened to f32 (non-f32 files)
  float* conv_zeros = nullptr;    // [M]: mult_conv's input beyond the first and last module
};

// Writes the key and value of position `pos` into the cache, attends over positions 0..pos and
// returns out = Wo · softmax(q kᵀ / sqrt(dh)) v + bo.
void dense_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                          const KVCache& cache, const AttentionScratch& s, float* out, const ThreadPool& pool);

}  // namespace terra
