// Kernels against straightforward double-precision loops, f16 conversions exhaustively, and
// the threaded matvec against the single-threaded one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/quant.h"
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
      // dot2x4_taps over three taps: rows of `a` against rows of `a` shifted by one and by two.
      {
        std::vector<float> xs(a.size());
        for (size_t i = 0; i < xs.size(); ++i) xs[i] = a[(i + n) % a.size()];
        const float* w[6] = {&a[0], &a[n], &a[2 * n], &a[3 * n], &a[n], &a[0]};
        const float* v[12];
        for (int i = 0; i < 12; ++i) v[i] = &xs[((i * 7) % 4) * n];
        float eight[8] = {1, 2, 3, 4, 5, 6, 7, 8};  // accumulated into
        k->dot2x4_taps(w, v, 3, n, eight);
        for (int r = 0; r < 2; ++r) {
          for (int c = 0; c < 4; ++c) {
            double want = 4 * r + c + 1, mag = std::fabs(want);
            for (int t = 0; t < 3; ++t) {
              for (size_t i = 0; i < n; ++i) {
                want += double(w[2 * t + r][i]) * v[4 * t + c][i];
                mag += std::fabs(double(w[2 * t + r][i]) * v[4 * t + c][i]);
              }
            }
            CHECK(std::fabs(eight[4 * r + c] - want) <= 2e-6 * mag + 1e-6);
          }
        }
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

TEST_CASE("the FMA probe's burst counts the multiply-adds it does, in every kernel set", "[kernels]") {
  for (const KernelSet* k : available_kernel_sets()) {
    INFO(k->name);
    float sink = 0;
    const uint64_t once = k->fma_burst(1000, &sink);
    const uint64_t twice = k->fma_burst(2000, &sink);
    REQUIRE(once % 2000 == 0);
    CHECK(twice == 2 * once);
    // Every lane of every chain starts within 1.02 of 1 and moves toward the fixed point c/(1-m) of x*m + c
    // (about 0.987 with m = 0.999999 rounded to a float): each stays within [0.98, 1.02], so does their mean.
    const double lanes = double(once) / 2000;
    CHECK(sink >= 2 * lanes * 0.98);
    CHECK(sink <= 2 * lanes * 1.02);
  }
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

// Quantized rows: every kernel set against double-precision sums over the dequantized weights
// (core/quant.h's rule), and the quantization error itself against its bound.
TEST_CASE("int8 and int4 kernels match the dequantized weights in every kernel set", "[kernels][quant]") {
  for (size_t n : {32, 64, 96, 160, 1024, 4096}) {
    INFO("n = " << n);
    auto w = random_vector(n, unsigned(n) + 7), x = random_vector(n, unsigned(n) + 8);
    std::vector<int8_t> q8(n);
    const float s8 = quantize_row_i8(w.data(), int64_t(n), q8.data());
    std::vector<uint8_t> q4(n / 2);
    std::vector<uint16_t> s4(n / 32);
    quantize_row_i4(w.data(), int64_t(n), q4.data(), s4.data());
    std::vector<double> d8(n), d4(n);
    double want8 = 0, want4 = 0, mag = 0, max_w = 0;
    for (size_t i = 0; i < n; ++i) {
      d8[i] = double(q8[i]) * s8;
      d4[i] = dequant_i4(q4.data(), s4.data(), int64_t(i));
      want8 += d8[i] * x[i];
      want4 += d4[i] * x[i];
      mag += std::fabs(w[i] * x[i]);
      max_w = std::max(max_w, double(std::fabs(w[i])));
      // quantization error: half a step of the row's scale (int8); one step of the block's scale
      // for int4, whose range [-8, 7] clamps the side opposite the largest value
      REQUIRE(std::fabs(d8[i] - w[i]) <= 0.5 * s8 * (1 + 1e-6));
      REQUIRE(std::fabs(d4[i] - w[i]) <= std::fabs(half_to_float(s4[i / 32])) * (1 + 1e-3) + 1e-7);
    }
    for (const KernelSet* k : available_kernel_sets()) {
      INFO("kernel set " << k->name);
      const double tol = 2e-6 * mag + 1e-6;
      CHECK(std::fabs(double(k->dot_i8(q8.data(), x.data(), n)) * s8 - want8) <= tol);
      CHECK(std::fabs(k->dot_i4(q4.data(), s4.data(), x.data(), n) - want4) <= tol);
      std::vector<float> y8(n, 0.25f), y4(n, 0.25f);
      k->axpy_i8(-0.5f * s8, q8.data(), y8.data(), n);
      k->axpy_i4(-0.5f, q4.data(), s4.data(), y4.data(), n);
      for (size_t i = 0; i < n; ++i) {
        REQUIRE(std::fabs(y8[i] - (0.25 - 0.5 * d8[i])) <= 1e-6 * (1 + max_w));
        REQUIRE(std::fabs(y4[i] - (0.25 - 0.5 * d4[i])) <= 1e-6 * (1 + max_w));
      }
    }
  }
}

TEST_CASE("activations quantized per block of 32: the rounding bound, exact integer sums in every kernel set",
          "[kernels][quant]") {
  for (size_t n : {32, 40, 96, 100, 1024, 4096}) {  // int8 rows may end in a partial block
    INFO("n = " << n);
    auto w = random_vector(n, unsigned(n) + 21), x = random_vector(n, unsigned(n) + 22);
    x[n / 2] *= 40;  // one large element: its block's scale, not the others', grows
    std::vector<int8_t> q8(n), xq(n);
    const float s8 = quantize_row_i8(w.data(), int64_t(n), q8.data());
    std::vector<float> xs((n + 31) / 32);
    quantize_q8(x.data(), n, xq.data(), xs.data());
    for (size_t i = 0; i < n; ++i) {  // half a step of the block's scale, within [-127, 127]
      REQUIRE(std::abs(int(xq[i])) <= 127);
      REQUIRE(std::fabs(double(xq[i]) * xs[i / 32] - x[i]) <= 0.5 * xs[i / 32] * (1 + 1e-5));
    }
    // What the integer path must return for a row whose weights dequantize to wi(i): the
    // dequantized weights times the dequantized activations (only float rounding apart), and
    // within sum |w_i| * scale / 2 of the float dot.
    auto check = [&](auto wi, auto kernel) {
      double exact = 0, with_float_x = 0, bound = 0, mag = 0;
      for (size_t i = 0; i < n; ++i) {
        const double xi = double(xq[i]) * xs[i / 32];
        exact += wi(i) * xi;
        with_float_x += wi(i) * x[i];
        bound += std::fabs(wi(i)) * 0.5 * xs[i / 32];
        mag += std::fabs(wi(i) * xi);
      }
      for (const KernelSet* k : available_kernel_sets()) {
        INFO("kernel set " << k->name);
        const double got = kernel(*k);
        CHECK(std::fabs(got - exact) <= 2e-6 * mag + 1e-6);
        CHECK(std::fabs(got - with_float_x) <= bound + 2e-6 * mag + 1e-6);
      }
    };
    INFO("int8");
    check([&](size_t i) { return double(q8[i]) * s8; },
          [&](const KernelSet& k) { return double(k.dot_i8_q8(q8.data(), xq.data(), xs.data(), n)) * s8; });
    if (n % 32 != 0) continue;  // int4 rows are whole blocks
    std::vector<uint8_t> q4(n / 2);
    std::vector<uint16_t> s4(n / 32);
    quantize_row_i4(w.data(), int64_t(n), q4.data(), s4.data());
    INFO("int4");
    check([&](size_t i) { return double(dequant_i4(q4.data(), s4.data(), int64_t(i))); },
          [&](const KernelSet& k) { return double(k.dot_i4_q8(q4.data(), s4.data(), xq.data(), xs.data(), n)); });
  }
}

TEST_CASE("quantizing activations maps zeros to zero and does not trip on a NaN", "[kernels][quant]") {
  std::vector<float> x(64, 0.0f);
  x[40] = std::nanf("");
  std::vector<int8_t> q(64, 1);
  std::vector<float> s(2, 1.0f);
  quantize_q8(x.data(), x.size(), q.data(), s.data());
  CHECK(s[0] == 0.0f);
  for (size_t i = 0; i < 32; ++i) CHECK(q[i] == 0);
}

namespace {
// w [rows, cols] stored in dtype dt, as a model file holds it (core/quant.h), in `bytes`.
MatrixRef stored_matrix(DType dt, const std::vector<float>& w, int64_t rows, int64_t cols, std::vector<uint8_t>& bytes) {
  bytes.assign(tensor_bytes(dt, uint64_t(rows), uint64_t(cols)), 0);
  const uint64_t plane = data_plane_bytes(dt, uint64_t(rows), uint64_t(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = w.data() + r * cols;
    if (dt == DType::kF32) {
      std::memcpy(bytes.data() + uint64_t(r * cols) * 4, v, size_t(cols) * 4);
    } else if (dt == DType::kF16) {
      for (int64_t c = 0; c < cols; ++c) {
        const uint16_t h = float_to_half(v[c]);
        std::memcpy(bytes.data() + uint64_t(r * cols + c) * 2, &h, 2);
      }
    } else if (dt == DType::kI8) {
      const float s = quantize_row_i8(v, cols, reinterpret_cast<int8_t*>(bytes.data()) + r * cols);
      std::memcpy(bytes.data() + plane + uint64_t(r) * 4, &s, 4);
    } else {
      std::vector<uint16_t> s(size_t(cols / 32));
      quantize_row_i4(v, cols, bytes.data() + r * cols / 2, s.data());
      std::memcpy(bytes.data() + plane + uint64_t(r) * s.size() * 2, s.data(), s.size() * 2);
    }
  }
  return MatrixRef::of(bytes.data(), dt, rows, cols);
}
}  // namespace

TEST_CASE("every kernel set widens a stored row of every dtype to the same f32 values", "[kernels][quant]") {
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8, DType::kI4}) {
    const int64_t rows = 3, cols = dt == DType::kI4 ? 96 : 103;  // int4 rows are whole blocks; others with a tail
    INFO("dtype " << dtype_name(dt));
    auto w = random_vector(size_t(rows * cols), 21);
    std::vector<uint8_t> bytes;
    const MatrixRef m = stored_matrix(dt, w, rows, cols, bytes);
    std::vector<float> want(static_cast<size_t>(cols)), got(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      scalar_kernels()->rows[size_t(dt)].widen(m, r, want.data());
      for (const KernelSet* k : available_kernel_sets()) {
        INFO("kernel set " << k->name);
        std::fill(got.begin(), got.end(), 12345.0f);  // a widened row does not depend on what was there
        k->rows[size_t(dt)].widen(m, r, got.data());
        CHECK(got == want);
      }
      double err = 0, amax = 0;
      for (int64_t c = 0; c < cols; ++c) {
        err = std::max(err, double(std::fabs(want[size_t(c)] - w[size_t(r * cols + c)])));
        amax = std::max(amax, double(std::fabs(w[size_t(r * cols + c)])));
      }
      const double bound = dt == DType::kF32 ? 0 : dt == DType::kF16 ? amax / 2048 : dt == DType::kI8 ? 0.5 / 127 * amax : amax / 8;
      CHECK(err <= bound * (1 + 1e-3));
    }
  }
}

TEST_CASE("quantized rows through dot_row, axpy_row and copy_row", "[kernels][quant]") {
  const int64_t rows = 37, cols = 96;
  auto w = random_vector(size_t(rows * cols), 11), x = random_vector(size_t(cols), 12);
  for (DType dt : {DType::kI8, DType::kI4}) {
    INFO("dtype " << dtype_name(dt));
    std::vector<uint8_t> bytes;
    const MatrixRef m = stored_matrix(dt, w, rows, cols, bytes);
    std::vector<float> row(static_cast<size_t>(cols)), y(static_cast<size_t>(cols), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      copy_row(m, r, row.data());
      double want = 0, err = 0, mag = 0, amax = 0;
      for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, double(std::fabs(w[size_t(r * cols + c)])));
      for (int64_t c = 0; c < cols; ++c) {
        want += double(row[size_t(c)]) * x[size_t(c)];
        err = std::max(err, double(std::fabs(row[size_t(c)] - w[size_t(r * cols + c)])));
        mag += std::fabs(row[size_t(c)] * x[size_t(c)]);
      }
      CHECK(std::fabs(dot_row(m, r, x.data()) - want) <= 2e-6 * mag + 1e-6);
      CHECK(err <= (dt == DType::kI8 ? 0.5 / 127 : 1.0 / 8) * amax * (1 + 1e-3));  // int8 half a step, int4 one
      std::fill(y.begin(), y.end(), 0.0f);
      axpy_row(m, r, 32, 64, 2.0f, y.data());  // a block-aligned slice
      for (int64_t c = 0; c < 64; ++c) CHECK(std::fabs(y[size_t(c)] - 2.0f * row[size_t(32 + c)]) <= 1e-6);
    }
    // matvec's integer path: x quantized once, then each row's dot_q8, alike on 1 and 2 threads.
    const ActivationPath saved = activation_path();
    set_activation_path(ActivationPath::kInteger);
    REQUIRE(use_integer_dots(m));
    std::vector<int8_t> xq(static_cast<size_t>(cols));
    std::vector<float> xs(static_cast<size_t>(cols / 32)), y1(static_cast<size_t>(rows)), y2(static_cast<size_t>(rows));
    quantize_q8(x.data(), size_t(cols), xq.data(), xs.data());
    ThreadPool one(1), two(2);
    matvec(m, x.data(), nullptr, y1.data(), one);
    matvec(m, x.data(), nullptr, y2.data(), two);
    for (int64_t r = 0; r < rows; ++r) {
      REQUIRE(y1[size_t(r)] == row_ops(dt).dot_q8(m, r, xq.data(), xs.data()));
      REQUIRE(y2[size_t(r)] == y1[size_t(r)]);
    }
    set_activation_path(ActivationPath::kFloat);
    CHECK_FALSE(use_integer_dots(m));
    set_activation_path(saved);
  }
}
