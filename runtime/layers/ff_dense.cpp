#include <cmath>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/feed_forward.h"

namespace terra {

void dense_ff_step(const FeedForwardWeights& w, const float* x, const DenseFFScratch& s, float* out,
                   const ThreadPool& pool) {
  matvec(w.w1.w, x, w.w1.bias, s.hidden, pool);
  activate_inplace(w.activation, s.hidden, size_t(w.w1.w.rows));
  matvec(w.w2.w, s.hidden, w.w2.bias, out, pool);
}

void activate_inplace(Activation act, float* x, size_t n) {
  switch (act) {
    case Activation::kRelu:
      relu_inplace(x, n);
      return;
    case Activation::kGelu:  // trax Gelu: x/2 (1 + erf(x / sqrt 2))
      for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
      return;
    case Activation::kFastGelu:  // trax FastGelu: x/2 (1 + tanh(0.7978845608 x (1 + 0.044715 x^2)))
      for (size_t i = 0; i < n; ++i) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.0f + std::tanh(v * 0.7978845608f * (1.0f + 0.044715f * v * v)));
      }
      return;
  }
}

}  // namespace terra
