// Scaled dot-product attention over cached keys and values, per head:
// context_h = softmax(q_h k_hᵀ / sqrt(dk)) v_h. Shared by every attention kind: causal (a prompt's
// queries each see the positions up to their own) and the encoder's full attention.
#pragma once

#include <cstddef>

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"

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

struct AttendScratch {
  // Pairs: the scores of one (query, head) pair at a time, one row per thread.
  float* scores = nullptr;  // [threads, stride]
  size_t stride = 0;        // the longest row: the planned positions
  // Heads (a block of queries, XNNPACK engine): per thread, one head's keys and transposed values
  // as the weights of two products, its queries, their probabilities and its context rows.
  int chunk = 0;            // queries per pass
  size_t keys = 0;          // the most keys a query sees
  size_t head = 0;          // max(dk, dv)
  float* head_keys = nullptr;      // [threads, keys, head]
  float* head_values_t = nullptr;  // [threads, head, keys]
  float* head_queries = nullptr;   // [threads, chunk, head]
  float* probs = nullptr;          // [threads, chunk, keys]
  float* head_context = nullptr;   // [threads, chunk, head]
  const MatmulScratch* mm = nullptr;
};

// positions: the most keys; block: the most queries one call gets; head_dim: max(dk, dv). The
// encoder's and decoder's layers share one AttendScratch: each call plans for the largest.
void plan_attend(ArenaPlan& plan, AttendScratch& s, uint64_t positions, int block, int head_dim, int threads,
                 MatmulScratch& mm);

// A block of queries on the XNNPACK engine runs head by head: scores = Q_h K_hᵀ and context =
// P_h V_h are two products (matmul_tokens_serial), heads dealt to the threads. Otherwise the
// (query, head) pairs are dealt round-robin to the pool's threads (a causal prompt's later queries
// cost more: dealing keeps the shares even); a small total runs on the calling thread.
void attend(const float* q, const AttendShape& a, const KVCache& cache, const AttendScratch& s, float* context,
            const ThreadPool& pool);

}  // namespace terra
