#include "runner/generator.h"

#include <algorithm>

#include "platform/platform.h"

namespace terra {

uint64_t positions_needed(size_t input, size_t prompt, int max_tokens) {
  return uint64_t(input) + uint64_t(prompt) + uint64_t(std::max(max_tokens, 1)) - 1;
}

Result<std::vector<int>> text_prompt(const Tokenizer& tokenizer, const std::string& text) {
  std::vector<int> prompt{tokenizer.start_id()};  // trax's predict mode starts from id 0 at position 0
  TERRA_ASSIGN_OR_RETURN(auto ids, tokenizer.encode(text));
  prompt.insert(prompt.end(), ids.begin(), ids.end());
  return prompt;
}

Result<std::unique_ptr<Generator>> Generator::create(const Model& model, const Tokenizer& tokenizer,
                                                     const SessionOptions& options) {
  TERRA_ASSIGN_OR_RETURN(auto session, Session::create(model, options));
  return std::unique_ptr<Generator>(new Generator(tokenizer, std::move(session)));
}

Generator::Generator(const Tokenizer& tokenizer, std::unique_ptr<Session> session)
    : tokenizer_(tokenizer), session_(std::move(session)), text_(tokenizer) {
  piece_.reserve(256);
}

Status Generator::run(const GenerationRequest& r, TokenSink sink, void* user, GenerationStats* stats) {
  GenerationStats local;
  GenerationStats& st = stats ? *stats : local;
  st = GenerationStats{};
  Session& s = *session_;
  if (r.max_tokens < 0) {
    return Status::Error(ErrorCode::kInvalidArgument, "max tokens = " + std::to_string(r.max_tokens) + ": must be >= 0");
  }
  if (r.prompt_count == 0) {
    return Status::Error(ErrorCode::kInvalidArgument, "the prompt is empty: it starts with the start id at least");
  }
  const uint64_t needed = positions_needed(r.input_count, r.prompt_count, r.max_tokens);
  if (needed > uint64_t(s.max_context())) {
    return Status::Error(ErrorCode::kOutOfRange,
                         "the input (" + std::to_string(r.input_count) + " tokens) and prompt (" +
                             std::to_string(r.prompt_count) + " tokens with the start token) plus " +
                             std::to_string(r.max_tokens) + " tokens to generate exceed the session's context of " +
                             std::to_string(s.max_context()) +
                             " positions; shorten them, generate fewer tokens or plan a larger context");
  }
  TERRA_ASSIGN_OR_RETURN(auto sampler, Sampler::create(s.vocab_size(), r.sampling));

  s.reset();
  double t = platform::monotonic_seconds();
  if (s.has_encoder() || r.input_count > 0) {  // (encode() names a model without an encoder)
    TERRA_RETURN_IF_ERROR(s.encode(r.input, r.input_count));
  }
  const double encoded = platform::monotonic_seconds();
  st.encode_seconds = encoded - t;
  TERRA_RETURN_IF_ERROR(s.prefill(r.prompt, r.prompt_count));
  t = platform::monotonic_seconds();
  st.prefill_seconds = t - encoded;

  text_.reset(r.strip_leading_space);
  for (int n = 0; n < r.max_tokens; ) {
    if (r.stop != nullptr && __atomic_load_n(r.stop, __ATOMIC_ACQUIRE) != 0) break;
    const int token = sampler->sample(s.logits());
    st.generated = ++n;
    const bool end = r.stop_at_end && token == tokenizer_.end_id();
    piece_.clear();
    if (!end) text_.push(token, &piece_);
    const bool last = end || n == r.max_tokens;
    if (last) text_.finish(&piece_);  // an unfinished character or word is flushed
    if (sink != nullptr && !sink(user, token, piece_)) break;
    if (last) break;
    TERRA_RETURN_IF_ERROR(s.step(token));
  }
  st.decode_seconds = platform::monotonic_seconds() - t;
  return Status::Ok();
}

}  // namespace terra
