#include "decoder/session.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/kernel_set.h"
#include "kernels/vector_ops.h"
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
      pool_(size_t(options.threads), options.pin_threads),
      decoder_(make_decoder_layers(model.weights(), model.config(), scratch_)) {
  choose_engine(scratch_.mm, options.engine);
  block_ = tokens_per_pass(scratch_.mm.engine);
  rows_ = std::max(block_, max_input_ + 1);
  // 32 positions of logits per pass: 4 MiB at a 32K vocabulary, and each packed slice of the loss
  // matrix still serves 32 rows.
  if (options.scoring) scoring_.rows = std::min(block_, 32);
  const size_t per_layer = size_t(config_.n_decoder_attention_layers) + 1;
  for (size_t i = per_layer - 1; i < decoder_.size(); i += per_layer) ff_layers_.push_back(decoder_[i].get());
  if (max_input_ > 0) {
    encoder_ = std::make_unique<Encoder>(model.weights(), model.config(), scratch_,
                                         EncoderBuffers{&chunk_.a, &chunk_.b, &chunk_.out});
  }
}

Status Session::plan(uint64_t max_memory) {
  const ModelConfig& c = config_;
  const uint64_t d = uint64_t(c.d_model), out_width = uint64_t(c.output_width());
  const int threads = int(pool_.threads());
  for (auto& layer : decoder_) layer->plan(plan_, LayerLimits{max_context_, rows_, threads});
  if (encoder_) encoder_->plan(plan_, max_input_, threads);
  plan_.scratch(&stream_a_, d);
  plan_.scratch(&stream_b_, d);
  plan_.scratch(&normed_, std::max(d, out_width));
  plan_.scratch(&branch_, std::max(d, out_width));
  plan_.state(&logits_, uint64_t(c.output_vocab()));  // read after the call that computed them
  if (c.loss_sparsity > 0) {
    plan_.scratch(&loss_gated_, uint64_t(c.loss_sparsity) * out_width);
    plan_.scratch(&loss_widened_, uint64_t(threads) * out_width);
  }
  for (float** p : {&chunk_.a, &chunk_.b, &chunk_.out}) plan_.scratch(p, uint64_t(rows_) * d);
  if (scoring_.rows > 0) {
    const uint64_t rows = uint64_t(scoring_.rows);
    plan_.scratch(&scoring_.normed, rows * out_width);
    plan_.scratch(&scoring_.logits, rows * uint64_t(c.output_vocab()));
    plan_loss_tokens(plan_, scoring_.loss, weights_.loss, scoring_.rows, threads, scratch_.mm);
  }
  const uint64_t needed = plan_.bytes();
  const uint64_t limit = max_memory != 0 ? max_memory : platform::physical_memory_bytes() / 2;
  if (limit != 0 && needed > limit) {
    auto mib = [](uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MiB"; };
    return Status::Error(ErrorCode::kOutOfMemory,
                         "the session needs " + mib(needed) + " for a context of " + std::to_string(max_context_) +
                             " positions, more than its memory limit of " + mib(limit) +
                             (max_memory != 0 ? "" : " (half of this machine's memory)") +
                             "; plan a shorter context or raise the limit");
  }
  return plan_.allocate(arena_);
}

void Session::reset() {
  position_ = 0;
  prefix_ = 0;
  pending_ = 0;
  plan_.reset_state();  // recurrent state starts from zero; caches are overwritten position by position
}

Status Session::copy_sequence_from(const Session& o) {
  if (&o.config_ != &config_ || o.max_context_ != max_context_ || o.max_input_ != max_input_) {
    return Status::Error(ErrorCode::kInvalidArgument, "copy_sequence_from: the sessions differ in model or plan");
  }
  if (o.pending_ > 0) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "copy_sequence_from: the other session's input is encoded but not yet decoded; feed it a token first");
  }
  plan_.copy_state(o.plan_, uint64_t(o.position_));
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
  encoder_->run(tokens, int(count), pool_);  // its rows wait in chunk_ for the first token (prefill_chunk)
  position_ = prefix_ = pending_ = int(count);
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
  if (pending_ > 0) return prefill(&token, 1);
  embed_and_decode(token, true);
  return check_logits();
}

Status Session::prefill(const int* tokens, size_t count) { return score(tokens, nullptr, count, nullptr); }

Status Session::score(const int* tokens, const int* targets, size_t count, double* nll) {
  if (targets && scoring_.rows == 0) {
    return Status::Error(ErrorCode::kInvalidArgument, "score: the session was not created with scoring = true");
  }
  // Check everything first so a bad prompt leaves the session as it was.
  for (size_t i = 0; i < count; ++i) {
    TERRA_RETURN_IF_ERROR(check_token(tokens[i], config_.output_vocab()));
    if (targets) TERRA_RETURN_IF_ERROR(check_token(targets[i], config_.output_vocab()));
  }
  TERRA_RETURN_IF_ERROR(check_room(count));
  for (size_t i = 0, n = 0; i < count; i += n) {
    // A sequence's first block is the encoder's rows (if any) and one token: trax's first
    // predict-mode call, after which LSH attention decodes row by row.
    const bool first = position_ == pending_;
    n = first ? 1 : std::min(count - i, size_t(block_));
    TERRA_RETURN_IF_ERROR(prefill_chunk(tokens + i, int(n), i + n == count, targets ? targets + i : nullptr, nll));
  }
  return count > 0 ? check_logits() : Status::Ok();
}

namespace {
// Finite weights and inputs give finite logits, so a NaN or infinity means a damaged file.
Status non_finite_logit(const std::string& where) {
  return Status::Error(ErrorCode::kCorruptModel, "the model produced a non-finite logit (" + where +
                                                     "): its weights may be damaged; `terra verify` checks the file");
}
}  // namespace

Status Session::check_logits() const {
  for (int v = 0; v < config_.output_vocab(); ++v) {
    if (!std::isfinite(logits_[v])) {
      return non_finite_logit("token " + std::to_string(v) + ", position " + std::to_string(position_ - 1));
    }
  }
  return Status::Ok();
}

const int32_t* Session::selected_units(int layer) const {
  if (layer < 0 || size_t(layer) >= ff_layers_.size()) return nullptr;
  return ff_layers_[size_t(layer)]->selected_units();
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
  for (auto& layer : decoder_) {
    layer->step(y, pos, branch_, pool_);
    add_inplace(x, branch_, d);
    std::swap(x, y);
  }
  ++position_;
  if (want_logits) finish_logits(x, y);
}

void Session::output_row(const float* x, const float* y, float* out) {
  const ModelConfig& c = config_;
  const size_t d = size_t(c.d_model);
  if (c.decoder_output == DecoderOutput::kConcat) {  // ReformerLM: LN over [a; b]
    std::copy(x, x + d, branch_);
    std::copy(y, y + d, branch_ + d);
  } else {  // (x + y) / 2; with residual blocks x == y: the stream itself
    for (size_t i = 0; i < d; ++i) branch_[i] = (x[i] + y[i]) * 0.5f;
  }
  layer_norm(branch_, weights_.out_norm.scale, weights_.out_norm.bias, c.layernorm_eps, size_t(c.output_width()), out);
}

void Session::finish_logits(const float* x, const float* y) {
  output_row(x, y, normed_);
  loss_step(weights_.loss, normed_, loss_gated_, loss_widened_, logits_, pool_);
}

Status Session::prefill_chunk(const int* tokens, int n, bool want_logits, const int* targets, double* nll) {
  const ModelConfig& c = config_;
  const int64_t d = c.d_model, e = pending_;
  const int pos0 = position_ - pending_, first_token = position_;
  // The encoder left its rows where they go (EncoderBuffers): rows [0, e) of the block.
  for (int t = 0; t < n; ++t) {
    float* a = chunk_.a + (e + t) * d;
    embed_token(weights_.decoder_embedding, tokens[t], a);
    add_position(weights_.decoder_pos, c, position_ + t - prefix_, a);  // decoder positions count from 0
    std::copy(a, a + d, chunk_.b + (e + t) * d);
  }
  const int rows = int(e) + n;
  float* x = chunk_.a;
  float* y = residual_ ? chunk_.a : chunk_.b;  // one stream for residual blocks (decode_position)
  for (auto& layer : decoder_) {
    layer->tokens(y, rows, pos0, chunk_.out, pool_);
    add_inplace(x, chunk_.out, size_t(rows) * size_t(d));
    std::swap(x, y);
  }
  position_ += n;
  pending_ = 0;
  x += e * d;  // the token rows
  y += e * d;
  if (want_logits) finish_logits(x + (n - 1) * d, y + (n - 1) * d);
  const int V = c.output_vocab();
  const int64_t width = c.output_width();
  for (int t0 = 0; targets && t0 < n; t0 += scoring_.rows) {
    const int m = std::min(scoring_.rows, n - t0);
    for (int t = 0; t < m; ++t) output_row(x + (t0 + t) * d, y + (t0 + t) * d, scoring_.normed + t * width);
    loss_tokens(weights_.loss, scoring_.normed, m, scoring_.loss, scoring_.logits, pool_);
    for (int t = 0; t < m; ++t) {
      const double one = neg_log_softmax(scoring_.logits + int64_t(t) * V, size_t(V), size_t(targets[t0 + t]));
      *nll += one;
      if (!std::isfinite(one)) {
        return non_finite_logit("position " + std::to_string(first_token + t0 + t));
      }
    }
  }
  return Status::Ok();
}

}  // namespace terra
