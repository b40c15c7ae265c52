#include "layers/feed_forward_layer.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/vector_ops.h"

namespace terra {

void FeedForwardLayer::plan(ArenaPlan& plan, const LayerLimits& limits) {
  const uint64_t d = uint64_t(c_.d_model), f = uint64_t(c_.d_ff);
  const uint64_t sru = uint64_t(c_.sru_layers) * uint64_t(c_.sru_width);
  plan.scratch(&s_.ff.normed, d);
  plan.scratch(&s_.ff.branch, d);
  chunk_ = std::min(limits.block, tokens_per_pass(s_.mm.engine));
  const uint64_t chunk = uint64_t(chunk_);
  plan.scratch(&s_.normed, chunk * d);
  if (w_.sparse) {
    const uint64_t r = uint64_t(c_.d_lowrank), blocks = uint64_t(c_.ff_blocks());
    plan.scratch(&sparse_.lowrank, r);
    plan.scratch(&sparse_.logits, f);
    plan.scratch(&sparse_.active, blocks);
    plan.scratch(&sparse_.selected, blocks);
    SparseFFTokensScratch& t = s_.sparse_ff;
    plan.scratch(&t.lowrank, chunk * r);
    plan.scratch(&t.logits, chunk * f);
    plan.scratch(&t.active, chunk * blocks);
    plan.scratch(&t.selected, chunk * blocks);
    plan.scratch(&t.order, chunk * blocks);
    plan.scratch(&t.first, f + 1);
    t.mm = &s_.mm;
    plan_matmul(plan, s_.mm, r, d, limits.threads);  // m1
    plan_matmul(plan, s_.mm, f, r, limits.threads);  // m2
  } else {
    plan.scratch(&s_.ff.dense.hidden, f);
    plan.scratch(&s_.hidden, chunk * f);
    plan_matmul(plan, s_.mm, f, d, limits.threads);  // w1
    plan_matmul(plan, s_.mm, d, f, limits.threads);  // w2
  }
  if (w_.has_sru) {
    if (decoder_) {
      plan.state(&sru_state_, sru, 0, /*zero_on_reset=*/true);  // the recurrence starts from zero
    } else {
      plan.scratch(&sru_state_, sru);
    }
    const uint64_t width = uint64_t(c_.sru_width);
    plan.scratch(&s_.ff.sru.normed, d);
    plan.scratch(&s_.ff.sru.h, width);
    plan.scratch(&s_.ff.sru.gates, 3 * width);
    plan.scratch(&s_.sru.normed, chunk * d);
    plan.scratch(&s_.sru.h, chunk * width);
    plan.scratch(&s_.sru.gates, chunk * 3 * width);
    plan.scratch(&s_.sru.out, chunk * d);
    s_.sru.mm = &s_.mm;
    plan_matmul(plan, s_.mm, width, d, limits.threads);      // in
    plan_matmul(plan, s_.mm, 3 * width, width, limits.threads);  // a cell's gates
    plan_matmul(plan, s_.mm, d, width, limits.threads);      // out
  }
}

void FeedForwardLayer::step(const float* x, int /*pos*/, float* out, const ThreadPool& pool) {
  feed_forward_step(w_, c_.layernorm_eps, x, s_.ff, sparse_, sru_state_, out, pool);
}

void FeedForwardLayer::tokens(const float* x, int n, int /*pos0*/, float* out, const ThreadPool& pool) {
  const int64_t d = c_.d_model;
  if (!decoder_ && w_.has_sru) std::fill(sru_state_, sru_state_ + c_.sru_layers * c_.sru_width, 0.0f);
  for (int t0 = 0; t0 < n; t0 += chunk_) {
    const int m = std::min(chunk_, n - t0);
    for (int t = 0; t < m; ++t) {
      layer_norm(x + (t0 + t) * d, w_.norm.scale, w_.norm.bias, c_.layernorm_eps, size_t(d), s_.normed + t * d);
    }
    if (w_.sparse) {
      sparse_ff_tokens(w_.sff, s_.normed, m, s_.sparse_ff, out + t0 * d, pool);
    } else {
      matmul_tokens(w_.w1.w, s_.normed, m, w_.w1.bias, s_.hidden, s_.mm, pool);
      activate_inplace(w_.activation, s_.hidden, size_t(m) * size_t(c_.d_ff));
      matmul_tokens(w_.w2.w, s_.hidden, m, w_.w2.bias, out + t0 * d, s_.mm, pool);
    }
    if (w_.has_sru) {  // the recurrence carries over from chunk to chunk
      sru_branch_tokens(w_.sru, x + t0 * d, m, c_.layernorm_eps, sru_state_, s_.sru, pool);
      add_inplace(out + t0 * d, s_.sru.out, size_t(m) * size_t(d));
    }
  }
  if (w_.sparse && n > 0) {  // selected_units(): the last position's choice, as a step leaves it
    const int blocks = c_.ff_blocks(), last = (n - 1) % chunk_;
    for (int i = 0; i < blocks; ++i) {
      sparse_.selected[i] = s_.sparse_ff.selected[int64_t(last) * blocks + i] - i * w_.sff.units;
    }
  }
}

}  // namespace terra
