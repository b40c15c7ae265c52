// The generation loop, in one place (the shape of ExecuTorch's extension/llm/runner): encode the
// input, prefill the prompt, then sample, detokenize and feed back until the token budget, the end
// token, a stop flag or the caller says stop. The CLI (`terra generate`, `terra bench`) and the C
// API (and through it the JNI bridge) all run it; beam search (beam_search.h) is its other
// strategy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoder/session.h"
#include "sampler/sampler.h"
#include "tokenizer/tokenizer.h"

namespace terra {

// Positions a request needs in the decoder stack: the input, the prompt and the tokens to
// generate, less one (the last sampled token is never fed back).
uint64_t positions_needed(size_t input, size_t prompt, int max_tokens);

// A text prompt as trax decodes one: the start id at position 0, then the text's tokens.
Result<std::vector<int>> text_prompt(const Tokenizer& tokenizer, const std::string& text);

struct GenerationRequest {
  const int* input = nullptr;  // encoder-decoder models: the input's ids
  size_t input_count = 0;
  const int* prompt = nullptr;  // fed as given (text_prompt() builds one from text)
  size_t prompt_count = 0;
  int max_tokens = 64;
  bool stop_at_end = true;          // stop at the tokenizer's end id
  SamplerOptions sampling;
  const int* stop = nullptr;        // optional: read atomically before each token; nonzero stops
  bool strip_leading_space = false;  // no prompt text: the first word's space separates nothing
};

struct GenerationStats {
  int generated = 0;  // tokens sampled (the end token included)
  double encode_seconds = 0, prefill_seconds = 0, decode_seconds = 0;
};

// Gets each sampled token and the printable text it completes (UTF-8, maybe empty while a
// character or a word is unfinished; the last call also carries what was still pending).
// Returns false to stop.
using TokenSink = bool (*)(void* user, int token, const std::string& text);

class Generator {
 public:
  static Result<std::unique_ptr<Generator>> create(const Model& model, const Tokenizer& tokenizer,
                                                   const SessionOptions& options);
  // Starts a new sequence (the session is reset). A request longer than the session's context is
  // an error naming both. From the first sampled token to the last, nothing is allocated.
  Status run(const GenerationRequest& request, TokenSink sink, void* user, GenerationStats* stats);

  Session& session() { return *session_; }
  const Session& session() const { return *session_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  Generator(const Tokenizer& tokenizer, std::unique_ptr<Session> session);
  const Tokenizer& tokenizer_;
  std::unique_ptr<Session> session_;
  TextDecoder text_;
  std::string piece_;  // one token's text (reserved)
};

}  // namespace terra
