// Scaled dot-product attention of one query over cached keys and values, per head:
// context_h = softmax(q_h k_hᵀ / sqrt(dh)) v_h over rows [0, n). Shared by every attention kind,
// causal (n = positions so far) and the encoder's full attention (n = input length).
#pragma once

namespace terra {

struct KVCache {
  float* k = nullptr;  // [capacity, d]: row t is the key of position t
  float* v = nullptr;  // [capacity, d]
};

void attend(const float* q, const KVCache& cache, int n, int d, int heads, float* scores, float* context);

}  // namespace terra
