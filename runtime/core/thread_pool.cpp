#include "core/thread_pool.h"

#include <pthreadpool.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "platform.h"

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

// Pins every pool thread once: each task waits until all have started, so no thread takes
// two (a fast thread would otherwise steal a slow one's task). Gives up waiting after a second.
struct PinJob {
  const std::vector<int>* cpus;
  size_t threads;
  std::atomic<size_t> arrived{0};
  std::atomic<size_t> pinned{0};
};
void pin_one(void* p, size_t i) {
  auto* job = static_cast<PinJob*>(p);
  job->arrived.fetch_add(1);
  const double give_up = platform::monotonic_seconds() + 1.0;
  while (job->arrived.load() < job->threads && platform::monotonic_seconds() < give_up) {
  }
  if (platform::pin_current_thread((*job->cpus)[i % job->cpus->size()])) job->pinned.fetch_add(1);
}
}  // namespace

ThreadPool::ThreadPool(size_t threads, bool pin) : threads_(std::max<size_t>(1, threads)) {
  if (threads_ > 1) pool_ = pthreadpool_create(threads_);
  if (pool_ == nullptr) threads_ = 1;
  if (!pin) return;
  const std::vector<int> cpus = platform::performance_cpus();
  PinJob job;
  job.cpus = &cpus;
  job.threads = threads_;
  if (pool_ == nullptr) {
    pin_one(&job, 0);
  } else {
    pthreadpool_parallelize_1d(pool_, pin_one, &job, threads_, 0);
  }
  pinned_ = job.pinned.load();
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
