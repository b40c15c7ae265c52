#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/feed_forward.h"

namespace terra {

void dense_ff_step(const FeedForwardWeights& w, const float* x, const DenseFFScratch& s, float* out,
                   const ThreadPool& pool) {
  matvec(w.w1.w, x, w.w1.bias, s.hidden, pool);
  relu_inplace(s.hidden, size_t(w.w1.w.rows));
  matvec(w.w2.w, s.hidden, w.w2.bias, out, pool);
}

}  // namespace terra
