#include "layers/attention_multconv.h"

#include <algorithm>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/factored_dense.h"

namespace terra {

namespace {

struct ConvJob {
  const ConvWeights* w;
  const float* const* rows;  // u of positions pos-lk+1 .. pos (null before the sequence start)
  int modules;               // S
  int m;                     // M channels per module
  float* out;
};

// out[s*M + o] = b[o] + sum_dt sum_ds K[dt, ds, :, o] · u[t - lk + 1 + dt, s - (kw-1)/2 + ds, :]
void conv_modules(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<ConvJob*>(p);
  const int lk = j.w->length_kernel, kw = j.w->module_kernel, half = (kw - 1) / 2, M = j.m;
  const RowOps& ops = row_ops(j.w->kernel.dtype);
  for (size_t s = begin; s < end; ++s) {
    float* out = j.out + s * size_t(M);
    for (int o = 0; o < M; ++o) out[o] = j.w->bias[o];
    for (int dt = 0; dt < lk; ++dt) {
      if (j.rows[dt] == nullptr) continue;  // causal zero padding before position 0
      for (int ds = 0; ds < kw; ++ds) {
        const int src = int(s) - half + ds;
        if (src < 0 || src >= j.modules) continue;  // zero padding at the module edges
        const float* u = j.rows[dt] + int64_t(src) * M;
        const int64_t tap = int64_t(dt * kw + ds) * M;
        ops.add_dots(j.w->kernel, tap, M, u, out);  // the tap's M outputs, four per pass over u
      }
    }
  }
}

// Q, K and V in one dispatch (item i is module i % S of conv i / S): three small convolutions
// would each pay a thread wake-up and a barrier.
struct QkvJob {
  ConvJob conv[3];
};
void conv_qkv(void* p, size_t begin, size_t end) {
  auto& j = *static_cast<QkvJob*>(p);
  const size_t S = size_t(j.conv[0].modules);
  for (size_t i = begin; i < end; ++i) conv_modules(&j.conv[i / S], i % S, i % S + 1);
}

}  // namespace

void multconv_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                             const KVCache& cache, float* u_history, const AttentionScratch& s, float* out,
                             const ThreadPool& pool) {
  const int64_t d = c.d_model;
  const int lk = c.qkv_length_kernel;
  float* u = u_history + int64_t(pos % lk) * d;
  factored_dense(w.mult, x, s.gated, u, pool);
  float* k_row = cache.k + int64_t(pos) * d;
  float* v_row = cache.v + int64_t(pos) * d;
  if (c.qkv_sparsity == 1) {
    matvec(w.q.w, u, w.q.bias, s.q, pool);
    matvec(w.k.w, u, w.k.bias, k_row, pool);
    matvec(w.v.w, u, w.v.bias, v_row, pool);
  } else {
    const float* rows[64];
    for (int dt = 0; dt < lk; ++dt) {
      const int t = pos - (lk - 1) + dt;
      rows[dt] = t < 0 ? nullptr : u_history + int64_t(t % lk) * d;
    }
    const int S = c.qkv_sparsity, M = int(d) / S;
    QkvJob job{{{&w.conv_q, rows, S, M, s.q}, {&w.conv_k, rows, S, M, k_row}, {&w.conv_v, rows, S, M, v_row}}};
    pool.parallel_for(size_t(3 * S), 1, conv_qkv, &job);
  }
  attend(s.q, {1, pos + 1, true, c.n_heads, c.head_dim(), c.head_dim()}, cache, s.attend, out, pool);  // no output projection
}

}  // namespace terra
