#include "layers/loss.h"

#include "kernels/matvec.h"
#include "layers/factored_dense.h"

namespace terra {

void loss_step(const LossWeights& w, const float* x, float* gated, float* logits, const ThreadPool& pool) {
  if (w.factored) {
    factored_dense(w.mult, x, gated, logits, pool);
  } else {
    matvec(w.kernel, x, w.bias, logits, pool);
  }
}

}  // namespace terra
