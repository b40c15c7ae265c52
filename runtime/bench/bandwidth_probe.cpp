#include "bench/bandwidth_probe.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/kernel_set.h"
#include "platform/platform.h"

namespace terra {

namespace {

struct Job {
  const float* data;
  size_t floats;
  size_t parts;  // one contiguous range per thread: interleaved tiles measured slower here
  float sink[256];
};

void read_part(void* p, size_t part, size_t /*end*/) {
  auto& j = *static_cast<Job*>(p);
  const size_t begin = j.floats * part / j.parts, end = j.floats * (part + 1) / j.parts;
  j.sink[part % 256] += kernels().sum_f32(j.data + begin, end - begin);
}

}  // namespace

Result<std::unique_ptr<BandwidthProbe>> BandwidthProbe::create(const ThreadPool& pool, size_t bytes) {
  bytes = bytes / (size_t(1) << 20) * (size_t(1) << 20);
  if (bytes == 0) return Status::Error(ErrorCode::kInvalidArgument, "bandwidth probe: nothing to read");
  auto* mem = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (mem == nullptr) {
    return Status::Error(ErrorCode::kOutOfMemory, "bandwidth probe: cannot allocate " + std::to_string(bytes) + " bytes");
  }
  std::memset(mem, 0, bytes);  // fault every page in before timing
  return std::unique_ptr<BandwidthProbe>(new BandwidthProbe(pool, mem, bytes));
}

BandwidthProbe::~BandwidthProbe() { std::free(data_); }

double BandwidthProbe::measure(int passes) const {
  Job job{data_, bytes_ / sizeof(float), pool_.threads(), {}};
  double best = 0;
  for (int i = 0; i < passes; ++i) {
    const double t0 = platform::monotonic_seconds();
    pool_.parallel_for(job.parts, 1, read_part, &job);
    const double dt = platform::monotonic_seconds() - t0;
    best = std::max(best, double(bytes_) / dt / 1e9);
  }
  return best;
}

}  // namespace terra
