// AVX-512F (Skylake-SP and later): 16 floats per instruction, half weights widened by
// vcvtph2ps zmm. Compiled with -mavx512f -mfma; only called when cpuinfo reports AVX-512F.
#include <immintrin.h>

#include "core/dtype.h"
#include "kernels/kernel_set.h"

namespace terra {

namespace {

inline __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

template <typename T>
inline float tail_dot(const T* w, const float* x, size_t i, size_t n) {
  float s = 0;
  for (; i < n; ++i) s += (sizeof(T) == 4 ? float(w[i]) : half_to_float(uint16_t(w[i]))) * x[i];
  return s;
}

template <typename T, typename Load>
float dot(const T* w, const float* x, size_t n, Load load) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_fmadd_ps(load(w + i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(load(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
    a2 = _mm512_fmadd_ps(load(w + i + 32), _mm512_loadu_ps(x + i + 32), a2);
    a3 = _mm512_fmadd_ps(load(w + i + 48), _mm512_loadu_ps(x + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(load(w + i), _mm512_loadu_ps(x + i), a0);
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) + tail_dot(w, x, i, n);
}

template <typename T, typename Load>
void dot4(const T* w, size_t stride, const float* x, size_t n, float* out, Load load) {
  const T* r[4] = {w, w + stride, w + 2 * stride, w + 3 * stride};
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    a0 = _mm512_fmadd_ps(load(r[0] + i), xv, a0);
    a1 = _mm512_fmadd_ps(load(r[1] + i), xv, a1);
    a2 = _mm512_fmadd_ps(load(r[2] + i), xv, a2);
    a3 = _mm512_fmadd_ps(load(r[3] + i), xv, a3);
  }
  out[0] = _mm512_reduce_add_ps(a0) + tail_dot(r[0], x, i, n);
  out[1] = _mm512_reduce_add_ps(a1) + tail_dot(r[1], x, i, n);
  out[2] = _mm512_reduce_add_ps(a2) + tail_dot(r[2], x, i, n);
  out[3] = _mm512_reduce_add_ps(a3) + tail_dot(r[3], x, i, n);
}

const auto kLoadF32 = [](const float* p) { return _mm512_loadu_ps(p); };
const auto kLoadF16 = [](const uint16_t* p) { return load_f16(p); };

float dot_f32(const float* w, const float* x, size_t n) { return dot(w, x, n, kLoadF32); }
float dot_f16(const uint16_t* w, const float* x, size_t n) { return dot(w, x, n, kLoadF16); }
void dot4_f32(const float* w, size_t stride, const float* x, size_t n, float* out) { dot4(w, stride, x, n, out, kLoadF32); }
void dot4_f16(const uint16_t* w, size_t stride, const float* x, size_t n, float* out) {
  dot4(w, stride, x, n, out, kLoadF16);
}

void axpy_f32(float a, const float* w, float* y, size_t n) {
  const __m512 av = _mm512_set1_ps(a);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(w + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * w[i];
}

void axpy_f16(float a, const uint16_t* w, float* y, size_t n) {
  const __m512 av = _mm512_set1_ps(a);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, load_f16(w + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * half_to_float(w[i]);
}

float sum_f32(const float* w, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(w + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(w + i + 16));
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  for (; i < n; ++i) s += w[i];
  return s;
}

inline __m512 load_i8(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline float scale_of(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

// One int4 block: weights 0..15 (low nibbles) and 16..31 (high), q - 8, as two vectors of 16.
inline void load_i4(const uint8_t* p, __m512& lo, __m512& hi) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
  lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(bytes, mask), eight)));
  hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight)));
}

float dot_i8(const int8_t* w, const float* x, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_fmadd_ps(load_i8(w + i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(load_i8(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(load_i8(w + i), _mm512_loadu_ps(x + i), a0);
  float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  for (; i < n; ++i) s += float(w[i]) * x[i];
  return s;
}

float dot_i4(const uint8_t* w, const uint16_t* scales, const float* x, size_t n) {
  __m512 acc = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps();
  for (size_t b = 0; b < n / 32; ++b, w += 16, x += 32) {
    __m512 lo, hi;
    load_i4(w, lo, hi);
    const __m512 s = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + 16), _mm512_mul_ps(lo, _mm512_loadu_ps(x)));
    if (b & 1) acc2 = _mm512_fmadd_ps(s, _mm512_set1_ps(scale_of(scales[b])), acc2);
    else acc = _mm512_fmadd_ps(s, _mm512_set1_ps(scale_of(scales[b])), acc);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc, acc2));
}

void axpy_i8(float a, const int8_t* w, float* y, size_t n) {
  const __m512 av = _mm512_set1_ps(a);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, load_i8(w + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * float(w[i]);
}

void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
  for (size_t b = 0; b < n / 32; ++b, w += 16, y += 32) {
    __m512 lo, hi;
    load_i4(w, lo, hi);
    const __m512 s = _mm512_set1_ps(a * scale_of(scales[b]));
    _mm512_storeu_ps(y, _mm512_fmadd_ps(s, lo, _mm512_loadu_ps(y)));
    _mm512_storeu_ps(y + 16, _mm512_fmadd_ps(s, hi, _mm512_loadu_ps(y + 16)));
  }
}

const KernelSet kAvx512{"avx512", dot_f32, dot_f16, dot4_f32, dot4_f16, axpy_f32, axpy_f16, sum_f32, dot_i8, dot_i4, axpy_i8, axpy_i4};

}  // namespace

const KernelSet* avx512_kernels() { return &kAvx512; }

}  // namespace terra
