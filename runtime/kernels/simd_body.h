// Every SIMD kernel body, written once over an instruction set's traits `S` (AVX2, AVX-512, NEON:
// kernels/x86/avx2.cpp, kernels/x86/avx512.cpp, kernels/arm/neon.cpp). Each of those files is
// compiled for its own instruction set and defines its traits in an unnamed namespace, so every
// instantiation here is local to that file: no function compiled for one instruction set can be
// picked by the linker for another. For the same reason this header holds templates only and
// calls nothing outside `S` (not even core/dtype.h's inline half_to_float).
//
// The traits supply, for a vector V of S::kWidth floats:
//   zero(), set1(float), load(const float*), load(const uint16_t* f16), load(const int8_t*),
//   store(float*, V), add(V, V), mul(V, V), fmadd(a, b, acc) = a*b + acc, hsum(V),
//   scalar(T): one weight as f32 (the tails), and
//   load_i4(const uint8_t* block, V out[32 / kWidth]): one int4 block's 32 weights, q - 8, unscaled;
//   dot_q8_block(const int8_t* w, const int8_t* x), dot_q4_block(const uint8_t* int4 block,
//   const int8_t* x): a vector whose lanes add up to the 32 products of one block, summed in
//   integers (exact), then converted.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_set.h"
#include "kernels/row_ops.h"

namespace terra {

template <typename S>
struct SimdKernels {
  using V = typename S::V;
  static constexpr size_t W = S::kWidth;
  static constexpr int kI4Vectors = int(32 / W);  // one int4 block of 32 weights

  template <typename T>
  static float tail_dot(const T* w, const float* x, size_t i, size_t n) {
    float s = 0;
    for (; i < n; ++i) s += S::scalar(w[i]) * x[i];
    return s;
  }

  // Four accumulators hide the FMA latency; the horizontal sum happens once per row.
  template <typename T>
  static float dot(const T* w, const float* x, size_t n) {
    V a0 = S::zero(), a1 = S::zero(), a2 = S::zero(), a3 = S::zero();
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      a0 = S::fmadd(S::load(w + i), S::load(x + i), a0);
      a1 = S::fmadd(S::load(w + i + W), S::load(x + i + W), a1);
      a2 = S::fmadd(S::load(w + i + 2 * W), S::load(x + i + 2 * W), a2);
      a3 = S::fmadd(S::load(w + i + 3 * W), S::load(x + i + 3 * W), a3);
    }
    for (; i + W <= n; i += W) a0 = S::fmadd(S::load(w + i), S::load(x + i), a0);
    return S::hsum(S::add(S::add(a0, a1), S::add(a2, a3))) + tail_dot(w, x, i, n);
  }

  // Four rows at once: each load of x serves four weight streams.
  template <typename T>
  static void dot4(const T* w, size_t stride, const float* x, size_t n, float* out) {
    const T* r[4] = {w, w + stride, w + 2 * stride, w + 3 * stride};
    V a[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    V b[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const V x0 = S::load(x + i), x1 = S::load(x + i + W);
      for (int k = 0; k < 4; ++k) a[k] = S::fmadd(S::load(r[k] + i), x0, a[k]);
      for (int k = 0; k < 4; ++k) b[k] = S::fmadd(S::load(r[k] + i + W), x1, b[k]);
    }
    for (; i + W <= n; i += W) {
      const V x0 = S::load(x + i);
      for (int k = 0; k < 4; ++k) a[k] = S::fmadd(S::load(r[k] + i), x0, a[k]);
    }
    for (int k = 0; k < 4; ++k) out[k] = S::hsum(S::add(a[k], b[k])) + tail_dot(r[k], x, i, n);
  }

  // Each step loads two row vectors and four x vectors for eight multiply-adds.
  static void dot2x4_taps(const float* const* w, const float* const* x, int taps, size_t n, float* out) {
    V a[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    V b[4] = {S::zero(), S::zero(), S::zero(), S::zero()};
    float tail[8] = {};
    for (int t = 0; t < taps; ++t) {
      const float *r0 = w[2 * t], *r1 = w[2 * t + 1];
      const float* const* xs = x + 4 * t;
      size_t i = 0;
      for (; i + W <= n; i += W) {
        const V w0 = S::load(r0 + i), w1 = S::load(r1 + i);
        for (int k = 0; k < 4; ++k) {
          const V xk = S::load(xs[k] + i);
          a[k] = S::fmadd(w0, xk, a[k]);
          b[k] = S::fmadd(w1, xk, b[k]);
        }
      }
      for (int k = 0; k < 4 && i < n; ++k) {
        tail[k] += tail_dot(r0, xs[k], i, n);
        tail[4 + k] += tail_dot(r1, xs[k], i, n);
      }
    }
    for (int k = 0; k < 4; ++k) {
      out[k] += S::hsum(a[k]) + tail[k];
      out[4 + k] += S::hsum(b[k]) + tail[4 + k];
    }
  }

  template <typename T>
  static void axpy(float a, const T* w, float* y, size_t n) {
    const V av = S::set1(a);
    size_t i = 0;
    for (; i + W <= n; i += W) S::store(y + i, S::fmadd(av, S::load(w + i), S::load(y + i)));
    for (; i < n; ++i) y[i] += a * S::scalar(w[i]);
  }

  // out = s * w: a row widened to f32 by stores alone (an axpy into zeros also reads them back).
  template <typename T>
  static void scaled(const T* w, float s, float* out, size_t n) {
    const V sv = S::set1(s);
    size_t i = 0;
    for (; i + W <= n; i += W) S::store(out + i, S::mul(sv, S::load(w + i)));
    for (; i < n; ++i) out[i] = s * S::scalar(w[i]);
  }

  static void scaled_i4(const uint8_t* w, const uint16_t* scales, float* out, size_t n) {
    for (size_t blk = 0; blk < n / 32; ++blk, w += 16, out += 32) {
      V q[kI4Vectors];
      S::load_i4(w, q);
      const V s = S::set1(S::scalar(scales[blk]));
      for (int k = 0; k < kI4Vectors; ++k) S::store(out + k * W, S::mul(s, q[k]));
    }
  }

  static float sum(const float* w, size_t n) {
    V a0 = S::zero(), a1 = S::zero(), a2 = S::zero(), a3 = S::zero();
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      a0 = S::add(a0, S::load(w + i));
      a1 = S::add(a1, S::load(w + i + W));
      a2 = S::add(a2, S::load(w + i + 2 * W));
      a3 = S::add(a3, S::load(w + i + 3 * W));
    }
    float s = S::hsum(S::add(S::add(a0, a1), S::add(a2, a3)));
    for (; i < n; ++i) s += w[i];
    return s;
  }

  // 12 chains: two FMA units of 4-5 cycles' latency need 8-10 in flight.
  static uint64_t fma_burst(size_t rounds, float* sink) {
    constexpr int kChains = 12;
    V a[kChains];
    for (int k = 0; k < kChains; ++k) a[k] = S::set1(1.0f + float(k) * 1e-3f);
    const V m = S::set1(0.999999f), c = S::set1(1e-6f);
    for (size_t r = 0; r < rounds; ++r) {
      for (int k = 0; k < kChains; ++k) a[k] = S::fmadd(a[k], m, c);
    }
    V t = a[0];
    for (int k = 1; k < kChains; ++k) t = S::add(t, a[k]);
    *sink += S::hsum(t);
    return uint64_t(rounds) * kChains * W * 2;
  }

  // Per block: the unscaled products in two chains, then scaled into one of two accumulators.
  static float dot_i4(const uint8_t* w, const uint16_t* scales, const float* x, size_t n) {
    V acc[2] = {S::zero(), S::zero()};
    for (size_t blk = 0; blk < n / 32; ++blk, w += 16, x += 32) {
      V q[kI4Vectors];
      S::load_i4(w, q);
      V even = S::mul(q[0], S::load(x)), odd = S::mul(q[1], S::load(x + W));
      for (int k = 2; k < kI4Vectors; k += 2) {
        even = S::fmadd(q[k], S::load(x + k * W), even);
        odd = S::fmadd(q[k + 1], S::load(x + (k + 1) * W), odd);
      }
      acc[blk & 1] = S::fmadd(S::add(even, odd), S::set1(S::scalar(scales[blk])), acc[blk & 1]);
    }
    return S::hsum(S::add(acc[0], acc[1]));
  }

  static void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
    for (size_t blk = 0; blk < n / 32; ++blk, w += 16, y += 32) {
      V q[kI4Vectors];
      S::load_i4(w, q);
      const V s = S::set1(a * S::scalar(scales[blk]));
      for (int k = 0; k < kI4Vectors; ++k) S::store(y + k * W, S::fmadd(s, q[k], S::load(y + k * W)));
    }
  }

  // Blocks of 32: the integer block sum times the activation's block scale, into one of two
  // accumulators; an int8 row's last partial block in scalar code.
  static float dot_i8_q8(const int8_t* w, const int8_t* xq, const float* xs, size_t n) {
    V acc[2] = {S::zero(), S::zero()};
    size_t b = 0;
    for (; (b + 1) * 32 <= n; ++b) acc[b & 1] = S::fmadd(S::dot_q8_block(w + 32 * b, xq + 32 * b), S::set1(xs[b]), acc[b & 1]);
    int32_t tail = 0;
    for (size_t i = b * 32; i < n; ++i) tail += int32_t(w[i]) * int32_t(xq[i]);
    return S::hsum(S::add(acc[0], acc[1])) + (tail != 0 ? float(tail) * xs[b] : 0.0f);
  }

  static float dot_i4_q8(const uint8_t* w, const uint16_t* scales, const int8_t* xq, const float* xs, size_t n) {
    V acc[2] = {S::zero(), S::zero()};
    for (size_t b = 0; b < n / 32; ++b) {
      const V scale = S::set1(S::scalar(scales[b]) * xs[b]);
      acc[b & 1] = S::fmadd(S::dot_q4_block(w + 16 * b, xq + 32 * b), scale, acc[b & 1]);
    }
    return S::hsum(S::add(acc[0], acc[1]));
  }

  template <typename T>
  static float widen(T v) { return S::scalar(v); }

  static constexpr KernelSet make(const char* name) {
    return {name,           dot<float>, dot<uint16_t>, dot4<float>, dot4<uint16_t>, dot2x4_taps, axpy<float>,
            axpy<uint16_t>, sum,        fma_burst,     dot<int8_t>,   dot_i4,      axpy<int8_t>,   axpy_i4,
            dot_i8_q8,      dot_i4_q8,  RowOpsOf<SimdKernels>::table()};
  }
};

}  // namespace terra
