// Scaled dot-product attention of one query over cached keys and values, per head:
// context_h = softmax(q_h k_hᵀ / sqrt(dk)) v_h over rows [0, n). Shared by every attention kind,
// causal (n = positions so far) and the encoder's full attention (n = input length).
#pragma once

namespace terra {

struct KVCache {
  float* k = nullptr;  // [capacity, heads * dk]: row t is the key of position t
  float* v = nullptr;  // [capacity, heads * dv]
};

// Head h reads q and keys at [h*dk, (h+1)*dk) and values at [h*dv, (h+1)*dv) and writes its
// context there; the scale is 1/sqrt(dk).
void attend(const float* q, const KVCache& cache, int n, int heads, int dk, int dv, float* scores, float* context);

}  // namespace terra
