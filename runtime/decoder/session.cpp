#include "decoder/session.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/kernel_set.h"
#include "kernels/matmul.h"
#include "kernels/vector_ops.h"
#include "layers/attention_multconv.h"
#include "layers/embedding.h"
#include "layers/loss.h"
#include "platform/platform.h"

namespace terra {

Result<std::unique_ptr<Session>> Session::create(const Model& model, const SessionOptions& options) {
  const ModelConfig& c = model.config();
  auto invalid = [](const std::string& what) { return Status::Error(ErrorCode::kInvalidArgument, what); };
  if (options.threads < 1 || options.threads > 256) {
    return invalid("threads = " + std::to_string(options.threads) + ": must be in [1, 256]");
  }
  const int max_context = options.max_context == 0 ? std::min(c.max_len, 4096) : options.max_context;
  if (max_context < 1 || max_context > (1 << 24)) {
    return invalid("max context = " + std::to_string(max_context) + ": must be in [1, 16777216]");
  }
  const bool has_encoder = c.n_encoder_layers > 0;
  const int max_input = !has_encoder ? 0 : options.max_input == 0 ? max_context : options.max_input;
  if (max_input < 0 || max_input > max_context) {
    return invalid("max input = " + std::to_string(max_input) + ": must be in [0, max context " +
                   std::to_string(max_context) + "]");
  }
  if (c.pos_encoding == PosEncoding::kLearned && std::max(max_context - max_input, max_input) > c.max_len) {
    return invalid("max context = " + std::to_string(max_context) + " exceeds the model's learned position table of " +
                   std::to_string(c.max_len));
  }
  if (c.pos_encoding == PosEncoding::kFixedBase) {
    // trax requires positions below min(base)^digits; past it the digits wrap around.
    uint64_t limit = 1;
    const int base = *std::min_element(c.pos_bases.begin(), c.pos_bases.end());
    for (int i = 0; i < c.pos_n_digits && limit <= uint64_t(1) << 32; ++i) limit *= uint64_t(base);
    if (uint64_t(max_context) > limit) {
      return invalid("max context = " + std::to_string(max_context) + " exceeds the " + std::to_string(limit) +
                     " positions the fixed-base encoding distinguishes");
    }
  }
  (void)kernels();  // choose the kernel set now: it asks cpuinfo, which allocates
  std::unique_ptr<Session> s(new Session(model, options, max_context, max_input));
  TERRA_RETURN_IF_ERROR(s->plan(options.max_memory));
  return s;
}

Session::Session(const Model& model, const SessionOptions& options, int max_context, int max_input)
    : config_(model.config()),
      weights_(model.weights()),
      max_context_(max_context),
      max_input_(max_input),
      residual_(model.config().block_type == BlockType::kResidual),
      pool_(size_t(options.threads), options.pin_threads) {}

Status Session::plan(uint64_t max_memory) {
  const ModelConfig& c = config_;
  const size_t F = sizeof(float);
  const uint64_t d = uint64_t(c.d_model), ctx = uint64_t(max_context_), in = uint64_t(max_input_);
  // Dense attention's query/key and value widths (mult_conv uses d for both).
  const uint64_t kw = uint64_t(c.n_heads) * uint64_t(c.key_dim()), vw = uint64_t(c.n_heads) * uint64_t(c.value_dim());
  const uint64_t out_width = uint64_t(c.output_width());
  const uint64_t sru = uint64_t(c.sru_layers) * uint64_t(c.sru_width), B = uint64_t(c.ff_blocks());
  const uint64_t S = uint64_t(std::max(c.qkv_sparsity, 1));
  // Pass 1 records offsets; pass 2, after the one allocation, turns them into pointers.
  struct Slot { size_t offset; float** f; int32_t** i; };
  std::vector<Slot> slots;
  // Element counts multiply in 64 bits; reserve() catches what does not fit size_t.
  auto want = [&](float** p, uint64_t floats) { slots.push_back({arena_.reserve(floats, F), p, nullptr}); };
  auto want_int = [&](int32_t** p, uint64_t n) { slots.push_back({arena_.reserve(n, 4), nullptr, p}); };

  want(&stream_a_, d);
  want(&stream_b_, d);
  want(&normed_, std::max(d, out_width));
  want(&branch_, std::max(d, out_width));
  want(&logits_, uint64_t(c.output_vocab()));
  if (c.loss_sparsity > 0) want(&loss_gated_, uint64_t(c.loss_sparsity) * out_width);
  want(&attn_.q, std::max(d, kw));
  want(&attn_.context, std::max(d, vw));
  want(&attn_.scores, std::max(ctx, in));
  want(&attn_.gated, S * d);
  want(&ff_.normed, d);
  want(&ff_.branch, d);
  if (c.ff_sparsity == 0) want(&ff_.dense.hidden, uint64_t(c.d_ff));
  if (sru > 0) {
    want(&ff_.sru.normed, d);
    want(&ff_.sru.h, uint64_t(c.sru_width));
    want(&ff_.sru.gates, 3 * uint64_t(c.sru_width));
  }
  auto want_sparse = [&](SparseFFScratch* s) {
    if (B == 0) return;
    want(&s->lowrank, uint64_t(c.d_lowrank));
    want(&s->logits, uint64_t(c.d_ff));
    want(&s->active, B);
    want_int(&s->selected, B);
  };
  layers_.resize(size_t(c.n_decoder_layers));
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    LayerState& st = layers_[size_t(L)];
    st.kv.resize(size_t(c.n_decoder_attention_layers));
    st.u_history.assign(size_t(c.n_decoder_attention_layers), nullptr);
    const bool mult_conv = c.decoder_attention_type(L) == AttentionType::kMultConv;
    for (size_t k = 0; k < st.kv.size(); ++k) {
      want(&st.kv[k].k, ctx * (mult_conv ? d : kw));
      want(&st.kv[k].v, ctx * (mult_conv ? d : vw));
      if (mult_conv) want(&st.u_history[k], uint64_t(c.qkv_length_kernel) * d);
    }
    if (sru > 0) want(&st.sru, sru);
    want_sparse(&st.sparse);
  }
  const uint64_t C = uint64_t(kChunk), widest = std::max(d, uint64_t(c.d_ff));
  for (float** p : {&chunk_.a, &chunk_.b, &chunk_.normed, &chunk_.out}) want(p, C * d);
  want(&chunk_.q, C * kw);
  want(&chunk_.context, C * vw);
  if (c.ff_sparsity == 0) want(&chunk_.hidden, C * uint64_t(c.d_ff));
  want(&chunk_.widened, uint64_t(pool_.threads()) * widest);
  if (in > 0) {
    want(&encoder_.x, in * d);
    want(&encoder_.y, in * d);
    want(&encoder_.q, in * kw);
    want(&encoder_.kv.k, in * kw);
    want(&encoder_.kv.v, in * vw);
    want(&encoder_.row, d);
    want(&encoder_.normed, in * d);
    want(&encoder_.context, in * std::max(d, vw));
    if (sru > 0) want(&encoder_.sru_state, sru);
    want_sparse(&encoder_.sparse);
  }
  const uint64_t limit = max_memory != 0 ? max_memory : platform::physical_memory_bytes() / 2;
  if (limit != 0 && arena_.size() > limit) {
    auto mib = [](uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MiB"; };
    return Status::Error(ErrorCode::kOutOfMemory,
                         "the session needs " + mib(arena_.size()) + " for a context of " +
                             std::to_string(max_context_) + " positions, more than its memory limit of " +
                             mib(limit) + (max_memory != 0 ? "" : " (half of this machine's memory)") +
                             "; plan a shorter context or raise the limit");
  }
  TERRA_RETURN_IF_ERROR(arena_.allocate());
  for (const Slot& s : slots) {
    if (s.f) *s.f = arena_.at<float>(s.offset);
    if (s.i) *s.i = arena_.at<int32_t>(s.offset);
  }
  encoder_.hidden = chunk_.hidden;  // the encoder's dense FF runs kChunk positions at a time
  encoder_.chunk = kChunk;
  encoder_.widened = chunk_.widened;
  return Status::Ok();
}

void Session::reset() {
  position_ = 0;
  prefix_ = 0;
  const size_t sru = size_t(config_.sru_layers) * size_t(config_.sru_width);  // planned, so it fits
  for (LayerState& st : layers_) {
    if (st.sru) std::fill(st.sru, st.sru + sru, 0.0f);  // the recurrence starts from zero
  }
}

Status Session::copy_sequence_from(const Session& o) {
  if (&o.config_ != &config_ || o.max_context_ != max_context_ || o.max_input_ != max_input_) {
    return Status::Error(ErrorCode::kInvalidArgument, "copy_sequence_from: the sessions differ in model or plan");
  }
  const ModelConfig& c = config_;
  const size_t d = size_t(c.d_model), rows = size_t(o.position_);
  const size_t kw = size_t(c.n_heads) * size_t(c.key_dim()), vw = size_t(c.n_heads) * size_t(c.value_dim());
  for (size_t L = 0; L < layers_.size(); ++L) {
    const bool mult_conv = c.decoder_attention_type(int(L)) == AttentionType::kMultConv;
    LayerState& to = layers_[L];
    const LayerState& from = o.layers_[L];
    for (size_t k = 0; k < to.kv.size(); ++k) {
      std::copy(from.kv[k].k, from.kv[k].k + rows * (mult_conv ? d : kw), to.kv[k].k);
      std::copy(from.kv[k].v, from.kv[k].v + rows * (mult_conv ? d : vw), to.kv[k].v);
      if (to.u_history[k]) std::copy(from.u_history[k], from.u_history[k] + size_t(c.qkv_length_kernel) * d, to.u_history[k]);
    }
    if (to.sru) std::copy(from.sru, from.sru + size_t(c.sru_layers) * size_t(c.sru_width), to.sru);
  }
  std::copy(o.logits_, o.logits_ + c.output_vocab(), logits_);
  position_ = o.position_;
  prefix_ = o.prefix_;
  return Status::Ok();
}

Status Session::check_token(int token, int vocab) const {
  if (token < 0 || token >= vocab) {
    return Status::Error(ErrorCode::kInvalidArgument, "token id " + std::to_string(token) +
                                                          " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  }
  return Status::Ok();
}

Status Session::encode(const int* tokens, size_t count) {
  if (config_.n_encoder_layers == 0) {
    return Status::Error(ErrorCode::kInvalidArgument, "this model has no encoder: give the text as a prompt");
  }
  for (size_t i = 0; i < count; ++i) {
    TERRA_RETURN_IF_ERROR(check_token(tokens[i], config_.vocab_size));
    // trax pads inputs with 0 and masks those positions; terra takes unpadded inputs only.
    if (tokens[i] == 0) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           "input token " + std::to_string(i) + " is 0, trax's padding id: give the input without padding");
    }
  }
  if (count > size_t(max_input_)) {
    return Status::Error(ErrorCode::kOutOfRange, "an input of " + std::to_string(count) +
                                                     " tokens exceeds this session's maximum input of " +
                                                     std::to_string(max_input_) + " tokens");
  }
  if (config_.pos_encoding == PosEncoding::kLearned && count > size_t(config_.max_len)) {
    return Status::Error(ErrorCode::kOutOfRange, "an input of " + std::to_string(count) +
                                                     " tokens exceeds the learned position table of " +
                                                     std::to_string(config_.max_len));
  }
  reset();
  if (count == 0) return Status::Ok();
  const EncoderOutput out =
      run_encoder(weights_, config_, tokens, int(count), encoder_, attn_, ff_, pool_);
  const int64_t d = config_.d_model;
  for (size_t t = 0; t < count; ++t) decode_position(out.first + t * d, out.second + t * d, false);
  prefix_ = int(count);
  return Status::Ok();
}

Status Session::check_room(size_t count) const {
  if (count > size_t(max_context_ - position_)) {
    if (count == 1) {
      return Status::Error(ErrorCode::kOutOfRange, "the context is full: this session holds " +
                                                       std::to_string(max_context_) + " positions");
    }
    return Status::Error(ErrorCode::kOutOfRange,
                         "a prompt of " + std::to_string(count) + " tokens after " + std::to_string(position_) +
                             " positions does not fit this session's context of " + std::to_string(max_context_) +
                             " positions");
  }
  // Decoder positions count from 0 after the encoder's rows: a short input leaves room in the
  // context for more decoder positions than a learned table has.
  const int decoder_position = position_ - prefix_;
  if (config_.pos_encoding == PosEncoding::kLearned && count > size_t(config_.max_len - decoder_position)) {
    return Status::Error(ErrorCode::kOutOfRange,
                         "decoder positions up to " + std::to_string(decoder_position + int64_t(count) - 1) +
                             " exceed the model's learned position table of " + std::to_string(config_.max_len) +
                             " positions");
  }
  return Status::Ok();
}

Status Session::step(int token) {
  TERRA_RETURN_IF_ERROR(check_token(token, config_.output_vocab()));
  TERRA_RETURN_IF_ERROR(check_room(1));
  embed_and_decode(token, true);
  return check_logits();
}

Status Session::prefill(const int* tokens, size_t count) {
  // Check everything first so a bad prompt leaves the session as it was.
  for (size_t i = 0; i < count; ++i) TERRA_RETURN_IF_ERROR(check_token(tokens[i], config_.output_vocab()));
  TERRA_RETURN_IF_ERROR(check_room(count));
  for (size_t i = 0; i < count; i += kChunk) {
    const int n = int(std::min(count - i, size_t(kChunk)));
    prefill_chunk(tokens + i, n, i + size_t(n) == count);
  }
  return count > 0 ? check_logits() : Status::Ok();
}

Status Session::check_logits() const {
  for (int v = 0; v < config_.output_vocab(); ++v) {
    if (!std::isfinite(logits_[v])) {
      return Status::Error(ErrorCode::kCorruptModel,
                           "the model produced a non-finite logit (token " + std::to_string(v) + ", position " +
                               std::to_string(position_ - 1) +
                               "): its weights may be damaged; `terra verify` checks the file");
    }
  }
  return Status::Ok();
}

const int32_t* Session::selected_units(int layer) const {
  if (layer < 0 || size_t(layer) >= layers_.size()) return nullptr;
  return layers_[size_t(layer)].sparse.selected;
}

void Session::embed_and_decode(int token, bool want_logits) {
  embed_token(weights_.decoder_embedding, token, normed_);
  add_position(weights_.decoder_pos, config_, position_ - prefix_, normed_);  // decoder positions count from 0
  decode_position(normed_, normed_, want_logits);
}

void Session::decode_position(const float* first, const float* second, bool want_logits) {
  const ModelConfig& c = config_;
  const size_t d = size_t(c.d_model);
  const int pos = position_;
  std::copy(first, first + d, stream_a_);
  std::copy(second, second + d, stream_b_);

  // Reversible half-residual: x += F(LN(y)), then the streams swap roles. Residual blocks are the
  // same code with one stream: x and y alias it, so x += F(LN(x)) and the swaps change nothing.
  float* x = stream_a_;
  float* y = residual_ ? stream_a_ : stream_b_;
  for (size_t L = 0; L < layers_.size(); ++L) {
    const LayerWeights& lw = weights_.decoder[L];
    LayerState& st = layers_[L];
    for (size_t k = 0; k < lw.attention.size(); ++k) {
      const AttentionWeights& aw = lw.attention[k];
      layer_norm(y, aw.norm.scale, aw.norm.bias, c.layernorm_eps, d, normed_);
      if (aw.type == AttentionType::kMultConv) {
        multconv_attention_step(aw, c, normed_, pos, st.kv[k], st.u_history[k], attn_, branch_, pool_);
      } else {
        dense_attention_step(aw, c, normed_, pos, st.kv[k], attn_, branch_, pool_);
      }
      add_inplace(x, branch_, d);
      std::swap(x, y);
    }
    feed_forward_step(lw.ff, c.layernorm_eps, y, ff_, st.sparse, st.sru, branch_, pool_);
    add_inplace(x, branch_, d);
    std::swap(x, y);
  }
  ++position_;
  if (want_logits) finish_logits(x, y);
}

void Session::finish_logits(const float* x, const float* y) {
  const ModelConfig& c = config_;
  const size_t d = size_t(c.d_model);
  if (c.decoder_output == DecoderOutput::kConcat) {  // ReformerLM: LN over [a; b]
    std::copy(x, x + d, branch_);
    std::copy(y, y + d, branch_ + d);
  } else {  // (x + y) / 2; with residual blocks x == y: the stream itself
    for (size_t i = 0; i < d; ++i) branch_[i] = (x[i] + y[i]) * 0.5f;
  }
  const size_t width = size_t(c.output_width());
  layer_norm(branch_, weights_.out_norm.scale, weights_.out_norm.bias, c.layernorm_eps, width, normed_);
  loss_step(weights_.loss, normed_, loss_gated_, logits_, pool_);
}

void Session::prefill_chunk(const int* tokens, int n, bool want_logits) {
  const ModelConfig& c = config_;
  const int64_t d = c.d_model;
  const int pos0 = position_;
  for (int t = 0; t < n; ++t) {
    float* a = chunk_.a + t * d;
    embed_token(weights_.decoder_embedding, tokens[t], a);
    add_position(weights_.decoder_pos, c, pos0 + t - prefix_, a);  // decoder positions count from 0
    std::copy(a, a + d, chunk_.b + t * d);
  }
  float* x = chunk_.a;
  float* y = residual_ ? chunk_.a : chunk_.b;  // one stream for residual blocks (decode_position)
  auto add_rows = [&](float* dst, const float* src) { add_inplace(dst, src, size_t(n) * size_t(d)); };
  for (size_t L = 0; L < layers_.size(); ++L) {
    const LayerWeights& lw = weights_.decoder[L];
    LayerState& st = layers_[L];
    for (size_t k = 0; k < lw.attention.size(); ++k) {
      const AttentionWeights& aw = lw.attention[k];
      for (int t = 0; t < n; ++t) {
        layer_norm(y + t * d, aw.norm.scale, aw.norm.bias, c.layernorm_eps, size_t(d), chunk_.normed + t * d);
      }
      if (aw.type == AttentionType::kMultConv) {  // sparse QKV: already cheap, and its conv is sequential
        for (int t = 0; t < n; ++t) {
          multconv_attention_step(aw, c, chunk_.normed + t * d, pos0 + t, st.kv[k], st.u_history[k], attn_,
                                  chunk_.out + t * d, pool_);
        }
      } else {
        // Keys and values of the whole chunk first, then each position attends causally.
        const int64_t kw = int64_t(c.n_heads) * c.key_dim(), vw = int64_t(c.n_heads) * c.value_dim();
        matmul_tokens(aw.q.w, chunk_.normed, n, aw.q.bias, chunk_.q, chunk_.widened, pool_);
        matmul_tokens(aw.k.w, chunk_.normed, n, aw.k.bias, st.kv[k].k + pos0 * kw, chunk_.widened, pool_);
        matmul_tokens(aw.v.w, chunk_.normed, n, aw.v.bias, st.kv[k].v + pos0 * vw, chunk_.widened, pool_);
        for (int t = 0; t < n; ++t) {
          attend(chunk_.q + t * kw, st.kv[k], pos0 + t + 1, c.n_heads, c.key_dim(), c.value_dim(), attn_.scores,
                 chunk_.context + t * vw);
        }
        matmul_tokens(aw.o.w, chunk_.context, n, aw.o.bias, chunk_.out, chunk_.widened, pool_);
      }
      add_rows(x, chunk_.out);
      std::swap(x, y);
    }
    if (lw.ff.sparse) {  // each position selects its own units
      for (int t = 0; t < n; ++t) {
        feed_forward_step(lw.ff, c.layernorm_eps, y + t * d, ff_, st.sparse, st.sru, chunk_.out + t * d, pool_);
      }
    } else {
      for (int t = 0; t < n; ++t) {
        layer_norm(y + t * d, lw.ff.norm.scale, lw.ff.norm.bias, c.layernorm_eps, size_t(d), chunk_.normed + t * d);
      }
      matmul_tokens(lw.ff.w1.w, chunk_.normed, n, lw.ff.w1.bias, chunk_.hidden, chunk_.widened, pool_);
      activate_inplace(lw.ff.activation, chunk_.hidden, size_t(n) * size_t(c.d_ff));
      matmul_tokens(lw.ff.w2.w, chunk_.hidden, n, lw.ff.w2.bias, chunk_.out, chunk_.widened, pool_);
      for (int t = 0; lw.ff.has_sru && t < n; ++t) {  // the recurrence runs in order
        sru_branch_step(lw.ff.sru, y + t * d, c.layernorm_eps, st.sru, ff_.sru, ff_.branch, pool_);
        add_inplace(chunk_.out + t * d, ff_.branch, size_t(d));
      }
    }
    add_rows(x, chunk_.out);
    std::swap(x, y);
  }
  position_ += n;
  if (want_logits) finish_logits(x + (n - 1) * d, y + (n - 1) * d);
}

}  // namespace terra
