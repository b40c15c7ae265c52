// NEON (AArch64, and ARMv7 built with -mfpu=neon-fp16): 4 floats per instruction, half weights
// widened by vcvt_f32_f16. The kernel bodies are kernels/simd_body.h's; this file says how NEON
// does each step.
#include <arm_neon.h>

#include <cstring>

#include "kernels/kernel_set.h"
#include "kernels/simd_body.h"

namespace terra {

namespace {

struct Neon {
  using V = float32x4_t;
  static constexpr size_t kWidth = 4;
  static V zero() { return vdupq_n_f32(0); }
  static V set1(float a) { return vdupq_n_f32(a); }
  static V load(const float* p) { return vld1q_f32(p); }
  static V load(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static V load(const int8_t* p) {  // exactly 4 bytes: a row's last vector may end the tensor
    int32_t four;
    std::memcpy(&four, p, 4);
    const int16x8_t w = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(four)));
    return vcvtq_f32_s32(vmovl_s16(vget_low_s16(w)));
  }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V fmadd(V a, V b, V acc) {
#if defined(__aarch64__)
    return vfmaq_f32(acc, a, b);
#else
    return vmlaq_f32(acc, a, b);
#endif
  }
  static float hsum(V v) {
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
  }
  static float scalar(float w) { return w; }
  static float scalar(int8_t w) { return float(w); }
  static float scalar(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
  static void load_i4(const uint8_t* p, V out[8]) {  // weights 0..15 (low nibbles), 16..31 (high)
    const uint8x16_t bytes = vld1q_u8(p);
    const int8x16_t eight = vdupq_n_s8(8);
    const int8x16_t halves[2] = {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(bytes, vdupq_n_u8(15))), eight),
                                 vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(bytes, 4)), eight)};
    for (int h = 0; h < 2; ++h) {
      const int16x8_t a = vmovl_s8(vget_low_s8(halves[h])), c = vmovl_s8(vget_high_s8(halves[h]));
      out[4 * h + 0] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(a)));
      out[4 * h + 1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(a)));
      out[4 * h + 2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(c)));
      out[4 * h + 3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(c)));
    }
  }
  // 16 bytes times 16, twice: products widened to int16 (a pair's sum is at most 2 * 127 * 127),
  // then pairwise into int32.
  static int32x4_t block_sums(const int8x16_t w[2], const int8_t* x) {
    int32x4_t acc = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      const int8x16_t b = vld1q_s8(x + 16 * h);
      int16x8_t p = vmull_s8(vget_low_s8(w[h]), vget_low_s8(b));
      p = vmlal_s8(p, vget_high_s8(w[h]), vget_high_s8(b));
      acc = vpadalq_s16(acc, p);
    }
    return acc;
  }
  static V dot_q8_block(const int8_t* w, const int8_t* x) {
    const int8x16_t rows[2] = {vld1q_s8(w), vld1q_s8(w + 16)};
    return vcvtq_f32_s32(block_sums(rows, x));
  }
  static V dot_q4_block(const uint8_t* p, const int8_t* x) {
    const uint8x16_t bytes = vld1q_u8(p);
    const int8x16_t eight = vdupq_n_s8(8);
    const int8x16_t halves[2] = {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(bytes, vdupq_n_u8(15))), eight),
                                 vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(bytes, 4)), eight)};
    return vcvtq_f32_s32(block_sums(halves, x));
  }
};

constexpr KernelSet kNeon = SimdKernels<Neon>::make("neon");

}  // namespace

const KernelSet* neon_kernels() { return &kNeon; }

}  // namespace terra
