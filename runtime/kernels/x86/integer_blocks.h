// One block of 32 int8 (or int4) weights times 32 int8 activations, summed in integers with AVX2
// instructions, for the AVX2 and AVX-512 kernel sets (every AVX-512F CPU has AVX2; 512-bit byte
// multiplies would need AVX-512BW). Internal linkage: each set's file compiles its own copy with
// its own flags, so the linker never swaps one set's code into the other.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace terra {
namespace {

// vpmaddubsw wants one unsigned operand: |x| and w * sign(x) (|x| <= 127, so a pair's sum stays
// within int16), then pairs of int16 to int32: eight lanes adding up to the block's products.
inline __m256i block_sums(__m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(w, x));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

inline __m256i q8_block_sums(const int8_t* w, const int8_t* x) {
  return block_sums(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
}

// An int4 block (16 bytes: weights 0-15 in the low nibbles, 16-31 in the high ones, stored q + 8).
inline __m256i q4_block_sums(const uint8_t* p, const int8_t* x) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
  const __m128i lo = _mm_sub_epi8(_mm_and_si128(bytes, mask), eight);
  const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight);
  return block_sums(_mm256_set_m128i(hi, lo), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
}

}  // namespace
}  // namespace terra
