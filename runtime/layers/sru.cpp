#include "layers/sru.h"

#include <cmath>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"

namespace terra {

namespace {
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// One cell at one position: c = f·c + (1-f)·y, then h = c·r + h·(1-r)·sqrt(3), in place.
void cell_update(const float* gates, int64_t n, float* c, float* h) {
  const float sqrt3 = std::sqrt(3.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float r = sigmoid(gates[i]), f = sigmoid(gates[n + i]), y = gates[2 * n + i];
    c[i] = f * c[i] + (1.0f - f) * y;
    h[i] = c[i] * r + h[i] * (1.0f - r) * sqrt3;
  }
}
}  // namespace

void sru_branch_step(const SruWeights& w, const float* x, float eps, float* state, const SruScratch& s, float* out,
                     const ThreadPool& pool) {
  layer_norm(x, w.norm.scale, w.norm.bias, eps, size_t(w.in.w.cols), s.normed);
  matvec(w.in.w, s.normed, w.in.bias, s.h, pool);
  const int64_t n = w.in.w.rows;
  for (size_t j = 0; j < w.cells.size(); ++j) {
    matvec(w.cells[j].w, s.h, w.cells[j].bias, s.gates, pool);
    cell_update(s.gates, n, state + int64_t(j) * n, s.h);
  }
  matvec(w.out.w, s.h, w.out.bias, out, pool);
}

void sru_branch_tokens(const SruWeights& w, const float* x, int m, float eps, float* state, const SruTokensScratch& s,
                       const ThreadPool& pool) {
  const int64_t d = w.in.w.cols, n = w.in.w.rows;
  for (int t = 0; t < m; ++t) layer_norm(x + t * d, w.norm.scale, w.norm.bias, eps, size_t(d), s.normed + t * d);
  matmul_tokens(w.in.w, s.normed, m, w.in.bias, s.h, *s.mm, pool);
  for (size_t j = 0; j < w.cells.size(); ++j) {
    matmul_tokens(w.cells[j].w, s.h, m, w.cells[j].bias, s.gates, *s.mm, pool);
    for (int t = 0; t < m; ++t) cell_update(s.gates + t * 3 * n, n, state + int64_t(j) * n, s.h + t * n);
  }
  matmul_tokens(w.out.w, s.h, m, w.out.bias, s.out, *s.mm, pool);
}

}  // namespace terra
