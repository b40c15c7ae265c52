// Kernels against straightforward double-precision loops, f16 conversions exhaustively, and
// the threaded matvec against the single-threaded one.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "kernels/kernel_set.h"
#include "kernels/matvec.h"
#include "kernels/vector_ops.h"

using namespace terra;

TEST_CASE("half conversion round-trips every f16 value", "[kernels]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(uint16_t(h));
    if (std::isnan(f)) {
      CHECK(std::isnan(half_to_float(float_to_half(f))));
      continue;
    }
    INFO("half bits " << h);
    REQUIRE(float_to_half(f) == uint16_t(h));
  }
}

TEST_CASE("float to half rounds to nearest even", "[kernels]") {
  CHECK(half_to_float(float_to_half(1.0f)) == 1.0f);
  CHECK(half_to_float(float_to_half(65504.0f)) == 65504.0f);
  CHECK(std::isinf(half_to_float(float_to_half(65520.0f))));   // halfway to the next: rounds up to inf
  CHECK(half_to_float(float_to_half(1.0f + 1.0f / 2048)) == 1.0f);  // tie goes to even
  CHECK(half_to_float(float_to_half(1.0f + 3.0f / 2048)) == 1.0f + 2.0f / 1024);
  CHECK(half_to_float(float_to_half(5.96046448e-8f)) == 5.96046448e-8f);  // smallest subnormal
  CHECK(half_to_float(float_to_half(2.0e-8f)) == 0.0f);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-100, 100);
  for (int i = 0; i < 10000; ++i) {
    const float x = u(rng);
    CHECK(std::fabs(half_to_float(float_to_half(x)) - x) <= std::fabs(x) * (1.0f / 2048) + 1e-7f);
  }
}

namespace {
std::vector<float> random_vector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}
}  // namespace

TEST_CASE("every kernel set matches double precision and the scalar path", "[kernels]") {
  const auto sets = available_kernel_sets();
  REQUIRE(std::string(sets.front()->name) == "scalar");
  for (const KernelSet* k : sets) {
    INFO("kernel set " << k->name);
    for (size_t n : {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100, 1000, 1024}) {
      INFO("n = " << n);
      auto a = random_vector(n * 4, unsigned(n)), x = random_vector(n, unsigned(n) + 1);
      std::vector<uint16_t> ah(a.size());
      for (size_t i = 0; i < a.size(); ++i) ah[i] = float_to_half(a[i]);
      float four[4], four_h[4];
      k->dot4_f32(a.data(), n, x.data(), n, four);
      k->dot4_f16(ah.data(), n, x.data(), n, four_h);
      for (size_t r = 0; r < 4; ++r) {
        double want = 0, want_h = 0, mag = 0;
        for (size_t i = 0; i < n; ++i) {
          want += double(a[r * n + i]) * x[i];
          want_h += double(half_to_float(ah[r * n + i])) * x[i];
          mag += std::fabs(double(a[r * n + i]) * x[i]);
        }
        const double tol = 2e-6 * mag + 1e-6;
        CHECK(std::fabs(k->dot_f32(a.data() + r * n, x.data(), n) - want) <= tol);
        CHECK(std::fabs(k->dot_f16(ah.data() + r * n, x.data(), n) - want_h) <= tol);
        CHECK(std::fabs(four[r] - want) <= tol);
        CHECK(std::fabs(four_h[r] - want_h) <= tol);
      }
      double want_sum = 0, mag_sum = 0;
      for (size_t i = 0; i < n; ++i) want_sum += a[i], mag_sum += std::fabs(a[i]);
      CHECK(std::fabs(k->sum_f32(a.data(), n) - want_sum) <= 2e-6 * mag_sum + 1e-6);
      std::vector<float> y(n, 0.5f), y_h(n, 0.5f);
      k->axpy_f32(-1.5f, a.data(), y.data(), n);
      k->axpy_f16(2.0f, ah.data(), y_h.data(), n);
      for (size_t i = 0; i < n; ++i) {
        CHECK(std::fabs(y[i] - (0.5f - 1.5f * a[i])) <= 1e-6f * (1 + std::fabs(a[i])));
        CHECK(std::fabs(y_h[i] - (0.5f + 2.0f * half_to_float(ah[i]))) <= 1e-6f * (1 + std::fabs(a[i])));
      }
    }
  }
  std::printf("kernel sets tested:");
  for (const KernelSet* k : sets) std::printf(" %s", k->name);
  std::printf(" (in use: %s)\n", kernels().name);
}

TEST_CASE("matvec on 1 and 2 threads equals the row-by-row dot products", "[kernels]") {
  const int64_t rows = 203, cols = 77;
  auto w = random_vector(size_t(rows * cols), 3), x = random_vector(size_t(cols), 4), bias = random_vector(size_t(rows), 5);
  MatrixRef m{w.data(), DType::kF32, rows, cols};
  ThreadPool one(1), two(2);
  std::vector<float> y1(static_cast<size_t>(rows)), y2(static_cast<size_t>(rows));
  matvec(m, x.data(), bias.data(), y1.data(), one);
  matvec(m, x.data(), bias.data(), y2.data(), two);
  for (int64_t r = 0; r < rows; ++r) {
    double want = bias[size_t(r)];
    for (int64_t c = 0; c < cols; ++c) want += double(w[size_t(r * cols + c)]) * x[size_t(c)];
    REQUIRE(y1[size_t(r)] == y2[size_t(r)]);  // same row code, whichever thread runs it
    REQUIRE(std::fabs(y1[size_t(r)] - want) <= 1e-4);
  }
}

TEST_CASE("layer norm centered and RMS", "[kernels]") {
  const size_t n = 50;
  auto x = random_vector(n, 6), scale = random_vector(n, 7), bias = random_vector(n, 8);
  std::vector<float> out(n);
  double mean = 0, var = 0, ms = 0;
  for (float v : x) mean += v;
  mean /= n;
  for (float v : x) {
    var += (v - mean) * (v - mean);
    ms += double(v) * v;
  }
  var /= n;
  ms /= n;
  layer_norm(x.data(), scale.data(), bias.data(), 1e-6f, n, out.data());
  for (size_t i = 0; i < n; ++i) {
    CHECK(std::fabs(out[i] - ((x[i] - mean) / std::sqrt(var + 1e-6) * scale[i] + bias[i])) < 1e-5);
  }
  layer_norm(x.data(), scale.data(), nullptr, 1e-6f, n, out.data());
  for (size_t i = 0; i < n; ++i) CHECK(std::fabs(out[i] - x[i] / std::sqrt(ms + 1e-6) * scale[i]) < 1e-5);
}

TEST_CASE("softmax sums to one and survives large logits", "[kernels]") {
  std::vector<float> x{1000.f, 999.f, -1000.f, 0.f};
  softmax_inplace(x.data(), x.size());
  CHECK(std::fabs(x[0] + x[1] + x[2] + x[3] - 1.0f) < 1e-6f);
  CHECK(std::fabs(x[0] / x[1] - std::exp(1.0f)) < 1e-4f);
  CHECK(x[2] == 0.0f);
}
