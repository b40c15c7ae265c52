// The FF's SRU branch (trax rnn.SRU inside FeedForwardWithOptions, ff_use_sru): LayerNorm,
// Dense(d→n), SRU cells, Dense(n→d). Each cell: [r, f, y] = Dense(3n)(h); r, f = sigmoid;
// c = f·c + (1-f)·y; h = c·r + h·(1-r)·sqrt(3). The state is c per cell, carried across positions.
#pragma once

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "model/weights.h"

namespace terra {

struct SruScratch {
  float* normed = nullptr;  // [d]
  float* h = nullptr;       // [n]
  float* gates = nullptr;   // [3n]
};

// out = branch(x); state: [cells * n], zero at the start of a sequence.
void sru_branch_step(const SruWeights& w, const float* x, float eps, float* state, const SruScratch& s, float* out,
                     const ThreadPool& pool);

// A block of positions in order (prefill): each cell's gate product depends only on the same
// position's input, so the in, gate and out products run for the whole block (matmul_tokens) and
// only the elementwise recurrence goes position by position.
struct SruTokensScratch {
  float* normed = nullptr;  // [chunk, d]
  float* h = nullptr;       // [chunk, n]
  float* gates = nullptr;   // [chunk, 3n]
  float* out = nullptr;     // [chunk, d]
  const MatmulScratch* mm = nullptr;
};

// Rows t < m of s.out = branch(x row t), the same as m steps in order; state advances m positions.
void sru_branch_tokens(const SruWeights& w, const float* x, int m, float eps, float* state, const SruTokensScratch& s,
                       const ThreadPool& pool);

}  // namespace terra
