#include "core/thread_pool.h"

#include <pthreadpool.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "platform/platform.h"

// pthreadpool (Debian's build, not instrumented) hands work to its threads through atomics that
// ThreadSanitizer cannot see: tell it that a task starts after its dispatch and that the
// dispatch returns after every task, which is what pthreadpool guarantees.
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define TERRA_TSAN_RELEASE(p) __tsan_release(p)
#define TERRA_TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define TERRA_TSAN_RELEASE(p) ((void)(p))
#define TERRA_TSAN_ACQUIRE(p) ((void)(p))
#endif

namespace terra {

namespace {
struct Job {
  ThreadPool::RangeFn fn;
  void* ctx;
  size_t n;
  char start = 0, done = 0;  // addresses ThreadSanitizer synchronizes on (see above)
};
void run_tile(void* p, size_t begin, size_t count) {
  auto* job = static_cast<Job*>(p);
  TERRA_TSAN_ACQUIRE(&job->start);
  job->fn(job->ctx, begin, std::min(begin + count, job->n));
  TERRA_TSAN_RELEASE(&job->done);
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
  TERRA_TSAN_ACQUIRE(job);
  job->arrived.fetch_add(1);
  const double give_up = platform::monotonic_seconds() + 1.0;
  while (job->arrived.load() < job->threads && platform::monotonic_seconds() < give_up) {
  }
  if (platform::pin_current_thread((*job->cpus)[i % job->cpus->size()])) job->pinned.fetch_add(1);
  TERRA_TSAN_RELEASE(job);
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
    TERRA_TSAN_RELEASE(&job);
    pthreadpool_parallelize_1d(pool_, pin_one, &job, threads_, 0);
    TERRA_TSAN_ACQUIRE(&job);
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
  TERRA_TSAN_RELEASE(&job.start);
  pthreadpool_parallelize_1d_tile_1d(pool_, run_tile, &job, n, tile, 0);
  TERRA_TSAN_ACQUIRE(&job.done);
}

}  // namespace terra
