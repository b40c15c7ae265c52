// AVX-512F (Skylake-SP and later): 16 floats per instruction, half weights widened by
// vcvtph2ps zmm. Compiled with -mavx512f -mfma -mf16c; only called when cpuinfo reports AVX-512F.
// The kernel bodies are kernels/simd_body.h's; this file says how AVX-512 does each step.
#include <immintrin.h>

#include "kernels/kernel_set.h"
#include "kernels/simd_body.h"
#include "kernels/x86/integer_blocks.h"

namespace terra {

namespace {

struct Avx512 {
  using V = __m512;
  static constexpr size_t kWidth = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float a) { return _mm512_set1_ps(a); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static V load(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fmadd(V a, V b, V acc) { return _mm512_fmadd_ps(a, b, acc); }
  static float hsum(V v) { return _mm512_reduce_add_ps(v); }
  static float scalar(float w) { return w; }
  static float scalar(int8_t w) { return float(w); }
  static float scalar(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }
  static void load_i4(const uint8_t* p, V out[2]) {  // weights 0..15 (low nibbles), 16..31 (high)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
    out[0] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(bytes, mask), eight)));
    out[1] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight)));
  }
  // The integer block sums are 256-bit (integer_blocks.h), widened into a zeroed vector's low half.
  static V dot_q8_block(const int8_t* w, const int8_t* x) {
    return _mm512_zextps256_ps512(_mm256_cvtepi32_ps(q8_block_sums(w, x)));
  }
  static V dot_q4_block(const uint8_t* p, const int8_t* x) {
    return _mm512_zextps256_ps512(_mm256_cvtepi32_ps(q4_block_sums(p, x)));
  }
};

constexpr KernelSet kAvx512 = SimdKernels<Avx512>::make("avx512");

}  // namespace

const KernelSet* avx512_kernels() { return &kAvx512; }

}  // namespace terra
