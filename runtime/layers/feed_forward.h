// The feed-forward half-residual's inner layer, dense or sparse (shared/terraformer.md §1).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "model/weights.h"

namespace terra {

struct DenseFFScratch {
  float* hidden = nullptr;  // [d_ff]
};

// out = relu(x W1 + b1) W2 + b2
void dense_ff_step(const FeedForwardWeights& w, const float* x, const DenseFFScratch& s, float* out,
                   const ThreadPool& pool);

struct SparseFFScratch {
  float* lowrank = nullptr;   // [r]
  float* logits = nullptr;    // [B*N]
  float* active = nullptr;    // [B]: relu(x · w1[unit]) per block
  int32_t* selected = nullptr;  // [B]: chosen unit j of each block
};

// The controller picks one unit per block (argmax of (x m1) m2 + mb, first maximum on ties);
// only those B rows of w1 and w2 are read: out = b2 + Σ_i relu(x · w1[i, j_i]) w2[i, j_i].
void sparse_ff_step(const SparseFFWeights& w, const float* x, const SparseFFScratch& s, float* out,
                    const ThreadPool& pool);

}  // namespace terra
