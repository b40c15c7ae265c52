#include "bench/bandwidth_probe.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "platform.h"

namespace terra {

namespace {

// 64-byte vectors of 64-bit words: compilers emit the widest loads the target has (AVX2 /
// AVX-512 through the clone below, NEON on ARM); XOR keeps the loop free of float rules.
typedef uint64_t Block __attribute__((vector_size(64)));

#if defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
uint64_t xor_reduce(const Block* p, size_t n) {
  Block a = {}, b = {}, c = {}, d = {};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a ^= p[i];
    b ^= p[i + 1];
    c ^= p[i + 2];
    d ^= p[i + 3];
  }
  for (; i < n; ++i) a ^= p[i];
  const Block r = a ^ b ^ c ^ d;
  uint64_t out = 0;
  for (int k = 0; k < 8; ++k) out ^= r[k];
  return out;
}

struct Job {
  const Block* data;
  size_t blocks;
  uint64_t sink[256];
};

void read_chunks(void* p, size_t begin, size_t end) {
  auto& j = *static_cast<Job*>(p);
  // Tiles of 1 MiB: each call streams one contiguous run.
  for (size_t t = begin; t < end; ++t) {
    const size_t per = (size_t(1) << 20) / sizeof(Block);
    const size_t first = t * per, count = std::min(per, j.blocks - first);
    j.sink[t % 256] ^= xor_reduce(j.data + first, count);
  }
}

}  // namespace

Result<BandwidthResult> measure_read_bandwidth(const ThreadPool& pool, size_t bytes, int passes) {
  bytes = bytes / (size_t(1) << 20) * (size_t(1) << 20);
  if (bytes == 0 || passes < 1) return Status::Error(ErrorCode::kInvalidArgument, "bandwidth probe: nothing to read");
  void* mem = std::aligned_alloc(64, bytes);
  if (mem == nullptr) {
    return Status::Error(ErrorCode::kOutOfMemory, "bandwidth probe: cannot allocate " + std::to_string(bytes) + " bytes");
  }
  std::memset(mem, 0x5a, bytes);  // fault every page in before timing
  Job job{static_cast<const Block*>(mem), bytes / sizeof(Block), {}};
  const size_t tiles = bytes >> 20;
  std::vector<double> gbps;
  for (int i = 0; i < passes; ++i) {
    const double t0 = platform::monotonic_seconds();
    pool.parallel_for(tiles, 1, read_chunks, &job);
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
