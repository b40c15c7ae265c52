#include "core/jax_random.h"

#include <cmath>
#include <cstring>
#include <limits>

// Compiled with -ffp-contract=off (runtime/CMakeLists.txt): JAX's float steps round one by one,
// and a fused multiply-add would change the normal samples' last bits on FMA targets (AArch64).

namespace terra::jax {

namespace {
uint32_t rotl(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }
}  // namespace

std::array<uint32_t, 2> threefry2x32(const Key& key, uint32_t x0, uint32_t x1) {
  static constexpr int kRotations[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  const uint32_t ks[3] = {key[0], key[1], key[0] ^ key[1] ^ 0x1BD11BDAu};
  x0 += ks[0];
  x1 += ks[1];
  for (uint32_t group = 0; group < 5; ++group) {
    for (int r : kRotations[group % 2]) {
      x0 += x1;
      x1 = rotl(x1, r);
      x1 ^= x0;
    }
    x0 += ks[(group + 1) % 3];
    x1 += ks[(group + 2) % 3] + group + 1;
  }
  return {x0, x1};
}

// The seed is an int32 with 64-bit integers off: its high word is 0 (a logical shift by 32 of a
// 32-bit value) and its low word is its 32 bits, so -1 gives [0, 0xFFFFFFFF].
Key prng_key(int64_t seed) { return {0u, uint32_t(uint64_t(seed))}; }

std::vector<Key> split(const Key& key, size_t n) {
  const std::vector<uint32_t> bits = random_bits(key, 2 * n);  // rows of the [n, 2] reshape
  std::vector<Key> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = {bits[2 * i], bits[2 * i + 1]};
  return keys;
}

Key fold_in(const Key& key, uint32_t data) {
  const auto y = threefry2x32(key, 0, data);
  return {y[0], y[1]};
}

namespace {
// JAX's threefry_2x32 over the counters 0..n-1: split in two halves (an odd count padded with a
// zero), counter i paired with counter i + half; the pair's two words land at i and i + half.
// put(index, word) receives each of the n words.
template <class Put>
void each_random_word(const Key& key, size_t n, Put&& put) {
  const size_t half = (n + 1) / 2;
  for (size_t i = 0; i < half; ++i) {
    const bool paired = i + half < n;
    const auto y = threefry2x32(key, uint32_t(i), paired ? uint32_t(i + half) : 0u);
    put(i, y[0]);
    if (paired) put(i + half, y[1]);
  }
}
}  // namespace

std::vector<uint32_t> random_bits(const Key& key, size_t n) {
  std::vector<uint32_t> bits(n);
  each_random_word(key, n, [&](size_t i, uint32_t w) { bits[i] = w; });
  return bits;
}

namespace {
float uniform_from_bits(uint32_t bits, float lo, float hi) {
  const uint32_t mantissa = (bits >> 9) | 0x3F800000u;  // [1, 2)
  float f;
  std::memcpy(&f, &mantissa, sizeof f);
  f -= 1.0f;
  const float scaled = f * (hi - lo);
  return std::fmax(lo, scaled + lo);
}
}  // namespace

std::vector<float> uniform(const Key& key, size_t n, float lo, float hi) {
  const std::vector<uint32_t> bits = random_bits(key, n);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = uniform_from_bits(bits[i], lo, hi);
  return out;
}

float erfinv(float x) {
  static constexpr float kSmall[9] = {2.81022636e-08f,  3.43273939e-07f, -3.5233877e-06f, -4.39150654e-06f,
                                      0.00021858087f,   -0.00125372503f, -0.00417768164f, 0.246640727f,
                                      1.50140941f};
  static constexpr float kLarge[9] = {-0.000200214257f, 0.000100950558f, 0.00134934322f, -0.00367342844f,
                                      0.00573950773f,   -0.0076224613f,  0.00943887047f, 1.00167406f,
                                      2.83297682f};
  const float xx = x * x;
  float w = -std::log1p(-xx);
  const float* c = kSmall;
  if (w < 5.0f) {
    w = w - 2.5f;
  } else {
    w = std::sqrt(w) - 3.0f;
    c = kLarge;
  }
  // Horner steps fused, as XLA's CPU code runs them (LLVM contracts them into FMAs): checked
  // against the rotations trax drew (tests/data/trax/generated/terraformer_lsh*).
  float p = c[0];
  for (int i = 1; i < 9; ++i) p = std::fma(p, w, c[i]);
  if (std::fabs(x) == 1.0f) return x * std::numeric_limits<float>::infinity();
  return p * x;
}

std::vector<float> normal(const Key& key, size_t n) {
  std::vector<float> out(n);
  normal_into(key, n, out.data());
  return out;
}

void normal_into(const Key& key, size_t n, float* out) {
  // uniform on (nextafter(-1, 0), 1), then sqrt(2) * erfinv: JAX's _normal_real.
  const float lo = std::nextafter(-1.0f, 0.0f), root2 = std::sqrt(2.0f);
  each_random_word(key, n, [&](size_t i, uint32_t w) { out[i] = root2 * erfinv(uniform_from_bits(w, lo, 1.0f)); });
}

void key_to_halves(const Key& key, float* halves) {
  for (int w = 0; w < 2; ++w) {
    halves[2 * w] = float(key[size_t(w)] >> 16);
    halves[2 * w + 1] = float(key[size_t(w)] & 0xFFFFu);
  }
}

Key key_from_halves(const float* halves) {
  Key key{};
  for (int w = 0; w < 2; ++w) {
    // Clamped so a damaged file gives some key, never undefined conversion (the checksum catches it).
    auto half = [](float f) { return f >= 0.0f && f <= 65535.0f ? uint32_t(f) : 0u; };
    key[size_t(w)] = (half(halves[2 * w]) << 16) | half(halves[2 * w + 1]);
  }
  return key;
}

}  // namespace terra::jax
