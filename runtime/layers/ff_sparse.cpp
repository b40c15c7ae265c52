#include <algorithm>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/feed_forward.h"

namespace terra {

namespace {

struct SelectJob {
  const SparseFFWeights* w;
  const float* x;
  const SparseFFScratch* s;
};

// Per block: argmax over its N controller logits, then the one active unit's input product. All
// argmaxes come first so the next selected w1 row can be prefetched while this one is read.
void select_blocks(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<SelectJob*>(p);
  const int N = j.w->units;
  for (size_t i = begin; i < end; ++i) {
    const float* l = j.s->logits + i * size_t(N);
    int best = 0;
    for (int u = 1; u < N; ++u) {
      if (l[u] > l[best]) best = u;  // strict: the first maximum wins, as argmax does
    }
    j.s->selected[i] = best;
  }
  const MatrixRef& w1 = j.w->w1;
  for (size_t i = begin; i < end; ++i) {
    if (i + 1 < end) prefetch_row(w1, int64_t(i + 1) * N + j.s->selected[i + 1], 0, w1.cols);
    const float h = dot_row(w1, int64_t(i) * N + j.s->selected[i], j.x);
    j.s->active[i] = h > 0 ? h : 0;
  }
}

struct OutputJob {
  const SparseFFWeights* w;
  const SparseFFScratch* s;
  float* out;
};

// out[range] = b2[range] + Σ_i active_i w2[unit_i][range]: threads own disjoint output ranges,
// so no reduction across threads is needed.
void accumulate_output(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<OutputJob*>(p);
  float* out = j.out + begin;
  for (size_t e = begin; e < end; ++e) j.out[e] = j.w->b2[e];
  const MatrixRef& w2 = j.w->w2;
  const int64_t n = int64_t(end - begin);
  int next = 0;  // the next block with an active unit, prefetched one ahead
  while (next < j.w->blocks && j.s->active[next] == 0) ++next;
  while (next < j.w->blocks) {
    const int i = next;
    for (++next; next < j.w->blocks && j.s->active[next] == 0;) ++next;
    if (next < j.w->blocks) prefetch_row(w2, int64_t(next) * j.w->units + j.s->selected[next], int64_t(begin), n);
    axpy_row(w2, int64_t(i) * j.w->units + j.s->selected[i], int64_t(begin), n, j.s->active[i], out);
  }
}

}  // namespace

void sparse_ff_step(const SparseFFWeights& w, const float* x, const SparseFFScratch& s, float* out,
                    const ThreadPool& pool) {
  matvec(w.m1, x, nullptr, s.lowrank, pool);
  matvec(w.m2, s.lowrank, w.mb, s.logits, pool);
  SelectJob select{&w, x, &s};
  pool.parallel_for(size_t(w.blocks), 8, select_blocks, &select);
  OutputJob output{&w, &s, out};
  pool.parallel_for(size_t(w.w2.cols), 256, accumulate_output, &output);  // long runs per axpy
}

}  // namespace terra
