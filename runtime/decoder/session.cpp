#include "decoder/session.h"

#include <algorithm>
#include <utility>

#include "kernels/matvec.h"
#include "kernels/vector_ops.h"
#include "layers/embedding.h"

namespace terra {

Result<std::unique_ptr<Session>> Session::create(const Model& model, const SessionOptions& options) {
  const ModelConfig& c = model.config();
  if (options.threads < 1 || options.threads > 256) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "threads = " + std::to_string(options.threads) + ": must be in [1, 256]");
  }
  int max_context = options.max_context;
  if (max_context == 0) max_context = std::min(c.max_len, 4096);
  if (max_context < 1 || max_context > (1 << 24)) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "max context = " + std::to_string(max_context) + ": must be in [1, 16777216]");
  }
  if (c.pos_encoding == PosEncoding::kLearned && max_context > c.max_len) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "max context = " + std::to_string(max_context) + " exceeds the model's learned position table of " +
                             std::to_string(c.max_len));
  }
  std::unique_ptr<Session> s(new Session(model, options, max_context));
  TERRA_RETURN_IF_ERROR(s->plan());
  return s;
}

Session::Session(const Model& model, const SessionOptions& options, int max_context)
    : model_(model),
      config_(model.config()),
      weights_(model.weights()),
      max_context_(max_context),
      pool_(size_t(options.threads)) {}

Status Session::plan() {
  const ModelConfig& c = config_;
  const size_t d = size_t(c.d_model), f = size_t(c.d_ff), ctx = size_t(max_context_);
  const size_t F = sizeof(float);
  const size_t a = arena_.reserve(d * F), b = arena_.reserve(d * F);
  const size_t normed = arena_.reserve(d * F), branch = arena_.reserve(d * F);
  const size_t logits = arena_.reserve(size_t(c.vocab_size) * F);
  const size_t q = arena_.reserve(d * F), context = arena_.reserve(d * F), scores = arena_.reserve(ctx * F);
  const size_t n_kv = size_t(c.n_decoder_layers) * size_t(c.n_decoder_attention_layers);
  std::vector<std::pair<size_t, size_t>> kv;
  for (size_t i = 0; i < n_kv; ++i) kv.emplace_back(arena_.reserve(ctx * d * F), arena_.reserve(ctx * d * F));
  const bool sparse = c.ff_sparsity > 0;
  const size_t hidden = sparse ? 0 : arena_.reserve(f * F);
  struct SparseOffsets { size_t lowrank, logits, active, selected; };
  std::vector<SparseOffsets> sff;
  if (sparse) {
    const size_t B = size_t(c.ff_blocks());
    for (int L = 0; L < c.n_decoder_layers; ++L) {
      sff.push_back({arena_.reserve(size_t(c.d_lowrank) * F), arena_.reserve(f * F), arena_.reserve(B * F),
                     arena_.reserve(B * sizeof(int32_t))});
    }
  }
  TERRA_RETURN_IF_ERROR(arena_.allocate());

  stream_a_ = arena_.at<float>(a);
  stream_b_ = arena_.at<float>(b);
  normed_ = arena_.at<float>(normed);
  branch_ = arena_.at<float>(branch);
  logits_ = arena_.at<float>(logits);
  attn_ = {arena_.at<float>(q), arena_.at<float>(context), arena_.at<float>(scores)};
  for (auto [k, v] : kv) kv_.push_back({arena_.at<float>(k), arena_.at<float>(v)});
  if (!sparse) dense_ff_.hidden = arena_.at<float>(hidden);
  for (const SparseOffsets& o : sff) {
    sparse_ff_.push_back({arena_.at<float>(o.lowrank), arena_.at<float>(o.logits), arena_.at<float>(o.active),
                          arena_.at<int32_t>(o.selected)});
  }
  return Status::Ok();
}

Status Session::check_token(int token) const {
  if (token < 0 || token >= config_.vocab_size) {
    return Status::Error(ErrorCode::kInvalidArgument, "token id " + std::to_string(token) +
                                                          " is outside the vocabulary [0, " +
                                                          std::to_string(config_.vocab_size) + ")");
  }
  return Status::Ok();
}

Status Session::step(int token) {
  TERRA_RETURN_IF_ERROR(check_token(token));
  if (position_ >= max_context_) {
    return Status::Error(ErrorCode::kOutOfRange, "the context is full: this session holds " +
                                                     std::to_string(max_context_) + " tokens");
  }
  forward(token, true);
  return Status::Ok();
}

Status Session::prefill(const int* tokens, size_t count) {
  // Check everything first so a bad prompt leaves the session as it was.
  for (size_t i = 0; i < count; ++i) TERRA_RETURN_IF_ERROR(check_token(tokens[i]));
  if (count > size_t(max_context_ - position_)) {
    return Status::Error(ErrorCode::kOutOfRange,
                         "a prompt of " + std::to_string(count) + " tokens after " + std::to_string(position_) +
                             " does not fit this session's context of " + std::to_string(max_context_) + " tokens");
  }
  for (size_t i = 0; i < count; ++i) forward(tokens[i], i + 1 == count);
  return Status::Ok();
}

const int32_t* Session::selected_units(int layer) const {
  if (layer < 0 || size_t(layer) >= sparse_ff_.size()) return nullptr;
  return sparse_ff_[size_t(layer)].selected;
}

void Session::forward(int token, bool want_logits) {
  const ModelConfig& c = config_;
  const size_t d = size_t(c.d_model);
  const int pos = position_;

  embed_token(weights_.embedding, token, stream_a_);
  add_position(weights_.pos, c, pos, stream_a_);
  std::copy(stream_a_, stream_a_ + d, stream_b_);

  // Reversible half-residual: x += F(LN(y)), then the streams swap roles.
  float* x = stream_a_;
  float* y = stream_b_;
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const DecoderLayerWeights& lw = weights_.layers[size_t(L)];
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      const AttentionWeights& aw = lw.attention[size_t(k)];
      layer_norm(y, aw.norm.scale, aw.norm.bias, c.layernorm_eps, d, normed_);
      const KVCache& cache = kv_[size_t(L) * size_t(c.n_decoder_attention_layers) + size_t(k)];
      dense_attention_step(aw, c, normed_, pos, cache, attn_, branch_, pool_);
      add_inplace(x, branch_, d);
      std::swap(x, y);
    }
    layer_norm(y, lw.ff.norm.scale, lw.ff.norm.bias, c.layernorm_eps, d, normed_);
    if (lw.ff.sparse) {
      sparse_ff_step(lw.ff.sff, normed_, sparse_ff_[size_t(L)], branch_, pool_);
    } else {
      dense_ff_step(lw.ff, normed_, dense_ff_, branch_, pool_);
    }
    add_inplace(x, branch_, d);
    std::swap(x, y);
  }
  ++position_;
  if (!want_logits) return;

  for (size_t i = 0; i < d; ++i) branch_[i] = (x[i] + y[i]) * 0.5f;
  layer_norm(branch_, weights_.out_norm.scale, weights_.out_norm.bias, c.layernorm_eps, d, normed_);
  matvec(weights_.loss.w, normed_, weights_.loss.bias, logits_, pool_);
}

}  // namespace terra
