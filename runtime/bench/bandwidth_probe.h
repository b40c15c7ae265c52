// The machine's read bandwidth, measured the way decoding reads weights: threads streaming
// through a buffer far larger than the caches. It is the ceiling `terra bench` compares against.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "core/thread_pool.h"

namespace terra {

struct BandwidthResult {
  double best_gbps = 0;    // fastest of the passes (GB = 1e9 bytes)
  double median_gbps = 0;
};

// Reads `bytes` (default 1 GiB) `passes` times with the pool's threads.
Result<BandwidthResult> measure_read_bandwidth(const ThreadPool& pool, size_t bytes = size_t(1) << 30, int passes = 7);

}  // namespace terra
