#include "core/thread_pool.h"

#include <algorithm>

#include "platform/platform.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TERRA_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define TERRA_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define TERRA_CPU_RELAX() ((void)0)
#endif

namespace terra {

namespace {

// work_ = generation (20 bits) | tiles (22 bits) | next tile (22 bits).
constexpr int kTileBits = 22;
constexpr uint64_t kTileMask = (uint64_t(1) << kTileBits) - 1;
constexpr uint64_t kMaxTiles = kTileMask;
uint64_t generation(uint64_t w) { return w >> (2 * kTileBits); }
uint64_t tiles(uint64_t w) { return (w >> kTileBits) & kTileMask; }
uint64_t next_tile(uint64_t w) { return w & kTileMask; }
uint64_t pack(uint64_t gen, uint64_t count) { return (gen << (2 * kTileBits)) | (count << kTileBits); }

// An idle worker polls for new work this long before it sleeps: a decoding step's dispatches come
// microseconds apart, and waking a sleeping thread costs tens of microseconds.
constexpr double kSpinSeconds = 200e-6;

// Sharing the cores. When other programs keep the cores busy, the OS gives each of the pool's
// threads a slice of a core, and threads that wait for each other at every dispatch lose more than
// the second one brings (measured: 187-219 ms per token on 2 threads against 143-160 ms on 1, with
// two CPU-bound processes in other sessions on a 2-core machine: the process got ~0.6 of a core
// either way). The calling thread watches the time it spends ready to run but without a processor:
// over a window in which that exceeds kMaxWait of the wall time, it computes alone for a while
// (longer after each such window in a row), then tries the workers again.
constexpr double kWindowSeconds = 0.05;
constexpr double kMaxWait = 0.2;
constexpr double kSoloSeconds = 0.25, kMaxSoloSeconds = 2.0;

}  // namespace

ThreadPool::ThreadPool(size_t threads, bool pin) : threads_(std::max<size_t>(1, threads)) {
  if (pin) {
    try {
      pin_cpus_ = platform::performance_cpus();
    } catch (...) {  // no list, no pinning
      pin_cpus_.clear();
    }
  }
  workers_.reserve(threads_ - 1);
  try {
    for (size_t i = 1; i < threads_; ++i) workers_.emplace_back(&ThreadPool::worker, this, i);
  } catch (...) {  // the OS refused a thread: compute with those that started
    threads_ = workers_.size() + 1;
  }
  if (pin) {
    // Pinned after the workers start: a thread inherits its creator's affinity, and a worker
    // confined to the caller's core could not run until the caller yields it.
    if (!pin_cpus_.empty() && platform::pin_current_thread(pin_cpus_[0])) pinned_ = 1;
    // The workers pin themselves as they start; count them (waiting at most a second).
    const double give_up = platform::monotonic_seconds() + 1.0;
    while (started_.load() < workers_.size() && platform::monotonic_seconds() < give_up) std::this_thread::yield();
    pinned_ += pinned_workers_.load();
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

// Guided self-scheduling: each claim takes a share of what is left (half of it split over the
// threads), so a thread reads long contiguous runs of rows (what the hardware prefetcher streams)
// and the shared word changes hands a few dozen times per dispatch, not once per tile (one claim
// per 16-row tile of matvec cost 9% of 800M decoding); the shrinking claims at the end even out.
uint64_t ThreadPool::run_tiles(uint64_t w) const {
  for (;;) {
    if (next_tile(w) >= tiles(w)) return w;
    const uint64_t take = std::max<uint64_t>(1, (tiles(w) - next_tile(w)) / (2 * threads_));
    if (!work_.compare_exchange_weak(w, w + take)) continue;  // w now holds the current word
    for (uint64_t t = next_tile(w); t < next_tile(w) + take; ++t) {
      const size_t begin = size_t(t) * job_.tile;
      job_.fn(job_.ctx, begin, std::min(begin + job_.tile, job_.n));
    }
    done_.fetch_add(take);  // after the tiles' writes and the last read of job_
    w = work_.load();
  }
}

void ThreadPool::worker(size_t index) {
  // A thread beyond the processors allowed stays unpinned: pinned onto another thread's core it
  // would only take turns with it.
  if (index < pin_cpus_.size() && platform::pin_current_thread(pin_cpus_[index])) pinned_workers_.fetch_add(1);
  started_.fetch_add(1);
  uint64_t seen = generation(work_.load());
  while (!stop_.load(std::memory_order_relaxed)) {
    // Poll, then sleep until a new generation is published.
    const double give_up = platform::monotonic_seconds() + kSpinSeconds;
    int polls = 0;
    while (generation(work_.load(std::memory_order_relaxed)) == seen && !stop_.load(std::memory_order_relaxed)) {
      TERRA_CPU_RELAX();
      if (++polls % 64 != 0 || platform::monotonic_seconds() < give_up) continue;
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      sleeping_.fetch_add(1);
      wake_.wait(lock, [&] { return stop_.load() || generation(work_.load()) != seen; });
      sleeping_.fetch_sub(1);
      if (stop_.load()) return;
      break;
    }
    seen = generation(run_tiles(work_.load()));
  }
}

void ThreadPool::parallel_for(size_t n, size_t tile, RangeFn fn, void* ctx) const {
  if (n == 0) return;
  tile = std::max<size_t>(tile, 1);
  if (workers_.empty() || n <= tile) {
    fn(ctx, 0, n);
    return;
  }
  if (!share_ok()) {
    for (size_t b = 0; b < n; b += tile) fn(ctx, b, std::min(b + tile, n));
    return;
  }
  if ((n + tile - 1) / tile > kMaxTiles) {  // larger tiles, still multiples of the caller's
    const size_t least = (n + kMaxTiles - 1) / kMaxTiles;
    tile = (least + tile - 1) / tile * tile;
  }
  job_ = {fn, ctx, n, tile};
  const uint64_t count = (n + tile - 1) / tile;
  const uint64_t gen = generation(work_.load()) + 1;
  const uint64_t w = pack(gen & ((uint64_t(1) << (64 - 2 * kTileBits)) - 1), count);
  done_.store(0);  // no tile of the last job is left to count: all were done before it returned
  work_.store(w);
  if (sleeping_.load() > 0) {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    wake_.notify_all();
  }
  run_tiles(w);
  // Every tile is taken; wait for those still running. A worker that took none is not waited
  // for, even if it woke up and is about to find the job finished.
  for (int polls = 0; done_.load() != count; ++polls) {
    if (polls < 4096) TERRA_CPU_RELAX();
    else std::this_thread::yield();
  }
}

bool ThreadPool::share_ok() const {
  Share& s = share_;
  const double now = platform::monotonic_seconds();
  if (now < s.solo_until) return false;
  // The first window, the first after running alone, or the first of another calling thread (the
  // wait is counted per thread).
  if (s.solo_until > 0 || s.window_start == 0 || s.caller != std::this_thread::get_id()) {
    s.caller = std::this_thread::get_id();
    s.solo_until = 0;
    s.window_start = now;
    s.wait_start = platform::thread_wait_seconds();
    return true;
  }
  if (now - s.window_start < kWindowSeconds) return true;
  const double waited = platform::thread_wait_seconds();
  const bool short_of_cores = s.wait_start >= 0 && waited - s.wait_start > kMaxWait * (now - s.window_start);
  s.window_start = now;
  s.wait_start = waited;
  if (!short_of_cores) {
    s.solo_seconds = 0;
    return true;
  }
  s.solo_seconds = s.solo_seconds == 0 ? kSoloSeconds : std::min(2 * s.solo_seconds, kMaxSoloSeconds);
  s.solo_until = now + s.solo_seconds;
  solo_periods_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace terra
