// core/jax_random against values JAX published, not values this code produced:
// Random123's Threefry-2x32 known answers and JAX's own expected outputs, with where each comes from
// (docs/lsh-attention-notes.md, "Known-answer values", gives the file and line of each).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/jax_random.h"

using namespace terra::jax;

TEST_CASE("threefry2x32 gives Random123's known answers", "[jax]") {
  // jax tests/random_test.py testThreefry2x32 (the Random123 KAT vectors, 20 rounds).
  CHECK(threefry2x32({0, 0}, 0, 0) == std::array<uint32_t, 2>{0x6b200159u, 0x99ba4efeu});
  CHECK(threefry2x32({0xffffffffu, 0xffffffffu}, 0xffffffffu, 0xffffffffu) ==
        std::array<uint32_t, 2>{0x1cb996fcu, 0xbb002be7u});
  CHECK(threefry2x32({0x13198a2eu, 0x03707344u}, 0x243f6a88u, 0x85a308d3u) ==
        std::array<uint32_t, 2>{0xc4923a9cu, 0x483df7a0u});
}

TEST_CASE("keys, split, fold_in and bits match JAX's expected values", "[jax]") {
  // random_test.py test_prng_seeds_and_keys (64-bit integers off).
  CHECK(prng_key(0) == Key{0, 0});
  CHECK(prng_key(1) == Key{0, 1});
  CHECK(prng_key(-1) == Key{0, 4294967295u});
  CHECK(prng_key(2147483747) == Key{0, 2147483747u});
  // random_test.py testPRNGValues: split(PRNGKey(0), 4) and fold_in(PRNGKey(0), 4).
  const std::vector<Key> four = split(prng_key(0), 4);
  REQUIRE(four.size() == 4);
  CHECK(four[0] == Key{2285895361u, 1501764800u});
  CHECK(four[1] == Key{1518642379u, 4090693311u});
  CHECK(four[2] == Key{433833334u, 4221794875u});
  CHECK(four[3] == Key{839183663u, 3740430601u});
  CHECK(fold_in(prng_key(0), 4) == Key{2285895361u, 433833334u});
  // JAX's "Common Gotchas" notebook: split(PRNGKey(0)) and split of its first key.
  const std::vector<Key> two = split(prng_key(0), 2);
  CHECK(two[0] == Key{4146024105u, 967050713u});
  CHECK(two[1] == Key{2718843009u, 1272950319u});
  const std::vector<Key> next = split(two[0], 2);
  CHECK(next[0] == Key{2384771982u, 3928867769u});
  CHECK(next[1] == Key{1278412471u, 2182328957u});
  // random_test.py testRngRandomBits: bits(PRNGKey(1701), (3,), uint32) (an odd count: the counters
  // are padded), and _RANDOM_VALUES_CASES "bits".
  CHECK(random_bits(prng_key(1701), 3) == std::vector<uint32_t>{56197195u, 4200222568u, 961309823u});
  CHECK(random_bits(prng_key(942802475), 5) ==
        std::vector<uint32_t>{1978747883u, 4134381225u, 3628107870u, 689687174u, 2788938207u});
}

namespace {
// JAX printed these to 6-8 significant digits: equal within half a unit of the last digit shown.
void check_printed(const std::vector<float>& got, const std::vector<double>& printed, double half_unit) {
  REQUIRE(got.size() == printed.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": " << got[i] << " vs " << printed[i]);
    CHECK(std::fabs(double(got[i]) - printed[i]) <= half_unit * (1 + 1e-6));
  }
}
}  // namespace

TEST_CASE("uniform and normal match JAX's published samples", "[jax]") {
  // random_test.py _RANDOM_VALUES_CASES (keys PRNGKey(adler32(name + 'threefry2x32'))), 6 decimals.
  check_printed(uniform(prng_key(1338574713), 5, 0.0f, 1.0f), {0.298671, 0.073213, 0.873356, 0.260549, 0.412797},
                5e-7);
  check_printed(normal(prng_key(1193674498), 5), {-1.173234, -1.511662, 0.070593, -0.099764, 1.052845}, 5e-7);
  // The "Common Gotchas" notebook, 8 significant digits.
  check_printed(normal(prng_key(0), 1), {-0.20584226}, 5e-9);
  const std::vector<Key> two = split(prng_key(0), 2);
  check_printed(normal(two[1], 1), {-1.2515389}, 5e-8);
  const std::vector<Key> next = split(two[0], 2);
  check_printed(normal(next[1], 1), {-0.58665055}, 5e-9);
  const std::vector<Key> keys = split(next[0], 4);
  check_printed(normal(keys[1], 1), {-0.37533438}, 5e-9);
  check_printed(normal(keys[2], 1), {0.98645043}, 5e-9);
  check_printed(normal(keys[3], 1), {0.14553197}, 5e-9);
}

TEST_CASE("erfinv is odd, zero at zero and infinite at one", "[jax]") {
  CHECK(erfinv(0.0f) == 0.0f);
  CHECK(erfinv(-0.5f) == -erfinv(0.5f));
  CHECK(std::isinf(erfinv(1.0f)));
  CHECK(erfinv(-1.0f) < 0);
  // erf(erfinv(x)) = x within float rounding over the range the normal samples use.
  for (float x = -0.999f; x < 1.0f; x += 0.0371f) CHECK(std::fabs(std::erf(double(erfinv(x))) - x) <= 2e-6);
}

TEST_CASE("normal_into gives normal's values; keys survive their f32 halves", "[jax]") {
  const Key key = split(prng_key(7), 3)[2];
  for (size_t n : {size_t(1), size_t(2), size_t(7), size_t(64)}) {
    std::vector<float> into(n, -99.0f);
    normal_into(key, n, into.data());
    CHECK(into == normal(key, n));
  }
  for (const Key& k : {Key{0u, 0u}, Key{0xFFFFFFFFu, 0x12345678u}, key}) {
    float halves[4];
    key_to_halves(k, halves);
    CHECK(key_from_halves(halves) == k);
  }
}
