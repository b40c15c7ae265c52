// The feed-forward half-residual's inner layer, dense or sparse (docs/terraformer.md, "Sparse feed-forward").
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "layers/sru.h"
#include "model/weights.h"

namespace terra {

struct DenseFFScratch {
  float* hidden = nullptr;  // [d_ff]
};

// out = act(x W1 + b1) W2 + b2, act = relu, gelu or fast gelu (trax's ff_activation)
void dense_ff_step(const FeedForwardWeights& w, const float* x, const DenseFFScratch& s, float* out,
                   const ThreadPool& pool);

// x = act(x), elementwise.
void activate_inplace(Activation act, float* x, size_t n);

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

// A block of n positions at once (prefill, the encoder).
struct SparseFFTokensScratch {
  float* lowrank = nullptr;     // [n, r]
  float* logits = nullptr;      // [n, B*N]
  float* active = nullptr;      // [n, B]
  int32_t* selected = nullptr;  // [n, B]
  int32_t* order = nullptr;     // [n*B]: the positions, grouped by the unit they chose
  int32_t* first = nullptr;     // [B*N + 1]: order[first[u] .. first[u+1]) chose unit u
  const MatmulScratch* mm = nullptr;
};

// The same as sparse_ff_step at each of the n rows of x, with the controller's two products done
// for the whole block (matmul_tokens) and the chosen units grouped by unit: each chosen w1 and w2
// row is read once per block and used by every position that chose it, where n steps would read
// it once per position. Each position still sums its units in block order, as the step does.
void sparse_ff_tokens(const SparseFFWeights& w, const float* x, int n, const SparseFFTokensScratch& s, float* out,
                      const ThreadPool& pool);

struct FeedForwardScratch {
  float* normed = nullptr;  // [d]
  float* branch = nullptr;  // [d]: the SRU branch's output
  DenseFFScratch dense;
  SruScratch sru;
};

// The feed-forward half-residual's branch: FF(LN(x)) (+ the SRU branch of x when the model has
// one). sparse: this layer's controller scratch (keeps its choices); sru_state: this layer's.
void feed_forward_step(const FeedForwardWeights& w, float eps, const float* x, const FeedForwardScratch& s,
                       const SparseFFScratch& sparse, float* sru_state, float* out, const ThreadPool& pool);

}  // namespace terra
