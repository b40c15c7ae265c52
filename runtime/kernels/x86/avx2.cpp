// AVX2 + FMA + F16C (Haswell and later): 8 floats per instruction, half weights widened by
// vcvtph2ps. Compiled with -mavx2 -mfma -mf16c; only called when cpuinfo reports all three.
#include <immintrin.h>

#include "core/dtype.h"
#include "kernels/kernel_set.h"

namespace terra {

namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256 load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

float dot_f32(const float* w, const float* x, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += w[i] * x[i];
  return s;
}

float dot_f16(const uint16_t* w, const float* x, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(load_f16(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(load_f16(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(load_f16(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(load_f16(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_f16(w + i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += half_to_float(w[i]) * x[i];
  return s;
}

// Four rows at once: each x vector is loaded once for four weight streams.
template <typename Load, typename T>
void dot4(const T* w, size_t stride, const float* x, size_t n, float* out, Load load) {
  const T* r0 = w;
  const T* r1 = w + stride;
  const T* r2 = w + 2 * stride;
  const T* r3 = w + 3 * stride;
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    a0 = _mm256_fmadd_ps(load(r0 + i), x0, a0);
    a1 = _mm256_fmadd_ps(load(r1 + i), x0, a1);
    a2 = _mm256_fmadd_ps(load(r2 + i), x0, a2);
    a3 = _mm256_fmadd_ps(load(r3 + i), x0, a3);
    b0 = _mm256_fmadd_ps(load(r0 + i + 8), x1, b0);
    b1 = _mm256_fmadd_ps(load(r1 + i + 8), x1, b1);
    b2 = _mm256_fmadd_ps(load(r2 + i + 8), x1, b2);
    b3 = _mm256_fmadd_ps(load(r3 + i + 8), x1, b3);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(load(r0 + i), x0, a0);
    a1 = _mm256_fmadd_ps(load(r1 + i), x0, a1);
    a2 = _mm256_fmadd_ps(load(r2 + i), x0, a2);
    a3 = _mm256_fmadd_ps(load(r3 + i), x0, a3);
  }
  out[0] = hsum(_mm256_add_ps(a0, b0));
  out[1] = hsum(_mm256_add_ps(a1, b1));
  out[2] = hsum(_mm256_add_ps(a2, b2));
  out[3] = hsum(_mm256_add_ps(a3, b3));
  for (; i < n; ++i) {
    if constexpr (sizeof(T) == 4) {
      out[0] += float(r0[i]) * x[i];
      out[1] += float(r1[i]) * x[i];
      out[2] += float(r2[i]) * x[i];
      out[3] += float(r3[i]) * x[i];
    } else {
      out[0] += half_to_float(r0[i]) * x[i];
      out[1] += half_to_float(r1[i]) * x[i];
      out[2] += half_to_float(r2[i]) * x[i];
      out[3] += half_to_float(r3[i]) * x[i];
    }
  }
}

void dot4_f32(const float* w, size_t stride, const float* x, size_t n, float* out) {
  dot4(w, stride, x, n, out, [](const float* p) { return _mm256_loadu_ps(p); });
}

void dot4_f16(const uint16_t* w, size_t stride, const float* x, size_t n, float* out) {
  dot4(w, stride, x, n, out, [](const uint16_t* p) { return load_f16(p); });
}

void axpy_f32(float a, const float* w, float* y, size_t n) {
  const __m256 av = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(w + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * w[i];
}

void axpy_f16(float a, const uint16_t* w, float* y, size_t n) {
  const __m256 av = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, load_f16(w + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * half_to_float(w[i]);
}

float sum_f32(const float* w, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(w + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(w + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(w + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(w + i + 24));
  }
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += w[i];
  return s;
}

// int8 -> f32, 8 at a time: sign-extend to int32, convert.
inline __m256 load_i8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline float scale_of(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

// One int4 block's 32 weights as four vectors of 8 floats (q - 8, unscaled).
struct Block4 {
  __m256 w[4];
};
inline Block4 load_i4(const uint8_t* p) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
  const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, mask), eight);                     // weights 0..15
  const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight);  // weights 16..31
  return {{_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))),
           _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))}};
}

float dot_i8(const int8_t* w, const float* x, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(load_i8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(load_i8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(load_i8(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(load_i8(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_i8(w + i), _mm256_loadu_ps(x + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += float(w[i]) * x[i];
  return s;
}

float dot_i4(const uint8_t* w, const uint16_t* scales, const float* x, size_t n) {
  __m256 acc = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
  for (size_t b = 0; b < n / 32; ++b, w += 16, x += 32) {
    const Block4 q = load_i4(w);
    __m256 s0 = _mm256_mul_ps(q.w[0], _mm256_loadu_ps(x));
    __m256 s1 = _mm256_mul_ps(q.w[2], _mm256_loadu_ps(x + 16));
    s0 = _mm256_fmadd_ps(q.w[1], _mm256_loadu_ps(x + 8), s0);
    s1 = _mm256_fmadd_ps(q.w[3], _mm256_loadu_ps(x + 24), s1);
    const __m256 d = _mm256_set1_ps(scale_of(scales[b]));
    if (b & 1) acc2 = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), d, acc2);
    else acc = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), d, acc);
  }
  return hsum(_mm256_add_ps(acc, acc2));
}

void axpy_i8(float a, const int8_t* w, float* y, size_t n) {
  const __m256 av = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, load_i8(w + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * float(w[i]);
}

void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
  for (size_t b = 0; b < n / 32; ++b, w += 16, y += 32) {
    const Block4 q = load_i4(w);
    const __m256 s = _mm256_set1_ps(a * scale_of(scales[b]));
    for (int k = 0; k < 4; ++k) _mm256_storeu_ps(y + 8 * k, _mm256_fmadd_ps(s, q.w[k], _mm256_loadu_ps(y + 8 * k)));
  }
}

const KernelSet kAvx2{"avx2", dot_f32, dot_f16, dot4_f32, dot4_f16, axpy_f32, axpy_f16, sum_f32, dot_i8, dot_i4, axpy_i8, axpy_i4};

}  // namespace

const KernelSet* avx2_kernels() { return &kAvx2; }

}  // namespace terra
