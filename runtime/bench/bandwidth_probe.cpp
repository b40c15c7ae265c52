#include "bench/bandwidth_probe.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/kernel_set.h"
#include "platform.h"

namespace terra {

namespace {

struct Job {
  const float* data;
  size_t rows;    // of 1024 floats
  size_t parts;   // one contiguous range per thread: interleaved tiles measured slower here
  float x[1024];  // stays in L1: only the buffer streams from memory
  float sink[256];
};

// Read as decoding reads weight rows: dot products of 4 KiB rows with a vector, through the
// kernel set decoding uses.
void read_part(void* p, size_t part, size_t /*end*/) {
  auto& j = *static_cast<Job*>(p);
  const KernelSet& k = kernels();
  const size_t begin = j.rows * part / j.parts, end = j.rows * (part + 1) / j.parts;
  float s = 0;
  for (size_t r = begin; r < end; ++r) s += k.dot_f32(j.data + r * 1024, j.x, 1024);
  j.sink[part % 256] += s;
}

}  // namespace

Result<BandwidthResult> measure_read_bandwidth(const ThreadPool& pool, size_t bytes, int passes) {
  bytes = bytes / (size_t(1) << 20) * (size_t(1) << 20);
  if (bytes == 0 || passes < 1) return Status::Error(ErrorCode::kInvalidArgument, "bandwidth probe: nothing to read");
  void* mem = std::aligned_alloc(64, bytes);
  if (mem == nullptr) {
    return Status::Error(ErrorCode::kOutOfMemory, "bandwidth probe: cannot allocate " + std::to_string(bytes) + " bytes");
  }
  std::memset(mem, 0, bytes);  // fault every page in before timing
  Job job{static_cast<const float*>(mem), bytes / 4096, pool.threads(), {}, {}};
  std::vector<double> gbps;
  for (int i = 0; i < passes; ++i) {
    const double t0 = platform::monotonic_seconds();
    pool.parallel_for(job.parts, 1, read_part, &job);
    const double dt = platform::monotonic_seconds() - t0;
    gbps.push_back(double(bytes) / dt / 1e9);
  }
  std::free(mem);
  std::sort(gbps.begin(), gbps.end());
  BandwidthResult r;
  r.best_gbps = gbps.back();
  r.median_gbps = gbps[gbps.size() / 2];
  return r;
}

}  // namespace terra
