#include "bench/fma_probe.h"

#include <algorithm>
#include <cstdint>

#include "kernels/kernel_set.h"
#include "platform/platform.h"

namespace terra {

namespace {

constexpr size_t kRounds = size_t(1) << 20;  // ~2-5 ms per thread at AVX-512/AVX2 rates

struct Job {
  uint64_t flops[64] = {};
  float sink[64] = {};
};

void burst(void* p, size_t part, size_t /*end*/) {
  auto& j = *static_cast<Job*>(p);
  j.flops[part % 64] += kernels().fma_burst(kRounds, &j.sink[part % 64]);
}

}  // namespace

double measure_fma_peak(const ThreadPool& pool, int passes) {
  double best = 0;
  for (int i = 0; i < passes; ++i) {
    Job job;
    const double t0 = platform::monotonic_seconds();
    pool.parallel_for(pool.threads(), 1, burst, &job);
    const double dt = platform::monotonic_seconds() - t0;
    uint64_t flops = 0;
    for (uint64_t f : job.flops) flops += f;
    best = std::max(best, double(flops) / dt / 1e9);
  }
  return best;
}

}  // namespace terra
