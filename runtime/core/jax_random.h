// JAX's default random numbers (threefry2x32), reproduced so that terra computes what a trax layer
// drew with jax.random: LSH attention's random rotations are normal(key, shape) from a key in the
// layer's state (docs/lsh-attention-notes.md, "The JAX PRNG"). The converter draws fixed-shape
// rotations once; the runtime draws them per call when trax derives the bucket count from the
// length (docs/lsh-attention.md), so normal_into allocates nothing. Original (non-partitionable)
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
void normal_into(const Key& key, size_t n, float* out);  // the same n values, into out

// A key stored in a model file's f32 tensor as four 16-bit halves (high and low of each word; every
// one exact in f32), and back.
void key_to_halves(const Key& key, float* halves);
Key key_from_halves(const float* halves);

// XLA's float32 inverse error function (M. Giles' polynomial), as jax.random.normal computes it.
float erfinv(float x);

}  // namespace terra::jax
