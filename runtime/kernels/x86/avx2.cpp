// AVX2 + FMA + F16C (Haswell and later): 8 floats per instruction, half weights widened by
// vcvtph2ps. Compiled with -mavx2 -mfma -mf16c; only called when cpuinfo reports all three. The
// kernel bodies are kernels/simd_body.h's; this file says how AVX2 does each step.
#include <immintrin.h>

#include "kernels/kernel_set.h"
#include "kernels/simd_body.h"
#include "kernels/x86/integer_blocks.h"

namespace terra {

namespace {

struct Avx2 {
  using V = __m256;
  static constexpr size_t kWidth = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float a) { return _mm256_set1_ps(a); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static V load(const int8_t* p) {  // sign-extend 8 bytes to int32, convert
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fmadd(V a, V b, V acc) { return _mm256_fmadd_ps(a, b, acc); }
  static float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float scalar(float w) { return w; }
  static float scalar(int8_t w) { return float(w); }
  static float scalar(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }
  static void load_i4(const uint8_t* p, V out[4]) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, mask), eight);                     // weights 0..15
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight);  // weights 16..31
    out[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    out[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    out[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    out[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
  }
  static V dot_q8_block(const int8_t* w, const int8_t* x) { return _mm256_cvtepi32_ps(q8_block_sums(w, x)); }
  static V dot_q4_block(const uint8_t* p, const int8_t* x) { return _mm256_cvtepi32_ps(q4_block_sums(p, x)); }
};

constexpr KernelSet kAvx2 = SimdKernels<Avx2>::make("avx2");

}  // namespace

const KernelSet* avx2_kernels() { return &kAvx2; }

}  // namespace terra
