#include "kernels/vector_ops.h"
#include "layers/feed_forward.h"

namespace terra {

void feed_forward_step(const FeedForwardWeights& w, float eps, const float* x, const FeedForwardScratch& s,
                       const SparseFFScratch& sparse, float* sru_state, float* out, const ThreadPool& pool) {
  const size_t d = size_t(w.sparse ? w.sff.w1.cols : w.w1.w.cols);
  layer_norm(x, w.norm.scale, w.norm.bias, eps, d, s.normed);
  if (w.sparse) {
    sparse_ff_step(w.sff, s.normed, sparse, out, pool);
  } else {
    dense_ff_step(w, s.normed, s.dense, out, pool);
  }
  if (w.has_sru) {
    sru_branch_step(w.sru, x, eps, sru_state, s.sru, s.branch, pool);
    add_inplace(out, s.branch, d);
  }
}

}  // namespace terra
