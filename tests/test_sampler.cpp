// Sampling: greedy is the first argmax, top-k/top-p restrict the candidates, the seed makes a
// run repeatable, and the frequencies follow softmax(logits / T).
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <vector>

#include "sampler/sampler.h"

using namespace terra;

TEST_CASE("greedy picks the first maximum", "[sampler]") {
  auto s = Sampler::create(5, {0.0f, 0, 1.0f, 0});
  REQUIRE(s.ok());
  const float logits[] = {1, 3, 2, 3, -1};
  CHECK(s.value()->sample(logits) == 1);
}

TEST_CASE("top-k 1 and a tiny top-p are greedy", "[sampler]") {
  const float logits[] = {0.5f, 0.1f, 2.0f, 1.9f};
  auto k1 = Sampler::create(4, {1.5f, 1, 1.0f, 9});
  auto p = Sampler::create(4, {1.0f, 0, 1e-6f, 9});
  for (int i = 0; i < 50; ++i) {
    CHECK(k1.value()->sample(logits) == 2);
    CHECK(p.value()->sample(logits) == 2);
  }
}

TEST_CASE("top-k keeps only the k best tokens", "[sampler]") {
  const float logits[] = {0.f, 5.f, 0.f, 4.9f, 0.f, 4.8f};
  auto s = Sampler::create(6, {5.0f, 2, 1.0f, 1});
  for (int i = 0; i < 200; ++i) {
    const int t = s.value()->sample(logits);
    CHECK((t == 1 || t == 3));
  }
}

TEST_CASE("frequencies follow the tempered softmax; the same seed repeats", "[sampler]") {
  const float logits[] = {0.0f, 1.0f, 2.0f};
  const float T = 2.0f;
  auto a = Sampler::create(3, {T, 0, 1.0f, 42});
  auto b = Sampler::create(3, {T, 0, 1.0f, 42});
  std::map<int, int> count;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const int t = a.value()->sample(logits);
    REQUIRE(t == b.value()->sample(logits));
    ++count[t];
  }
  double z = 0;
  for (float l : logits) z += std::exp(l / T);
  for (int t = 0; t < 3; ++t) {
    const double p = std::exp(logits[t] / T) / z;
    CHECK(std::fabs(double(count[t]) / n - p) < 0.015);
  }
}

TEST_CASE("bad sampling options are named", "[sampler]") {
  CHECK_THAT(Sampler::create(3, {-1.0f, 0, 1.0f, 0}).status().message(), Catch::Contains("temperature"));
  CHECK_THAT(Sampler::create(3, {NAN, 0, 1.0f, 0}).status().message(), Catch::Contains("temperature"));
  CHECK_THAT(Sampler::create(3, {1.0f, -2, 1.0f, 0}).status().message(), Catch::Contains("top-k"));
  CHECK_THAT(Sampler::create(3, {1.0f, 0, 0.0f, 0}).status().message(), Catch::Contains("top-p"));
  CHECK_THAT(Sampler::create(3, {1.0f, 0, 1.5f, 0}).status().message(), Catch::Contains("top-p"));
}

TEST_CASE("a tiny temperature samples the maximum and NaN logits do not break sampling", "[sampler]") {
  const float logits[] = {0.5f, 2.0f, 1.9f, -3.0f};
  auto tiny = Sampler::create(4, {1e-39f, 0, 1.0f, 5});
  for (int i = 0; i < 20; ++i) CHECK(tiny.value()->sample(logits) == 1);
  const float with_nan[] = {NAN, 1.0f, NAN, 0.0f};
  auto s = Sampler::create(4, {1.0f, 0, 0.9f, 5});
  for (int i = 0; i < 50; ++i) {
    const int t = s.value()->sample(with_nan);
    CHECK((t == 1 || t == 3));
  }
  const float all_nan[] = {NAN, NAN};
  auto s2 = Sampler::create(2, {1.0f, 1, 1.0f, 5});
  const int t = s2.value()->sample(all_nan);
  CHECK((t == 0 || t == 1));
}
