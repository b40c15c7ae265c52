#include "layers/factored_dense.h"

#include <algorithm>

#include "kernels/kernel_set.h"
#include "kernels/vector_ops.h"

namespace terra {

namespace {
struct Job {
  const FactoredDenseWeights* w;
  const float* gated;
  float* widened;
  float* out;
  size_t parts;
};
// Part p of `parts` owns a range of projection rows (one output m of every module) and scratch row
// p. Each row is read (and widened) once and dotted with the S gated inputs, four per pass over it.
void project_rows(void* p, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<Job*>(p);
  const KernelSet& k = kernels();
  const MatrixRef& P = j.w->projection;
  const int64_t S = j.w->gating.rows, d = j.w->gating.cols, M = P.rows;
  const int64_t begin = M * int64_t(part) / int64_t(j.parts), end = M * int64_t(part + 1) / int64_t(j.parts);
  for (int64_t m = begin; m < end; ++m) {
    const float* row = P.f32_row(m);
    if (P.dtype != DType::kF32) {
      float* w = j.widened + int64_t(part) * d;
      copy_row(P, m, w);
      row = w;
    }
    int64_t s = 0;
    for (; s + 4 <= S; s += 4) {
      float four[4];
      k.dot4_f32(j.gated + s * d, size_t(d), row, size_t(d), four);
      for (int i = 0; i < 4; ++i) j.out[(s + i) * M + m] = four[i] + j.w->bias[(s + i) * M + m];
    }
    for (; s < S; ++s) j.out[s * M + m] = k.dot_f32(row, j.gated + s * d, size_t(d)) + j.w->bias[s * M + m];
  }
}
}  // namespace

void factored_dense(const FactoredDenseWeights& w, const float* x, float* gated, float* widened, float* out,
                    const ThreadPool& pool) {
  const int64_t S = w.gating.rows, d = w.gating.cols;
  for (int64_t s = 0; s < S; ++s) {
    copy_row(w.gating, s, gated + s * d);
    for (int64_t k = 0; k < d; ++k) gated[s * d + k] *= x[k];
  }
  Job job{&w, gated, widened, out, std::min<size_t>(pool.threads(), size_t(w.projection.rows))};
  pool.parallel_for(job.parts, 1, project_rows, &job);
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
