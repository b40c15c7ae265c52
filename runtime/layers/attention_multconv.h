// trax MultiplicativeConvCausalAttention (sparse QKV) for one new position. The input goes
// through one FactoredDense(S, d, d) shared by Q, K and V; each of them is then a causal
// convolution over (time, module) of that output (LocallyConvDense; with S = 1 a plain Dense);
// then attention over the KV cache, with no output projection. State: the last
// qkv_length_kernel rows of the FactoredDense output, and the KV cache.
#pragma once

#include "core/thread_pool.h"
#include "layers/attention_dense.h"
#include "model/config.h"
#include "model/weights.h"

namespace terra {

// u_history: [qkv_length_kernel, d] ring; row t % lk holds the FactoredDense output of position t.
void multconv_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                             const KVCache& cache, float* u_history, const AttentionScratch& s, float* out,
                             const ThreadPool& pool);

}  // namespace terra
