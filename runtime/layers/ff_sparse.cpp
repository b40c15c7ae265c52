#include <algorithm>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/feed_forward.h"

namespace terra {

namespace {

struct SelectJob {
  const SparseFFWeights* w;
  const float* x;
  const QuantizedActivation* xq;  // int8/int4 w1 on the integer path, else null
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
    const int64_t row = int64_t(i) * N + j.s->selected[i];
    const float h = j.xq ? row_ops(w1.dtype).dot_q8(w1, row, j.xq->q, j.xq->scales) : dot_row(w1, row, j.x);
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

// ---- a block of positions ----

struct TokensJob {
  const SparseFFWeights* w;
  const float* x;  // [n, d]
  int n;
  const SparseFFTokensScratch* s;
  float* out;      // [n, d]
};

// Positions [begin, end): the first maximum of each block's N logits, as in select_blocks.
void select_tokens(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<TokensJob*>(p);
  const int B = j.w->blocks, N = j.w->units;
  for (size_t t = begin; t < end; ++t) {
    for (int i = 0; i < B; ++i) {
      const float* l = j.s->logits + (t * size_t(B) + size_t(i)) * size_t(N);
      int best = 0;
      for (int u = 1; u < N; ++u) {
        if (l[u] > l[best]) best = u;
      }
      j.s->selected[t * size_t(B) + size_t(i)] = i * N + best;
    }
  }
}

// Counting sort of the (position, block) choices by unit: order lists, unit by unit, the
// positions that chose it, in position order.
void group_by_unit(const SparseFFWeights& w, int n, const SparseFFTokensScratch& s) {
  const int B = w.blocks, units = B * w.units;
  std::fill(s.first, s.first + units + 1, 0);
  for (int64_t k = 0; k < int64_t(n) * B; ++k) ++s.first[s.selected[k] + 1];
  for (int u = 0; u < units; ++u) s.first[u + 1] += s.first[u];
  // first[u] is then advanced while filling; each ends where the next unit's list begins.
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < B; ++i) s.order[s.first[s.selected[int64_t(t) * B + i]]++] = t;
  }
  for (int u = units; u > 0; --u) s.first[u] = s.first[u - 1];
  s.first[0] = 0;
}

// Blocks [begin, end): each chosen w1 row once, dotted with every position that chose it.
void input_products(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<TokensJob*>(p);
  const MatrixRef& w1 = j.w->w1;
  const int N = j.w->units, B = j.w->blocks;
  const int64_t d = w1.cols;
  for (int64_t u = int64_t(begin) * N; u < int64_t(end) * N; ++u) {
    const int i = int(u / N);
    for (int32_t k = j.s->first[u]; k < j.s->first[u + 1]; ++k) {
      const int t = j.s->order[k];
      const float h = dot_row(w1, u, j.x + t * d);
      j.s->active[int64_t(t) * B + i] = h > 0 ? h : 0;
    }
  }
}

// Output columns [begin, end) of every position: b2, then each chosen w2 row's slice once, added
// to every position that chose it, block by block (so each position sums in block order).
void output_products(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<TokensJob*>(p);
  const MatrixRef& w2 = j.w->w2;
  const int N = j.w->units, B = j.w->blocks;
  const int64_t d = w2.cols, len = int64_t(end - begin);
  for (int t = 0; t < j.n; ++t) std::copy(j.w->b2 + begin, j.w->b2 + end, j.out + t * d + int64_t(begin));
  for (int64_t u = 0; u < int64_t(B) * N; ++u) {
    const int i = int(u / N);
    for (int32_t k = j.s->first[u]; k < j.s->first[u + 1]; ++k) {
      const int t = j.s->order[k];
      const float a = j.s->active[int64_t(t) * B + i];
      if (a != 0) axpy_row(w2, u, int64_t(begin), len, a, j.out + t * d + int64_t(begin));
    }
  }
}

}  // namespace

void sparse_ff_tokens(const SparseFFWeights& w, const float* x, int n, const SparseFFTokensScratch& s, float* out,
                      const ThreadPool& pool) {
  matmul_tokens(w.m1, x, n, nullptr, s.lowrank, *s.mm, pool);
  matmul_tokens(w.m2, s.lowrank, n, w.mb, s.logits, *s.mm, pool);
  TokensJob job{&w, x, n, &s, out};
  pool.parallel_for(size_t(n), 4, select_tokens, &job);
  group_by_unit(w, n, s);
  pool.parallel_for(size_t(w.blocks), 1, input_products, &job);
  pool.parallel_for(size_t(w.w2.cols), 256, output_products, &job);
}

void sparse_ff_step(const SparseFFWeights& w, const float* x, const SparseFFScratch& s, float* out,
                    const ThreadPool& pool) {
  matvec(w.m1, x, nullptr, s.lowrank, pool, /*exact=*/true);  // the controller: float activations
  matvec(w.m2, s.lowrank, w.mb, s.logits, pool, /*exact=*/true);
  const bool integer = use_integer_dots(w.w1);
  QuantizedActivation q;  // on the stack: only touched on the integer path
  if (integer) quantize_q8(x, size_t(w.w1.cols), q.q, q.scales);
  SelectJob select{&w, x, integer ? &q : nullptr, &s};
  pool.parallel_for(size_t(w.blocks), 8, select_blocks, &select);
  OutputJob output{&w, &s, out};
  pool.parallel_for(size_t(w.w2.cols), 256, accumulate_output, &output);  // long runs per axpy
}

}  // namespace terra
