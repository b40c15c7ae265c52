#include "layers/attention_core.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/kernel_set.h"
#include "kernels/vector_ops.h"

namespace terra {

namespace {

// Below this many multiply-adds in all, waking the pool costs more than it saves.
constexpr uint64_t kSerialWork = uint64_t(1) << 16;

// A dispatch of either path: the pairs or the heads of `a`, dealt to `parts` tasks.
struct AttendJob {
  const float* q;
  const AttendShape* a;
  const KVCache* cache;
  const AttendScratch* s;
  float* context;
  size_t parts;
};

void attend_one(const AttendJob& j, int t, int h, float* scores) {
  const AttendShape& a = *j.a;
  const KernelSet& k = kernels();
  const int64_t kw = int64_t(a.heads) * a.dk, vw = int64_t(a.heads) * a.dv;  // row widths of the cache
  const int64_t ko = int64_t(h) * a.dk, vo = int64_t(h) * a.dv;
  const int n = a.causal ? a.visible + t : a.visible;
  const float scale = float(1.0 / std::sqrt(double(a.dk)));
  const float* q = j.q + int64_t(t) * kw + ko;
  for (int i = 0; i < n; ++i) scores[i] = k.dot_f32(q, j.cache->k + int64_t(i) * kw + ko, size_t(a.dk)) * scale;
  softmax_inplace(scores, size_t(n));
  float* ctx = j.context + int64_t(t) * vw + vo;
  for (int64_t e = 0; e < a.dv; ++e) ctx[e] = 0;
  for (int i = 0; i < n; ++i) k.axpy_f32(scores[i], j.cache->v + int64_t(i) * vw + vo, ctx, size_t(a.dv));
}

// Part p takes the pairs p, p + parts, p + 2 parts, ... in (query, head) order.
void attend_part(void* p, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<AttendJob*>(p);
  const AttendShape& a = *j.a;
  float* scores = j.s->scores + part * j.s->stride;
  const size_t pairs = size_t(a.queries) * size_t(a.heads);
  for (size_t i = part; i < pairs; i += j.parts) attend_one(j, int(i / size_t(a.heads)), int(i % size_t(a.heads)), scores);
}

// ---- head by head ----

// Queries per pass of the head path: below this the gathers cost more than the products save.
constexpr int kHeadPathQueries = 16;
// Probabilities per thread: a pass's queries x keys stay within 2 MiB.
constexpr uint64_t kProbFloats = uint64_t(1) << 19;

// One head: its keys and transposed values gathered (XNNPACK's weights must be contiguous), the
// scores as one product, a masked softmax per query, the context as a second product.
void attend_head(const AttendJob& j, int h, size_t slot) {
  const AttendShape& a = *j.a;
  const AttendScratch& s = *j.s;
  const int64_t kw = int64_t(a.heads) * a.dk, vw = int64_t(a.heads) * a.dv;
  const int64_t ko = int64_t(h) * a.dk, vo = int64_t(h) * a.dv;
  const int m = a.queries, keys = a.causal ? a.visible + m - 1 : a.visible;
  float* K = s.head_keys + slot * s.keys * s.head;
  float* Vt = s.head_values_t + slot * s.head * s.keys;
  float* Q = s.head_queries + slot * size_t(s.chunk) * s.head;
  float* P = s.probs + slot * size_t(s.chunk) * s.keys;
  float* C = s.head_context + slot * size_t(s.chunk) * s.head;
  for (int i = 0; i < keys; ++i) {
    const float* k = j.cache->k + int64_t(i) * kw + ko;
    std::copy(k, k + a.dk, K + int64_t(i) * a.dk);
    const float* v = j.cache->v + int64_t(i) * vw + vo;
    for (int e = 0; e < a.dv; ++e) Vt[int64_t(e) * keys + i] = v[e];
  }
  for (int t = 0; t < m; ++t) std::copy(j.q + t * kw + ko, j.q + t * kw + ko + a.dk, Q + int64_t(t) * a.dk);
  matmul_tokens_serial(MatrixRef::of(K, DType::kF32, keys, a.dk), Q, m, nullptr, P, *s.mm, slot);
  const float scale = float(1.0 / std::sqrt(double(a.dk)));
  for (int t = 0; t < m; ++t) {
    float* row = P + int64_t(t) * keys;
    const int n = a.causal ? a.visible + t : a.visible;  // the keys query t may see
    for (int i = 0; i < n; ++i) row[i] *= scale;
    softmax_inplace(row, size_t(n));
    std::fill(row + n, row + keys, 0.0f);
  }
  matmul_tokens_serial(MatrixRef::of(Vt, DType::kF32, a.dv, keys), P, m, nullptr, C, *s.mm, slot);
  for (int t = 0; t < m; ++t) std::copy(C + int64_t(t) * a.dv, C + int64_t(t + 1) * a.dv, j.context + t * vw + vo);
}

// Part p takes heads p, p + parts, ... with scratch slot p.
void heads_part(void* p, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<AttendJob*>(p);
  for (size_t h = part; h < size_t(j.a->heads); h += j.parts) attend_head(j, int(h), part);
}

bool head_path(const AttendShape& a, const AttendScratch& s) {
  return a.queries >= kHeadPathQueries && s.mm != nullptr && s.mm->engine == MatmulEngine::kXnnpack;
}

}  // namespace

void plan_attend(ArenaPlan& plan, AttendScratch& s, uint64_t positions, int block, int head_dim, int threads,
                 MatmulScratch& mm) {
  // The encoder's and the decoder's layers share this scratch: the rows are as long as the longest
  // request (a shorter stride would let one thread's scores run into the next thread's row).
  s.stride = std::max(s.stride, size_t(positions));
  plan.scratch(&s.scores, uint64_t(threads) * s.stride);
  if (mm.engine != MatmulEngine::kXnnpack || block < kHeadPathQueries) return;
  const int chunk = int(std::clamp<uint64_t>(kProbFloats / std::max<uint64_t>(positions, 1),
                                             uint64_t(kHeadPathQueries), uint64_t(block)));
  s.chunk = s.chunk == 0 ? chunk : std::min(s.chunk, chunk);
  s.keys = std::max(s.keys, size_t(positions));
  s.head = std::max(s.head, size_t(head_dim));
  const uint64_t t = uint64_t(threads), keys = s.keys, head = s.head, c = uint64_t(s.chunk);
  plan.scratch(&s.head_keys, t * keys * head);
  plan.scratch(&s.head_values_t, t * head * keys);
  plan.scratch(&s.head_queries, t * c * head);
  plan.scratch(&s.probs, t * c * keys);
  plan.scratch(&s.head_context, t * c * head);
  s.mm = &mm;
  plan_matmul(plan, mm, keys, head, threads);  // scores
  plan_matmul(plan, mm, head, keys, threads);  // context
}

void attend(const float* q, const AttendShape& a, const KVCache& cache, const AttendScratch& s, float* context,
            const ThreadPool& pool) {
  if (head_path(a, s)) {
    const int64_t kw = int64_t(a.heads) * a.dk, vw = int64_t(a.heads) * a.dv;
    for (int t0 = 0; t0 < a.queries; t0 += s.chunk) {
      AttendShape part = a;
      part.queries = std::min(s.chunk, a.queries - t0);
      if (a.causal) part.visible = a.visible + t0;
      AttendJob job{q + t0 * kw, &part, &cache, &s, context + t0 * vw, std::min<size_t>(pool.threads(), size_t(a.heads))};
      pool.parallel_for(job.parts, 1, heads_part, &job);
    }
    return;
  }
  const uint64_t longest = uint64_t(a.causal ? a.visible + a.queries - 1 : a.visible);
  const uint64_t work = uint64_t(a.queries) * uint64_t(a.heads) * longest * uint64_t(a.dk + a.dv);
  AttendJob job{q, &a, &cache, &s, context, work < kSerialWork ? 1 : pool.threads()};
  pool.parallel_for(job.parts, 1, attend_part, &job);
}

}  // namespace terra
