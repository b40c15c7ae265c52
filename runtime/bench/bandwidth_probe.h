// The machine's read bandwidth, measured the way platform-notes defines it: a plain SIMD sum
// streaming through a buffer far larger than the caches, one contiguous range per thread. It is the
// ceiling `terra bench` compares decoding against. This VM's bandwidth drifts between runs (35 vs
// 55 GB/s minutes apart), so the bench measures it next to every decode repeat, not once.
#pragma once

#include <cstddef>
#include <memory>

#include "core/status.h"
#include "core/thread_pool.h"

namespace terra {

class BandwidthProbe {
 public:
  // Allocates and faults in `bytes` (rounded down to MiB) once; measure() reuses them.
  static Result<std::unique_ptr<BandwidthProbe>> create(const ThreadPool& pool, size_t bytes = size_t(1) << 30);
  ~BandwidthProbe();
  BandwidthProbe(const BandwidthProbe&) = delete;
  BandwidthProbe& operator=(const BandwidthProbe&) = delete;

  // Fastest of `passes` full reads, in GB/s (1e9 bytes).
  double measure(int passes) const;
  size_t bytes() const { return bytes_; }

 private:
  BandwidthProbe(const ThreadPool& pool, float* data, size_t bytes) : pool_(pool), data_(data), bytes_(bytes) {}
  const ThreadPool& pool_;
  float* data_;
  size_t bytes_;
};

}  // namespace terra
