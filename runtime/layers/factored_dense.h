// trax FactoredDense (sparsity.py): S gated copies of the input share one small projection,
// u[s*M + m] = sum_k x_k gating[s, k] projection[k, m] + bias[s*M + m]. Reads S*d + d*M weights
// instead of a dense layer's d * S*M. Used by the multiplicative attention and the sparse loss.
#pragma once

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "model/weights.h"

namespace terra {

// gated: scratch of S * d_in floats; widened: [threads, d_in] floats for a non-f32 projection (each
// row is widened once and then serves all S gated inputs), else unused.
void factored_dense(const FactoredDenseWeights& w, const float* x, float* gated, float* widened, float* out,
                    const ThreadPool& pool);

// n rows at once: the S gated copies of every row are the rows of one [n * S, d_in] matrix times
// the [M, d_in] projection, whose output rows are exactly out's [n, S * M] layout.
struct FactoredDenseTokensScratch {
  float* gating = nullptr;  // [S, d_in]: the gating rows as f32
  float* gated = nullptr;   // [rows, S * d_in]
  const MatmulScratch* mm = nullptr;
};
void plan_factored_dense_tokens(ArenaPlan& plan, FactoredDenseTokensScratch& s, const FactoredDenseWeights& w,
                                int rows, int threads, MatmulScratch& mm);
void factored_dense_tokens(const FactoredDenseWeights& w, const float* x, int n, const FactoredDenseTokensScratch& s,
                           float* out, const ThreadPool& pool);

}  // namespace terra
