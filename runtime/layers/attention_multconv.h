// trax MultiplicativeConvCausalAttention (sparse QKV) for one new position. The input goes
// through one FactoredDense(S, d, d) shared by Q, K and V; each of them is then a causal
// convolution over (time, module) of that output (LocallyConvDense; with S = 1 a plain Dense);
// then attention over the KV cache, with no output projection. State: the last
// qkv_length_kernel rows of the FactoredDense output, and the KV cache.
#pragma once

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "layers/attention_dense.h"
#include "layers/factored_dense.h"
#include "model/config.h"
#include "model/weights.h"

namespace terra {

// u_history: [qkv_length_kernel, d] ring; row t % lk holds the FactoredDense output of position t.
void multconv_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                             const KVCache& cache, float* u_history, const AttentionScratch& s, float* out,
                             const ThreadPool& pool);

// A block of positions at once (prefill). The FactoredDense is one product
// (factored_dense_tokens). Each convolution over (time, module) is a sum over its taps (dt, ds) of products of the M x M
// tap matrix with the FactoredDense outputs shifted by (dt, ds): those are laid out with H zero
// modules at both ends of every position (H the widest half kernel) and the lk-1 positions before
// the chunk in front, so each shift is a plain offset into one buffer. Rows computed at the pad
// modules are never read.
struct MultConvTokensScratch {
  int chunk = 1;             // positions per pass
  FactoredDenseTokensScratch mult;
  float* padded = nullptr;   // [(lk - 1 + chunk) * (S + 2H), M]: the FactoredDense outputs, padded
  float* sum = nullptr;      // [chunk * (S + 2H), M]: a convolution's taps added up
  float* tap = nullptr;      // [chunk * (S + 2H), M]: one tap's product
  const MatmulScratch* mm = nullptr;
};

void plan_multconv_tokens(ArenaPlan& plan, MultConvTokensScratch& s, const AttentionWeights& w, const ModelConfig& c,
                          int block, int threads, MatmulScratch& mm);

// Rows t < n of out: the attention output at positions pos0 + t, the same as n steps in order
// (x already layer-normed). Leaves u_history and the cache as the steps would.
void multconv_attention_tokens(const AttentionWeights& w, const ModelConfig& c, const float* x, int n, int pos0,
                               const KVCache& cache, float* u_history, const AttentionScratch& s,
                               const MultConvTokensScratch& ts, float* q, float* out, const ThreadPool& pool);

}  // namespace terra
