#include "layers/attention_layers.h"

#include <algorithm>

#include "core/jax_random.h"
#include "kernels/matmul.h"
#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/attention_multconv.h"

namespace terra {

namespace {
uint64_t key_width(const ModelConfig& c) { return uint64_t(c.n_heads) * uint64_t(c.key_dim()); }
uint64_t value_width(const ModelConfig& c) { return uint64_t(c.n_heads) * uint64_t(c.value_dim()); }
}  // namespace

void DenseAttentionLayer::plan(ArenaPlan& plan, const LayerLimits& limits) {
  const uint64_t d = uint64_t(c_.d_model), kw = key_width(c_), vw = value_width(c_);
  const uint64_t positions = uint64_t(limits.positions), block = uint64_t(limits.block);
  if (causal_) {
    plan.state(&cache_.k, positions * kw, kw);
    plan.state(&cache_.v, positions * vw, vw);
  } else {
    plan.scratch(&s_.kv.k, positions * kw);
    plan.scratch(&s_.kv.v, positions * vw);
  }
  plan.scratch(&s_.attn.q, std::max(d, kw));
  plan.scratch(&s_.attn.context, std::max(d, vw));
  plan_attend(plan, s_.attn.attend, positions, limits.block, std::max(c_.key_dim(), c_.value_dim()), limits.threads,
              s_.mm);
  plan.scratch(&s_.normed, block * d);
  plan.scratch(&s_.q, block * kw);
  plan.scratch(&s_.context, block * vw);
  plan_matmul(plan, s_.mm, kw, d, limits.threads);  // q, k
  plan_matmul(plan, s_.mm, vw, d, limits.threads);  // v
  plan_matmul(plan, s_.mm, d, vw, limits.threads);  // o
}

void DenseAttentionLayer::step(const float* x, int pos, float* out, const ThreadPool& pool) {
  if (!causal_) return tokens(x, 1, pos, out, pool);
  layer_norm(x, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(c_.d_model), s_.normed);
  dense_attention_step(w_, c_, s_.normed, pos, cache_, s_.attn, out, pool);
}

void DenseAttentionLayer::tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) {
  const int64_t d = c_.d_model, kw = int64_t(key_width(c_)), vw = int64_t(value_width(c_));
  for (int t = 0; t < n; ++t) {
    layer_norm(x + t * d, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed + t * d);
  }
  // Keys and values of the whole block first (each weight matrix read once), then each position
  // attends: causally over the cache, or (encoder) over the whole input.
  const KVCache& keys = causal_ ? cache_ : s_.kv;
  const int64_t first = causal_ ? pos0 : 0;
  matmul_tokens(w_.q.w, s_.normed, n, w_.q.bias, s_.q, s_.mm, pool);
  matmul_tokens(w_.k.w, s_.normed, n, w_.k.bias, keys.k + first * kw, s_.mm, pool);
  matmul_tokens(w_.v.w, s_.normed, n, w_.v.bias, keys.v + first * vw, s_.mm, pool);
  const AttendShape shape{n, causal_ ? pos0 + 1 : n, causal_, c_.n_heads, c_.key_dim(), c_.value_dim()};
  attend(s_.q, shape, keys, s_.attn.attend, s_.context, pool);
  matmul_tokens(w_.o.w, s_.context, n, w_.o.bias, out, s_.mm, pool);
}

void MultConvAttentionLayer::plan(ArenaPlan& plan, const LayerLimits& limits) {
  const uint64_t d = uint64_t(c_.d_model), positions = uint64_t(limits.positions);
  plan.state(&cache_.k, positions * d, d);
  plan.state(&cache_.v, positions * d, d);
  plan.state(&u_history_, uint64_t(c_.qkv_length_kernel) * d);
  plan.scratch(&s_.attn.q, std::max(d, key_width(c_)));
  plan.scratch(&s_.attn.gated, uint64_t(std::max(c_.qkv_sparsity, 1)) * d);
  plan.scratch(&s_.attn.widened, uint64_t(limits.threads) * d);
  uint64_t conv = 0;  // the convolution kernels a step widens to f32 (attention_multconv.cpp)
  for (const ConvWeights* cw : {&w_.conv_q, &w_.conv_k, &w_.conv_v}) {
    if (cw->kernel.dtype != DType::kF32) conv += uint64_t(cw->kernel.rows) * uint64_t(cw->kernel.cols);
  }
  if (conv > 0) plan.scratch(&s_.attn.conv_kernels, conv);
  if (c_.qkv_sparsity > 1) plan.scratch(&s_.attn.conv_zeros, d / uint64_t(c_.qkv_sparsity));
  plan_attend(plan, s_.attn.attend, positions, limits.block, c_.head_dim(), limits.threads, s_.mm);
  plan.scratch(&s_.normed, uint64_t(limits.block) * d);
  plan_multconv_tokens(plan, s_.multconv, w_, c_, limits.block, limits.threads, s_.mm);
  plan.scratch(&s_.q, uint64_t(s_.multconv.chunk) * d);
}

void MultConvAttentionLayer::step(const float* x, int pos, float* out, const ThreadPool& pool) {
  layer_norm(x, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(c_.d_model), s_.normed);
  multconv_attention_step(w_, c_, s_.normed, pos, cache_, u_history_, s_.attn, out, pool);
}

void MultConvAttentionLayer::tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) {
  const int64_t d = c_.d_model;
  for (int t = 0; t < n; ++t) {
    layer_norm(x + t * d, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed + t * d);
  }
  multconv_attention_tokens(w_, c_, s_.normed, n, pos0, cache_, u_history_, s_.attn, s_.multconv, s_.q, out, pool);
}

}  // namespace terra

namespace terra {

LshAttentionLayer::LshAttentionLayer(const AttentionWeights& w, const ModelConfig& c, LayerScratch& s, bool decoder)
    : w_(w), c_(c), s_(s), lsh_(lsh_settings(c, decoder)), decoder_(decoder) {}

void LshAttentionLayer::draw_rotations(const LshSettings& call, float* out) const {
  const int64_t per_head = int64_t(lsh_.dk) * call.rotation_cols();
  for (int h = 0; h < lsh_.heads; ++h) {
    jax::normal_into(jax::key_from_halves(w_.hash_keys + 4 * h), size_t(per_head), out + h * per_head);
  }
}

const float* LshAttentionLayer::call_rotations(const LshSettings& call) const {
  if (!lsh_.derived) return w_.rotations;
  draw_rotations(call, s_.lsh.rotations);
  return s_.lsh.rotations;
}

void LshAttentionLayer::plan(ArenaPlan& plan, const LayerLimits& limits) {
  const uint64_t d = uint64_t(c_.d_model), H = uint64_t(lsh_.heads);
  const uint64_t kw = H * uint64_t(lsh_.dk), vw = H * uint64_t(lsh_.dv), t = uint64_t(limits.threads);
  // Rows one call projects: the encoder's whole input; the decoder's first call (at most `block`).
  // The normed rows are not needed once projected: the heads' outputs go there (a long input's
  // rows are held in as few buffers as the layer needs).
  const uint64_t rows = uint64_t(std::max(limits.block, 1));
  plan.scratch(&s_.normed, rows * std::max(d, vw));
  plan.scratch(&s_.lsh.qk, rows * kw);
  plan.scratch(&s_.lsh.v, rows * vw);
  plan.scratch(&s_.context, vw);  // a decoded row's
  const int most = std::min(limits.block, limits.positions);
  const int slots = decoder_ ? std::max(lsh_.first_call_slots(std::max(most, 2)), lsh_.first_call_slots(1))
                             : lsh_.encoder_slots(most);
  const LshSettings widest = lsh_.widest(slots);
  plan_lsh_pass(plan, s_.lsh.pass, widest, uint64_t(slots), limits.threads);
  if (lsh_.derived) plan.scratch(&s_.lsh.rotations, H * uint64_t(lsh_.dk) * uint64_t(widest.rotation_cols()));
  plan_matmul(plan, s_.mm, kw, d, limits.threads);  // qk
  plan_matmul(plan, s_.mm, vw, d, limits.threads);  // v
  plan_matmul(plan, s_.mm, d, vw, limits.threads);  // o
  if (!decoder_) return;
  lsh_.mem_rows = std::min(lsh_.mem_len, limits.positions + 1);  // + 1: the row after the last is read
  step_ = lsh_.at_length(2);  // (after mem_rows: the step reads it from these settings)
  if (lsh_.derived) plan.state(&step_rotations_, H * uint64_t(lsh_.dk) * uint64_t(step_.rotation_cols()));
  const uint64_t mem = uint64_t(lsh_.mem_rows);
  plan.state(&keys_, mem * kw, 0, true);
  plan.state(&values_, mem * vw, 0, true);
  plan.state(&buckets_, H * uint64_t(lsh_.n_hashes) * mem, true);
  plan.state(&counters_, 3, true);
  plan.scratch(&s_.lsh.rotated, t * uint64_t(step_.rotation_cols()));
  plan.scratch(&s_.lsh.dots, t * uint64_t(lsh_.candidates()));
  plan.scratch(&s_.lsh.picked, t * uint64_t(lsh_.candidates()));
}

void LshAttentionLayer::tokens(const float* x, int n, int pos0, float* out, const ThreadPool& pool) {
  const int64_t d = c_.d_model;
  if (decoder_ && (pos0 > 0 || n == 1)) {  // trax decodes one row per call after the first
    for (int t = 0; t < n; ++t) step(x + t * d, pos0 + t, out + t * d, pool);
    return;
  }
  for (int t = 0; t < n; ++t) {
    layer_norm(x + t * d, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed + t * d);
  }
  matmul_tokens(w_.q.w, s_.normed, n, w_.q.bias, s_.lsh.qk, s_.mm, pool);
  matmul_tokens(w_.v.w, s_.normed, n, w_.v.bias, s_.lsh.v, s_.mm, pool);
  if (decoder_) {
    first_call(n, out, pool);
  } else {
    encode(n, out, pool);
  }
}

void LshAttentionLayer::encode(int n, float* out, const ThreadPool& pool) {
  const int64_t kw = int64_t(lsh_.heads) * lsh_.dk, vw = int64_t(lsh_.heads) * lsh_.dv;
  const int slots = lsh_.encoder_slots(n);
  const LshSettings call = lsh_.at_length(slots);
  const float* rotations = call_rotations(call);
  for (int h = 0; h < lsh_.heads; ++h) {
    LshPass p{rotations + int64_t(h) * lsh_.dk * call.rotation_cols(), s_.lsh.qk + h * lsh_.dk, s_.lsh.v + h * lsh_.dv,
              kw, vw, n, slots, call.n_buckets, s_.normed + h * lsh_.dv, vw};
    lsh_pass_head(call, p, s_.lsh.pass, pool);
  }
  matmul_tokens(w_.o.w, s_.normed, n, w_.o.bias, out, s_.mm, pool);
}

void LshAttentionLayer::first_call(int n, float* out, const ThreadPool& pool) {
  const int64_t kw = int64_t(lsh_.heads) * lsh_.dk, vw = int64_t(lsh_.heads) * lsh_.dv;
  const int mem = lsh_.mem_rows, keep = std::min(n, lsh_.mem_len), slots = lsh_.first_call_slots(n);
  const int nh = lsh_.n_hashes;
  const LshSettings call = lsh_.at_length(slots);
  const float* rotations = call_rotations(call);
  std::fill(keys_, keys_ + int64_t(mem) * kw, 0.0f);
  std::fill(values_, values_ + int64_t(mem) * vw, 0.0f);
  std::fill(buckets_, buckets_ + int64_t(lsh_.heads) * nh * mem, 0);
  for (int h = 0; h < lsh_.heads; ++h) {
    // In trax's append branch the memory's zero rows are hashed and sorted too: zero keys in
    // bucket 0 after every real row, so always masked, but they take their slots in the chunks.
    LshPass p{rotations + int64_t(h) * lsh_.dk * call.rotation_cols(), s_.lsh.qk + h * lsh_.dk, s_.lsh.v + h * lsh_.dv,
              kw, vw, n, slots, 0, s_.normed + h * lsh_.dv, vw};
    lsh_pass_head(call, p, s_.lsh.pass, pool);
    // The memory keeps the last mem_len rows (all of them in the append branch).
    for (int i = 0; i < keep; ++i) {
      const int row = n - keep + i;
      const float* key = s_.lsh.pass.keys + int64_t(row) * lsh_.dk;
      std::copy(key, key + lsh_.dk, keys_ + i * kw + h * lsh_.dk);
      for (int r = 0; r < nh; ++r) {
        buckets_[(int64_t(h) * nh + r) * mem + i] = s_.lsh.pass.buckets[int64_t(r) * slots + row] + r * call.n_buckets;
      }
    }
  }
  std::copy(s_.lsh.v + int64_t(n - keep) * vw, s_.lsh.v + int64_t(n) * vw, values_);
  counters_[0] = keep;
  counters_[1] = n;
  matmul_tokens(w_.o.w, s_.normed, n, w_.o.bias, out, s_.mm, pool);
}

namespace {

struct LshStepJob {
  const LshSettings* s;
  const float* qk;  // the row's raw query/key, [heads * dk]
  const float* rotations;
  float* keys;
  const float* values;
  int32_t* buckets;
  const LayerScratch::Lsh* scratch;
  int q_start, shift;
  float* context;
  size_t parts;
};

// Part i takes heads i, i + parts, ...: follow the memory's roll in the stored buckets, hash the
// row into its column, attend.
void lsh_step_part(void* ctx, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<LshStepJob*>(ctx);
  const LshSettings& s = *j.s;
  const int mem = s.mem_rows, K = s.candidates();
  const int64_t kw = int64_t(s.heads) * s.dk, vw = int64_t(s.heads) * s.dv;
  int32_t b[64];
  for (int h = int(part); h < s.heads; h += int(j.parts)) {
    const float* q = j.qk + h * s.dk;
    for (int r = 0; r < s.n_hashes; ++r) {
      int32_t* row = j.buckets + (int64_t(h) * s.n_hashes + r) * mem;
      if (j.shift > 0) {
        std::copy(row + j.shift, row + mem, row);
        std::fill(row + mem - j.shift, row + mem, 0);
      }
    }
    lsh_hash_row(s, j.rotations + int64_t(h) * s.dk * s.rotation_cols(), q, j.scratch->rotated + part * s.rotation_cols(), b);
    for (int r = 0; r < s.n_hashes; ++r) {
      j.buckets[(int64_t(h) * s.n_hashes + r) * mem + j.q_start] = b[r] + r * s.n_buckets;
    }
    lsh_step_head(s, q, j.keys + h * s.dk, kw, j.values + h * s.dv, vw,
                  j.buckets + int64_t(h) * s.n_hashes * mem, j.q_start, j.scratch->dots + part * size_t(K),
                  j.scratch->picked + part * size_t(K), j.context + h * s.dv);
  }
}

}  // namespace

void LshAttentionLayer::step(const float* x, int pos, float* out, const ThreadPool& pool) {
  if (!decoder_) return tokens(x, 1, pos, out, pool);
  const int64_t d = c_.d_model, kw = int64_t(lsh_.heads) * lsh_.dk, vw = int64_t(lsh_.heads) * lsh_.dv;
  const int mem = lsh_.mem_len, drop = lsh_.drop_len;  // (mem_rows == mem_len when the memory can fill)
  layer_norm(x, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed);
  float* qk = s_.lsh.qk;
  // Float activations for the query/key, as for the sparse FF's controller: the bucket argmax
  // turns a small change into other keys.
  matvec(w_.q.w, s_.normed, w_.q.bias, qk, pool, /*exact=*/true);
  int mem_end = counters_[0];
  const int buckets_idx = counters_[1];
  if (mem_end + 1 > mem) {  // full: drop the oldest drop_len rows (trax _use_predict_mem)
    std::copy(keys_ + drop * kw, keys_ + mem * kw, keys_);
    std::fill(keys_ + (mem - drop) * kw, keys_ + mem * kw, 0.0f);
    std::copy(values_ + drop * vw, values_ + mem * vw, values_);
    std::fill(values_ + (mem - drop) * vw, values_ + mem * vw, 0.0f);
    mem_end -= drop;
  }
  const int q_start = mem_end;
  matvec(w_.v.w, s_.normed, w_.v.bias, values_ + q_start * vw, pool);
  for (int h = 0; h < lsh_.heads; ++h) lsh_key(qk + h * lsh_.dk, lsh_.dk, keys_ + q_start * kw + h * lsh_.dk);
  // trax roll_buckets: the stored buckets shift with the memory, by at most drop_len.
  const int shift = buckets_idx > q_start ? std::min(buckets_idx - q_start, drop) : 0;
  const uint64_t work = uint64_t(lsh_.heads) * uint64_t(lsh_.candidates()) * uint64_t(lsh_.dk + lsh_.dv);
  // trax hashes a decoded row as a call of two rows (the row twice): with a derived count, that
  // call's count, whatever the memory's rows were hashed with.
  if (lsh_.derived && counters_[2] == 0) {  // the same for every decoded row: drawn at the first
    draw_rotations(step_, step_rotations_);
    counters_[2] = 1;
  }
  const float* rotations = lsh_.derived ? step_rotations_ : w_.rotations;
  LshStepJob job{&step_, qk, rotations, keys_, values_, buckets_, &s_.lsh, q_start, shift, s_.context,
                 work < (uint64_t(1) << 16) ? 1 : std::min<size_t>(pool.threads(), size_t(lsh_.heads))};
  pool.parallel_for(job.parts, 1, lsh_step_part, &job);
  counters_[0] = mem_end + 1;
  counters_[1] = q_start + 1;
  matvec(w_.o.w, s_.context, w_.o.bias, out, pool);
}

}  // namespace terra
