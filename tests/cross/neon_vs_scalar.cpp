// Standalone NEON-vs-scalar check of every KernelSet entry (cross-compiled, run under qemu).
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>
#include "core/quant.h"
#include "kernels/kernel_set.h"
using namespace terra;
int main() {
  const KernelSet* s = scalar_kernels();
  const KernelSet* k = neon_kernels();
  std::mt19937 rng(1);
  std::normal_distribution<float> d;
  int bad = 0, checks = 0;
  auto near = [&](double a, double b, double mag) { ++checks; if (std::fabs(a - b) > 2e-6 * mag + 1e-5) { ++bad; std::printf("mismatch %g vs %g\n", a, b); } };
  for (size_t n : {1, 3, 7, 8, 17, 32, 64, 96, 100, 1024}) {
    std::vector<float> w(n * 4), x(n), y1(n, 0.5f), y2(n, 0.5f);
    for (auto& v : w) v = d(rng);
    for (auto& v : x) v = d(rng);
    std::vector<uint16_t> h(n * 4);
    for (size_t i = 0; i < h.size(); ++i) h[i] = float_to_half(w[i]);
    double mag = 0; for (size_t i = 0; i < n; ++i) mag += std::fabs(w[i] * x[i]);
    near(k->dot_f32(w.data(), x.data(), n), s->dot_f32(w.data(), x.data(), n), mag);
    near(k->dot_f16(h.data(), x.data(), n), s->dot_f16(h.data(), x.data(), n), mag);
    near(k->sum_f32(w.data(), n), s->sum_f32(w.data(), n), mag + n);
    float a[4], b[4];
    k->dot4_f32(w.data(), n, x.data(), n, a); s->dot4_f32(w.data(), n, x.data(), n, b);
    for (int r = 0; r < 4; ++r) near(a[r], b[r], mag * 10);
    k->dot4_f16(h.data(), n, x.data(), n, a); s->dot4_f16(h.data(), n, x.data(), n, b);
    for (int r = 0; r < 4; ++r) near(a[r], b[r], mag * 10);
    std::vector<int8_t> q8(n);
    quantize_row_i8(w.data(), int64_t(n), q8.data());
    near(k->dot_i8(q8.data(), x.data(), n), s->dot_i8(q8.data(), x.data(), n), mag * 127);
    k->axpy_f32(0.7f, w.data(), y1.data(), n); s->axpy_f32(0.7f, w.data(), y2.data(), n);
    k->axpy_f16(0.7f, h.data(), y1.data(), n); s->axpy_f16(0.7f, h.data(), y2.data(), n);
    k->axpy_i8(0.01f, q8.data(), y1.data(), n); s->axpy_i8(0.01f, q8.data(), y2.data(), n);
    if (n % 32 == 0) {
      std::vector<uint8_t> q4(n / 2); std::vector<uint16_t> sc(n / 32);
      quantize_row_i4(w.data(), int64_t(n), q4.data(), sc.data());
      near(k->dot_i4(q4.data(), sc.data(), x.data(), n), s->dot_i4(q4.data(), sc.data(), x.data(), n), mag * 2);
      k->axpy_i4(0.3f, q4.data(), sc.data(), y1.data(), n); s->axpy_i4(0.3f, q4.data(), sc.data(), y2.data(), n);
    }
    for (size_t i = 0; i < n; ++i) near(y1[i], y2[i], 10);
  }
  std::printf("%s vs scalar: %d checks, %d mismatches\n", k->name, checks, bad);
  return bad != 0;
}
