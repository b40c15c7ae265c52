// NEON (AArch64, and ARMv7 built with -mfpu=neon-fp16): 4 floats per instruction, half weights
// widened by vcvt_f32_f16.
#include <arm_neon.h>

#include "core/dtype.h"
#include "kernels/kernel_set.h"

namespace terra {

namespace {

inline float hsum(float32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_f32(v);
#else
  float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
  return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

inline float32x4_t fma(float32x4_t acc, float32x4_t a, float32x4_t b) {
#if defined(__aarch64__)
  return vfmaq_f32(acc, a, b);
#else
  return vmlaq_f32(acc, a, b);
#endif
}

inline float32x4_t load_f16(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
inline float32x4_t load_f32(const float* p) { return vld1q_f32(p); }

template <typename T>
inline float tail_dot(const T* w, const float* x, size_t i, size_t n) {
  float s = 0;
  for (; i < n; ++i) s += (sizeof(T) == 4 ? float(w[i]) : half_to_float(uint16_t(w[i]))) * x[i];
  return s;
}

template <typename T, typename Load>
float dot(const T* w, const float* x, size_t n, Load load) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0), a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = fma(a0, load(w + i), vld1q_f32(x + i));
    a1 = fma(a1, load(w + i + 4), vld1q_f32(x + i + 4));
    a2 = fma(a2, load(w + i + 8), vld1q_f32(x + i + 8));
    a3 = fma(a3, load(w + i + 12), vld1q_f32(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) a0 = fma(a0, load(w + i), vld1q_f32(x + i));
  return hsum(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3))) + tail_dot(w, x, i, n);
}

template <typename T, typename Load>
void dot4(const T* w, size_t stride, const float* x, size_t n, float* out, Load load) {
  const T* r[4] = {w, w + stride, w + 2 * stride, w + 3 * stride};
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0), a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t xv = vld1q_f32(x + i);
    a0 = fma(a0, load(r[0] + i), xv);
    a1 = fma(a1, load(r[1] + i), xv);
    a2 = fma(a2, load(r[2] + i), xv);
    a3 = fma(a3, load(r[3] + i), xv);
  }
  out[0] = hsum(a0) + tail_dot(r[0], x, i, n);
  out[1] = hsum(a1) + tail_dot(r[1], x, i, n);
  out[2] = hsum(a2) + tail_dot(r[2], x, i, n);
  out[3] = hsum(a3) + tail_dot(r[3], x, i, n);
}

float dot_f32(const float* w, const float* x, size_t n) { return dot(w, x, n, load_f32); }
float dot_f16(const uint16_t* w, const float* x, size_t n) { return dot(w, x, n, load_f16); }
void dot4_f32(const float* w, size_t stride, const float* x, size_t n, float* out) { dot4(w, stride, x, n, out, load_f32); }
void dot4_f16(const uint16_t* w, size_t stride, const float* x, size_t n, float* out) {
  dot4(w, stride, x, n, out, load_f16);
}

void axpy_f32(float a, const float* w, float* y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, fma(vld1q_f32(y + i), vdupq_n_f32(a), vld1q_f32(w + i)));
  for (; i < n; ++i) y[i] += a * w[i];
}

void axpy_f16(float a, const uint16_t* w, float* y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, fma(vld1q_f32(y + i), vdupq_n_f32(a), load_f16(w + i)));
  for (; i < n; ++i) y[i] += a * half_to_float(w[i]);
}

float sum_f32(const float* w, size_t n) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0), a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = vaddq_f32(a0, vld1q_f32(w + i));
    a1 = vaddq_f32(a1, vld1q_f32(w + i + 4));
    a2 = vaddq_f32(a2, vld1q_f32(w + i + 8));
    a3 = vaddq_f32(a3, vld1q_f32(w + i + 12));
  }
  float s = hsum(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; i < n; ++i) s += w[i];
  return s;
}

// int8 -> f32, 8 at a time (two vectors of 4).
inline void load_i8x8(const int8_t* p, float32x4_t& a, float32x4_t& b) {
  const int16x8_t w = vmovl_s8(vld1_s8(p));
  a = vcvtq_f32_s32(vmovl_s16(vget_low_s16(w)));
  b = vcvtq_f32_s32(vmovl_s16(vget_high_s16(w)));
}

float dot_i8(const int8_t* w, const float* x, size_t n) {
  float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t w0, w1;
    load_i8x8(w + i, w0, w1);
    a0 = fma(a0, w0, vld1q_f32(x + i));
    a1 = fma(a1, w1, vld1q_f32(x + i + 4));
  }
  float s = hsum(vaddq_f32(a0, a1));
  for (; i < n; ++i) s += float(w[i]) * x[i];
  return s;
}

// One int4 block: 16 bytes -> the weights 0..15 (low nibbles) and 16..31 (high), q - 8 as int8.
inline void load_i4(const uint8_t* p, int8x16_t& lo, int8x16_t& hi) {
  const uint8x16_t bytes = vld1q_u8(p);
  const int8x16_t eight = vdupq_n_s8(8);
  lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(bytes, vdupq_n_u8(15))), eight);
  hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(bytes, 4)), eight);
}

float dot_i4(const uint8_t* w, const uint16_t* scales, const float* x, size_t n) {
  float s = 0;
  for (size_t b = 0; b < n / 32; ++b, w += 16, x += 32) {
    int8x16_t lo, hi;
    load_i4(w, lo, hi);
    float32x4_t acc = vdupq_n_f32(0), acc2 = vdupq_n_f32(0);
    const int8x16_t halves[2] = {lo, hi};
    for (int h = 0; h < 2; ++h) {
      const int16x8_t a = vmovl_s8(vget_low_s8(halves[h])), c = vmovl_s8(vget_high_s8(halves[h]));
      const float* xs = x + 16 * h;
      acc = fma(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(a))), vld1q_f32(xs));
      acc2 = fma(acc2, vcvtq_f32_s32(vmovl_s16(vget_high_s16(a))), vld1q_f32(xs + 4));
      acc = fma(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(c))), vld1q_f32(xs + 8));
      acc2 = fma(acc2, vcvtq_f32_s32(vmovl_s16(vget_high_s16(c))), vld1q_f32(xs + 12));
    }
    s += hsum(vaddq_f32(acc, acc2)) * half_to_float(scales[b]);
  }
  return s;
}

void axpy_i8(float a, const int8_t* w, float* y, size_t n) {
  const float32x4_t av = vdupq_n_f32(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t w0, w1;
    load_i8x8(w + i, w0, w1);
    vst1q_f32(y + i, fma(vld1q_f32(y + i), av, w0));
    vst1q_f32(y + i + 4, fma(vld1q_f32(y + i + 4), av, w1));
  }
  for (; i < n; ++i) y[i] += a * float(w[i]);
}

void axpy_i4(float a, const uint8_t* w, const uint16_t* scales, float* y, size_t n) {
  for (size_t b = 0; b < n / 32; ++b, w += 16, y += 32) {
    int8x16_t lo, hi;
    load_i4(w, lo, hi);
    const float32x4_t s = vdupq_n_f32(a * half_to_float(scales[b]));
    const int8x16_t halves[2] = {lo, hi};
    for (int h = 0; h < 2; ++h) {
      const int16x8_t parts[2] = {vmovl_s8(vget_low_s8(halves[h])), vmovl_s8(vget_high_s8(halves[h]))};
      for (int q = 0; q < 2; ++q) {
        float* ys = y + 16 * h + 8 * q;
        vst1q_f32(ys, fma(vld1q_f32(ys), s, vcvtq_f32_s32(vmovl_s16(vget_low_s16(parts[q])))));
        vst1q_f32(ys + 4, fma(vld1q_f32(ys + 4), s, vcvtq_f32_s32(vmovl_s16(vget_high_s16(parts[q])))));
      }
    }
  }
}

const KernelSet kNeon{"neon", dot_f32, dot_f16, dot4_f32, dot4_f16, axpy_f32, axpy_f16, sum_f32, dot_i8, dot_i4, axpy_i8, axpy_i4};

}  // namespace

const KernelSet* neon_kernels() { return &kNeon; }

}  // namespace terra
