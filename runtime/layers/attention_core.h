// Scaled dot-product attention over cached keys and values, per head:
// context_h = softmax(q_h k_hᵀ / sqrt(dk)) v_h. Shared by every attention kind: causal (a prompt's
// queries each see the positions up to their own) and the encoder's full attention.
#pragma once

#include <cstddef>

#include "core/arena_plan.h"
#include "core/thread_pool.h"

namespace terra {

struct KVCache {
  float* k = nullptr;  // [capacity, heads * dk]: row t is the key of position t
  float* v = nullptr;  // [capacity, heads * dv]
};

// `queries` consecutive query rows (heads * dk floats each). Query t attends over key rows
// [0, visible + t) when causal, [0, visible) otherwise; head h reads q and keys at
// [h*dk, (h+1)*dk), values at [h*dv, (h+1)*dv), and writes its context there.
struct AttendShape {
  int queries = 1;
  int visible = 0;
  bool causal = true;
  int heads = 1, dk = 0, dv = 0;
};

// Scores of one (query, head) pair at a time, one row per thread.
struct AttendScratch {
  float* scores = nullptr;  // [threads, stride]
  size_t stride = 0;        // the longest row: the planned positions
};

void plan_attend(ArenaPlan& plan, AttendScratch& s, uint64_t positions, int threads);

// The (query, head) pairs are dealt round-robin to the pool's threads (a causal prompt's later
// queries cost more: dealing keeps the shares even); a small total runs on the calling thread.
void attend(const float* q, const AttendShape& a, const KVCache& cache, const AttendScratch& s, float* context,
            const ThreadPool& pool);

}  // namespace terra
