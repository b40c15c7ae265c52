// The threads a session computes with: a thin owner of a pthreadpool (the same pool type XNNPACK
// takes), so kernels split rows across threads without creating any per call.
#pragma once

#include <cstddef>
#include <functional>

struct pthreadpool;

namespace terra {

class ThreadPool {
 public:
  // pin: each thread (the caller's included, it computes too) is pinned to one of
  // platform::performance_cpus(), the big cores first.
  explicit ThreadPool(size_t threads, bool pin = false);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t threads() const { return threads_; }
  size_t pinned() const { return pinned_; }  // threads the OS let us pin
  pthreadpool* handle() const { return pool_; }

  // Calls fn(ctx, begin, end) over [0, n) in tiles of `tile`, spread over the threads.
  using RangeFn = void (*)(void* ctx, size_t begin, size_t end);
  void parallel_for(size_t n, size_t tile, RangeFn fn, void* ctx) const;

 private:
  size_t threads_;
  size_t pinned_ = 0;
  pthreadpool* pool_ = nullptr;  // null: run on the calling thread
};

}  // namespace terra
