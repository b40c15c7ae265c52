// The loss layer: logits = Dense(d→V)(x), or FactoredDense(loss_sparsity, d, V) (sparse loss).
#pragma once

#include "core/thread_pool.h"
#include "model/weights.h"

namespace terra {

// gated: scratch of loss_sparsity * d floats (unused for the dense layer).
void loss_step(const LossWeights& w, const float* x, float* gated, float* logits, const ThreadPool& pool);

}  // namespace terra
