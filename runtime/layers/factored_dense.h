// trax FactoredDense (sparsity.py): S gated copies of the input share one small projection,
// u[s*M + m] = sum_k x_k gating[s, k] projection[k, m] + bias[s*M + m]. Reads S*d + d*M weights
// instead of a dense layer's d * S*M. Used by the multiplicative attention and the sparse loss.
#pragma once

#include "core/thread_pool.h"
#include "model/weights.h"

namespace terra {

// gated: scratch of S * d_in floats.
void factored_dense(const FactoredDenseWeights& w, const float* x, float* gated, float* out, const ThreadPool& pool);

}  // namespace terra
