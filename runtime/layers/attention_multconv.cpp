#include "layers/attention_multconv.h"

#include <algorithm>

#include "kernels/kernel_set.h"
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
  const float* zeros;        // M zeros: what a tap reads beyond the first or last module
  float* out;
};

constexpr int kModuleBlock = 4;   // modules per kernel call (dot2x4_taps's four vectors)
constexpr int kTapsPerCall = 16;  // taps summed per kernel call (pointer tables on the stack)

// Modules [s0, s0 + 4) of one convolution, all M outputs:
//   out[s*M + o] = b[o] + sum_dt sum_ds K[dt, ds, o, :] · u[t - lk + 1 + dt, s - (kw-1)/2 + ds, :]
// Output rows go in pairs and every tap of a pair is summed in the same accumulators, so each
// output pays one horizontal sum (the kernel rows are out-major: a tap is M dot products of M).
void conv_block(const ConvJob& j, int s0) {
  const int lk = j.w->length_kernel, kw = j.w->module_kernel, half = (kw - 1) / 2, M = j.m, S = j.modules;
  const int count = std::min(kModuleBlock, S - s0);
  const KernelSet& k = kernels();
  const MatrixRef& K = j.w->kernel;  // f32 here (widened_kernel)
  for (int c = 0; c < count; ++c) std::copy(j.w->bias, j.w->bias + M, j.out + int64_t(s0 + c) * M);
  const float* u[kTapsPerCall * kModuleBlock];
  const float* w[kTapsPerCall * 2];
  int64_t tap_row[kTapsPerCall];
  int taps = 0;
  auto run = [&] {  // the taps gathered so far, for every output pair
    for (int o = 0; o < M; o += 2) {
      const int o1 = std::min(o + 1, M - 1);  // odd M: the last row twice, the copy dropped
      float acc[8];
      for (int t = 0; t < taps; ++t) {
        w[2 * t] = K.f32_row(tap_row[t] + o);
        w[2 * t + 1] = K.f32_row(tap_row[t] + o1);
      }
      for (int c = 0; c < kModuleBlock; ++c) {
        const int64_t base = int64_t(s0 + std::min(c, count - 1)) * M;
        acc[c] = j.out[base + o];
        acc[4 + c] = j.out[base + o1];
      }
      k.dot2x4_taps(w, u, taps, size_t(M), acc);
      for (int c = 0; c < count; ++c) {
        j.out[int64_t(s0 + c) * M + o] = acc[c];
        if (o1 != o) j.out[int64_t(s0 + c) * M + o1] = acc[4 + c];
      }
    }
    taps = 0;
  };
  for (int dt = 0; dt < lk; ++dt) {
    if (j.rows[dt] == nullptr) continue;  // causal zero padding before position 0
    for (int ds = 0; ds < kw; ++ds) {
      for (int c = 0; c < kModuleBlock; ++c) {
        const int src = s0 + c - half + ds;
        const bool inside = c < count && src >= 0 && src < S;  // zero padding at the module edges
        u[kModuleBlock * taps + c] = inside ? j.rows[dt] + int64_t(src) * M : j.zeros;
      }
      tap_row[taps] = int64_t(dt * kw + ds) * M;
      if (++taps == kTapsPerCall) run();
    }
  }
  if (taps > 0) run();
}

// Q, K and V in one dispatch (item i is block i % B of conv i / B): three small convolutions
// would each pay a thread wake-up and a barrier.
struct QkvJob {
  ConvJob conv[3];
  int blocks;  // B: module blocks per convolution
};
void conv_qkv(void* p, size_t begin, size_t end) {
  auto& j = *static_cast<QkvJob*>(p);
  for (size_t i = begin; i < end; ++i) conv_block(j.conv[i / size_t(j.blocks)], int(i % size_t(j.blocks)) * kModuleBlock);
}

// A non-f32 kernel widened into `out` (each weight then serves all S modules, so it is widened
// once per position instead of S times); an f32 kernel as it is.
ConvWeights widened_kernel(const ConvWeights& cw, float* out) {
  if (cw.kernel.dtype == DType::kF32) return cw;
  const int64_t rows = cw.kernel.rows, cols = cw.kernel.cols;
  for (int64_t r = 0; r < rows; ++r) copy_row(cw.kernel, r, out + r * cols);
  ConvWeights f = cw;
  f.kernel = MatrixRef::of(out, DType::kF32, rows, cols);
  return f;
}

}  // namespace

void multconv_attention_step(const AttentionWeights& w, const ModelConfig& c, const float* x, int pos,
                             const KVCache& cache, float* u_history, const AttentionScratch& s, float* out,
                             const ThreadPool& pool) {
  const int64_t d = c.d_model;
  const int lk = c.qkv_length_kernel;
  float* u = u_history + int64_t(pos % lk) * d;
  factored_dense(w.mult, x, s.gated, s.widened, u, pool);
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
    float* wide = s.conv_kernels;
    const ConvWeights cq = widened_kernel(w.conv_q, wide);
    if (cq.kernel.data == wide) wide += cq.kernel.rows * cq.kernel.cols;
    const ConvWeights ck = widened_kernel(w.conv_k, wide);
    if (ck.kernel.data == wide) wide += ck.kernel.rows * ck.kernel.cols;
    const ConvWeights cv = widened_kernel(w.conv_v, wide);
    std::fill(s.conv_zeros, s.conv_zeros + M, 0.0f);  // scratch: other layers write it between steps
    const int blocks = (S + kModuleBlock - 1) / kModuleBlock;
    QkvJob job{{{&cq, rows, S, M, s.conv_zeros, s.q}, {&ck, rows, S, M, s.conv_zeros, k_row},
                {&cv, rows, S, M, s.conv_zeros, v_row}},
               blocks};
    pool.parallel_for(size_t(3 * blocks), 1, conv_qkv, &job);
  }
  attend(s.q, {1, pos + 1, true, c.n_heads, c.head_dim(), c.head_dim()}, cache, s.attend, out, pool);  // no output projection
}

namespace {

// Modules of zero padding at each end of a position: the widest convolution's half kernel.
int module_pad(const AttentionWeights& w) {
  return std::max({(w.conv_q.module_kernel - 1) / 2, (w.conv_k.module_kernel - 1) / 2, (w.conv_v.module_kernel - 1) / 2});
}

// dst[t * d + s * M + o] = bias[o] + the convolution at position t, module s, for t < m.
void convolve(const ConvWeights& cw, int m, int S, int M, int H, int lead, const MultConvTokensScratch& ts, float* dst,
              int64_t d, const ThreadPool& pool) {
  const int P = S + 2 * H, lk = cw.length_kernel, kw = cw.module_kernel, half = (kw - 1) / 2;
  const int rows = (m - 1) * P + S;  // output (t, s) is row t * P + s
  bool first = true;
  for (int dt = 0; dt < lk; ++dt) {
    for (int ds = 0; ds < kw; ++ds) {
      // Input of output (t, s) for this tap: position t - (lk-1) + dt, module s - half + ds.
      const int64_t offset = int64_t(H) + int64_t(lead - (lk - 1) + dt) * P + ds - half;
      const MatrixRef tap = cw.kernel.row_range(int64_t(dt * kw + ds) * M, M);
      matmul_tokens(tap, ts.padded + offset * M, rows, nullptr, first ? ts.sum : ts.tap, *ts.mm, pool);
      if (!first) add_inplace(ts.sum, ts.tap, size_t(rows) * size_t(M));
      first = false;
    }
  }
  for (int t = 0; t < m; ++t) {
    for (int s = 0; s < S; ++s) {
      const float* a = ts.sum + (int64_t(t) * P + s) * M;
      float* o = dst + t * d + int64_t(s) * M;
      for (int k = 0; k < M; ++k) o[k] = a[k] + cw.bias[k];
    }
  }
}

}  // namespace

void plan_multconv_tokens(ArenaPlan& plan, MultConvTokensScratch& s, const AttentionWeights& w, const ModelConfig& c,
                          int block, int threads, MatmulScratch& mm) {
  const uint64_t d = uint64_t(c.d_model), S = uint64_t(std::max(c.qkv_sparsity, 1)), M = d / S;
  // 32 positions: the gated rows stay 2 MiB at d = 1024, S = 16, and each tap's product has
  // ~600 rows, plenty for XNNPACK's tiles.
  s.chunk = std::max(1, std::min(block, 32));
  const uint64_t chunk = uint64_t(s.chunk), H = uint64_t(module_pad(w)), P = S + 2 * H;
  const uint64_t lead = uint64_t(c.qkv_length_kernel - 1);
  plan_factored_dense_tokens(plan, s.mult, w.mult, s.chunk, threads, mm);
  plan.scratch(&s.padded, (lead + chunk) * P * M);
  plan.scratch(&s.sum, chunk * std::max(P * M, d));  // also the FactoredDense's outputs
  plan.scratch(&s.tap, chunk * P * M);
  s.mm = &mm;
  if (c.qkv_sparsity > 1) {
    plan_matmul(plan, mm, M, M, threads);  // a tap
  } else {
    plan_matmul(plan, mm, d, d, threads);  // q, k, v
  }
}

void multconv_attention_tokens(const AttentionWeights& w, const ModelConfig& c, const float* x, int n, int pos0,
                               const KVCache& cache, float* u_history, const AttentionScratch& s,
                               const MultConvTokensScratch& ts, float* q, float* out, const ThreadPool& pool) {
  const int64_t d = c.d_model;
  const int S = std::max(c.qkv_sparsity, 1), M = int(d) / S, lk = c.qkv_length_kernel, lead = lk - 1;
  const int H = S > 1 ? module_pad(w) : 0, P = S + 2 * H;
  for (int t0 = 0; t0 < n; t0 += ts.chunk) {
    const int m = std::min(ts.chunk, n - t0), p0 = pos0 + t0;
    float* u = ts.sum;  // [m, d]: the FactoredDense output of position p0 + t, module by module
    factored_dense_tokens(w.mult, x + int64_t(t0) * d, m, ts.mult, u, pool);
    if (S == 1) {  // plain Dense Q, K, V
      for (int t = 0; t < m; ++t) std::copy(u + t * d, u + (t + 1) * d, u_history + int64_t((p0 + t) % lk) * d);
      matmul_tokens(w.q.w, u, m, w.q.bias, q, *ts.mm, pool);
      matmul_tokens(w.k.w, u, m, w.k.bias, cache.k + int64_t(p0) * d, *ts.mm, pool);
      matmul_tokens(w.v.w, u, m, w.v.bias, cache.v + int64_t(p0) * d, *ts.mm, pool);
    } else {
      // The padded layout: the lead positions from the history ring (zero before position 0), then
      // this chunk's, every position with H zero modules at each end.
      std::fill(ts.padded, ts.padded + int64_t(lead + m) * P * M, 0.0f);
      for (int t = -lead; t < m; ++t) {
        const int pos = p0 + t;
        if (pos < 0) continue;
        const float* src = t < 0 ? u_history + int64_t(pos % lk) * d : u + int64_t(t) * d;
        std::copy(src, src + d, ts.padded + (int64_t(lead + t) * P + H) * M);
      }
      for (int t = 0; t < m; ++t) std::copy(u + t * d, u + (t + 1) * d, u_history + int64_t((p0 + t) % lk) * d);
      convolve(w.conv_q, m, S, M, H, lead, ts, q, d, pool);
      convolve(w.conv_k, m, S, M, H, lead, ts, cache.k + int64_t(p0) * d, d, pool);
      convolve(w.conv_v, m, S, M, H, lead, ts, cache.v + int64_t(p0) * d, d, pool);
    }
    attend(q, {m, p0 + 1, true, c.n_heads, c.head_dim(), c.head_dim()}, cache, s.attend, out + int64_t(t0) * d, pool);
  }
}

}  // namespace terra
