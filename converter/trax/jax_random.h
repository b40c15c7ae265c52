// JAX's default random numbers (threefry2x32), reproduced so the converter can compute what a trax
// layer drew with jax.random: LSH attention's random rotations are normal(key, shape) from a key in
// the layer's state (docs/lsh-attention-notes.md, "The JAX PRNG"). Original (non-partitionable)
// bit generation, the mode trax's checkpoints were made with. Checked against JAX's published
// known-answer values in tests/test_jax_random.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace terra::jax {

using Key = std::array<uint32_t, 2>;

// The Threefry-2x32 block function, 20 rounds (Salmon et al., SC'11): one pair of counters.
std::array<uint32_t, 2> threefry2x32(const Key& key, uint32_t x0, uint32_t x1);

// jax.random.PRNGKey(seed) with 64-bit integers off (the seed taken as an int32).
Key prng_key(int64_t seed);
// jax.random.split(key, n) and fold_in(key, data).
std::vector<Key> split(const Key& key, size_t n);
Key fold_in(const Key& key, uint32_t data);

// jax.random.bits(key, (n,), uint32), uniform(key, (n,), float32, lo, hi) and normal(key, (n,)),
// in the flat C order of any shape with n elements.
std::vector<uint32_t> random_bits(const Key& key, size_t n);
std::vector<float> uniform(const Key& key, size_t n, float lo, float hi);
std::vector<float> normal(const Key& key, size_t n);

// XLA's float32 inverse error function (M. Giles' polynomial), as jax.random.normal computes it.
float erfinv(float x);

}  // namespace terra::jax
