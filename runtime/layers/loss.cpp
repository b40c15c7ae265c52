#include "layers/loss.h"

#include "kernels/matmul.h"
#include "kernels/matvec.h"
#include "layers/factored_dense.h"

namespace terra {

void loss_step(const LossWeights& w, const float* x, float* gated, float* widened, float* logits,
               const ThreadPool& pool) {
  if (w.factored) {
    factored_dense(w.mult, x, gated, widened, logits, pool);
  } else {
    matvec(w.kernel, x, w.bias, logits, pool);
  }
}

void plan_loss_tokens(ArenaPlan& plan, LossTokensScratch& s, const LossWeights& w, int rows, int threads,
                      MatmulScratch& mm) {
  s.mm = &mm;
  if (w.factored) {
    plan_factored_dense_tokens(plan, s.mult, w.mult, rows, threads, mm);
  } else {
    plan_matmul(plan, mm, uint64_t(w.kernel.rows), uint64_t(w.kernel.cols), threads);
  }
}

void loss_tokens(const LossWeights& w, const float* x, int n, const LossTokensScratch& s, float* logits,
                 const ThreadPool& pool) {
  if (w.factored) {
    factored_dense_tokens(w.mult, x, n, s.mult, logits, pool);
  } else {
    matmul_tokens(w.kernel, x, n, w.bias, logits, *s.mm, pool);
  }
}

}  // namespace terra
