// The threads a session computes with. A dispatch hands out tiles through one atomic counter; the
// calling thread takes tiles too and then waits only for the tiles others took. A worker that has
// not woken yet (its core busy with other work, as on a phone) is never waited for: the caller and
// the awake workers finish the job without it. pthreadpool, which this replaces, waits for every
// thread at every dispatch: with two busy loops in other sessions on this 2-core machine, its
// 2-thread decoding of the 800M baseline took 444 ms per token against 172 on one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

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
  // Times the calling thread found itself short of processor time and ran alone a while
  // (thread_pool.cpp: "Sharing the cores").
  uint64_t solo_periods() const { return solo_periods_.load(std::memory_order_relaxed); }

  // Calls fn(ctx, begin, end) over [0, n) in tiles of `tile` (begin is a multiple of it), spread
  // over the threads; returns when every tile has run. One dispatch at a time per pool: fn must not
  // call parallel_for on the same pool, and must not throw.
  using RangeFn = void (*)(void* ctx, size_t begin, size_t end);
  void parallel_for(size_t n, size_t tile, RangeFn fn, void* ctx) const;

 private:
  struct Job {
    RangeFn fn = nullptr;
    void* ctx = nullptr;
    size_t n = 0, tile = 1;
  };
  void worker(size_t index);
  // Takes tiles of the job published in `work` until none is left; a newer job found meanwhile is
  // joined. Returns the last word seen.
  uint64_t run_tiles(uint64_t work) const;

  size_t threads_;
  size_t pinned_ = 0;
  std::vector<int> pin_cpus_;  // when pinning: thread i goes to pin_cpus_[i]
  std::vector<std::thread> workers_;

  // work_ packs (generation, tiles, next tile): a claim is one compare-and-swap on it, and a claim
  // of a finished or older job fails. job_ is written before its generation is published and read
  // only after a successful claim.
  mutable Job job_;
  alignas(64) mutable std::atomic<uint64_t> work_{0};
  alignas(64) mutable std::atomic<uint64_t> done_{0};  // tiles of the current job finished
  alignas(64) mutable std::atomic<size_t> sleeping_{0};
  mutable std::mutex sleep_mutex_;
  mutable std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  // The calling thread's watch of its processor share (thread_pool.cpp: "Sharing the cores").
  struct Share {
    std::thread::id caller;
    double window_start = 0, wait_start = 0;
    double solo_until = 0, solo_seconds = 0;
  };
  bool share_ok() const;  // false: run this dispatch on the calling thread alone
  mutable Share share_;
  mutable std::atomic<uint64_t> solo_periods_{0};
  std::atomic<size_t> started_{0}, pinned_workers_{0};
};

}  // namespace terra
