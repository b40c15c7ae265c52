#include "layers/sru.h"

#include <cmath>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"

namespace terra {

namespace {
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }
}  // namespace

void sru_branch_step(const SruWeights& w, const float* x, float eps, float* state, const SruScratch& s, float* out,
                     const ThreadPool& pool) {
  layer_norm(x, w.norm.scale, w.norm.bias, eps, size_t(w.in.w.cols), s.normed);
  matvec(w.in.w, s.normed, w.in.bias, s.h, pool);
  const int64_t n = w.in.w.rows;
  const float sqrt3 = std::sqrt(3.0f);
  for (size_t j = 0; j < w.cells.size(); ++j) {
    matvec(w.cells[j].w, s.h, w.cells[j].bias, s.gates, pool);
    float* c = state + int64_t(j) * n;
    for (int64_t i = 0; i < n; ++i) {
      const float r = sigmoid(s.gates[i]), f = sigmoid(s.gates[n + i]), y = s.gates[2 * n + i];
      c[i] = f * c[i] + (1.0f - f) * y;
      s.h[i] = c[i] * r + s.h[i] * (1.0f - r) * sqrt3;
    }
  }
  matvec(w.out.w, s.h, w.out.bias, out, pool);
}

}  // namespace terra
