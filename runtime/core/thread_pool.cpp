#include "core/thread_pool.h"

#include <pthreadpool.h>

#include <algorithm>

namespace terra {

namespace {
struct Job {
  ThreadPool::RangeFn fn;
  void* ctx;
  size_t n;
};
void run_tile(void* p, size_t begin, size_t count) {
  auto* job = static_cast<Job*>(p);
  job->fn(job->ctx, begin, std::min(begin + count, job->n));
}
}  // namespace

ThreadPool::ThreadPool(size_t threads) : threads_(std::max<size_t>(1, threads)) {
  if (threads_ > 1) pool_ = pthreadpool_create(threads_);
  if (pool_ == nullptr) threads_ = 1;
}

ThreadPool::~ThreadPool() {
  if (pool_ != nullptr) pthreadpool_destroy(pool_);
}

void ThreadPool::parallel_for(size_t n, size_t tile, RangeFn fn, void* ctx) const {
  if (pool_ == nullptr || n <= tile) {
    fn(ctx, 0, n);
    return;
  }
  Job job{fn, ctx, n};
  pthreadpool_parallelize_1d_tile_1d(pool_, run_tile, &job, n, tile, 0);
}

}  // namespace terra
