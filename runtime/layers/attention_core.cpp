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

}  // namespace

void plan_attend(ArenaPlan& plan, AttendScratch& s, uint64_t positions, int threads) {
  // The encoder's and the decoder's layers share this scratch: the rows are as long as the longest
  // request (a shorter stride would let one thread's scores run into the next thread's row).
  s.stride = std::max(s.stride, size_t(positions));
  plan.scratch(&s.scores, uint64_t(threads) * s.stride);
}

void attend(const float* q, const AttendShape& a, const KVCache& cache, const AttendScratch& s, float* context,
            const ThreadPool& pool) {
  const uint64_t longest = uint64_t(a.causal ? a.visible + a.queries - 1 : a.visible);
  const uint64_t work = uint64_t(a.queries) * uint64_t(a.heads) * longest * uint64_t(a.dk + a.dv);
  AttendJob job{q, &a, &cache, &s, context, work < kSerialWork ? 1 : pool.threads()};
  pool.parallel_for(job.parts, 1, attend_part, &job);
}

}  // namespace terra
