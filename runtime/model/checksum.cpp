#include "model/checksum.h"

#include <cstring>

namespace terra {

// Four independent lanes of multiply-rotate over 8-byte words (the shape of xxHash64, not
// its constants or output): several GB/s, and any changed byte changes the result.
uint64_t checksum64(const void* data, size_t bytes) {
  constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull, kPrime2 = 0xC2B2AE3D27D4EB4Full;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  auto mix = [&](uint64_t acc, uint64_t word) { return rotl(acc + word * kPrime2, 31) * kPrime1; };
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t lane[4] = {kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1};
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      lane[l] = mix(lane[l], w);
    }
  }
  uint64_t h = rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + uint64_t(bytes);
  for (; i < bytes; ++i) h = rotl(h ^ (p[i] * kPrime1), 11) * kPrime2;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  return h;
}

}  // namespace terra
