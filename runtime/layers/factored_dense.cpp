#include "layers/factored_dense.h"

#include "kernels/vector_ops.h"

namespace terra {

namespace {
struct Job {
  const FactoredDenseWeights* w;
  const float* gated;
  float* out;
};
// Each projection row (one output m of every module) is read once and dotted with all S gated inputs.
void project_rows(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<Job*>(p);
  const int64_t S = j.w->gating.rows, d = j.w->gating.cols, M = j.w->projection.rows;
  for (size_t m = begin; m < end; ++m) {
    for (int64_t s = 0; s < S; ++s) {
      const int64_t o = s * M + int64_t(m);
      j.out[o] = dot_row(j.w->projection, int64_t(m), j.gated + s * d) + j.w->bias[o];
    }
  }
}
}  // namespace

void factored_dense(const FactoredDenseWeights& w, const float* x, float* gated, float* out, const ThreadPool& pool) {
  const int64_t S = w.gating.rows, d = w.gating.cols;
  for (int64_t s = 0; s < S; ++s) {
    copy_row(w.gating, s, gated + s * d);
    for (int64_t k = 0; k < d; ++k) gated[s * d + k] *= x[k];
  }
  Job job{&w, gated, out};
  pool.parallel_for(size_t(w.projection.rows), 16, project_rows, &job);
}

void plan_factored_dense_tokens(ArenaPlan& plan, FactoredDenseTokensScratch& s, const FactoredDenseWeights& w,
                                int rows, int threads, MatmulScratch& mm) {
  const uint64_t S = uint64_t(w.gating.rows), d = uint64_t(w.gating.cols);
  plan.scratch(&s.gating, S * d);
  plan.scratch(&s.gated, uint64_t(rows) * S * d);
  s.mm = &mm;
  plan_matmul(plan, mm, uint64_t(w.projection.rows), d, threads);
}

void factored_dense_tokens(const FactoredDenseWeights& w, const float* x, int n, const FactoredDenseTokensScratch& s,
                           float* out, const ThreadPool& pool) {
  const int64_t S = w.gating.rows, d = w.gating.cols, width = S * w.projection.rows;
  for (int64_t i = 0; i < S; ++i) copy_row(w.gating, i, s.gating + i * d);
  for (int t = 0; t < n; ++t) {
    for (int64_t i = 0; i < S; ++i) {
      const float* g = s.gating + i * d;
      const float* xt = x + t * d;
      float* row = s.gated + (t * S + i) * d;
      for (int64_t k = 0; k < d; ++k) row[k] = xt[k] * g[k];
    }
  }
  matmul_tokens(w.projection, s.gated, int(n * S), nullptr, out, *s.mm, pool);
  for (int t = 0; t < n; ++t) add_inplace(out + t * width, w.bias, size_t(width));
}

}  // namespace terra
