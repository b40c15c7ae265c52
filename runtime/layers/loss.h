// The loss layer: logits = Dense(d→V)(x), or FactoredDense(loss_sparsity, d, V) (sparse loss).
#pragma once

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "layers/factored_dense.h"
#include "model/weights.h"

namespace terra {

// gated: scratch of loss_sparsity * d floats, widened: [threads, d] (factored_dense; both unused
// for the dense layer).
void loss_step(const LossWeights& w, const float* x, float* gated, float* widened, float* logits,
               const ThreadPool& pool);

// n rows at once (scoring every position of a text): the dense loss as one product, the factored
// loss through factored_dense_tokens. logits: [n, V].
struct LossTokensScratch {
  FactoredDenseTokensScratch mult;
  const MatmulScratch* mm = nullptr;
};
void plan_loss_tokens(ArenaPlan& plan, LossTokensScratch& s, const LossWeights& w, int rows, int threads,
                      MatmulScratch& mm);
void loss_tokens(const LossWeights& w, const float* x, int n, const LossTokensScratch& s, float* logits,
                 const ThreadPool& pool);

}  // namespace terra
