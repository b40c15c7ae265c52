// Text <-> token ids for a model, as its file declares: byte-level or SentencePiece. Created
// once per model; encode() runs on prompts, decode() once per generated token.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/tokenizer_info.h"
#include "tokenizer/utf8_stream.h"

namespace terra {

// What a tokenizer keeps between tokens while decoding a stream of them (TextDecoder).
struct DecodeState {
  std::string pending;     // subword: subtoken text of a word not finished yet
  bool previous_alnum = false;  // subword: the last word began with a letter or digit
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // The tokenizer the model file declares; vocab_size bounds the ids it may produce.
  static Result<std::unique_ptr<Tokenizer>> create(const TokenizerInfo& info, int vocab_size);

  // Any text encodes (unknown characters fall back to bytes); no start token is added.
  virtual Result<std::vector<int>> encode(const std::string& text) const = 0;
  // Appends the bytes token `id` contributes to a running text (a SentencePiece word-start
  // marker becomes a space; byte pieces become their byte). Returns false for special tokens.
  virtual bool decode(int id, std::string* out) const = 0;
  // The same for a token in a stream: tokenizers whose words span tokens (subword) keep what is
  // unfinished in `state` and emit it once complete. By default, decode(id).
  virtual void decode_next(int id, DecodeState* state, std::string* out) const {
    (void)state;
    decode(id, out);
  }
  // Ends a stream: what is still pending.
  virtual void decode_finish(DecodeState* state, std::string* out) const {
    (void)state;
    (void)out;
  }
  virtual const char* name() const = 0;

  // False for models that read and write raw ids (no text form).
  virtual bool has_text() const { return true; }
  int start_id() const { return info_.start_id; }
  int end_id() const { return info_.end_id; }

 protected:
  explicit Tokenizer(const TokenizerInfo& info) : info_(info) {}
  TokenizerInfo info_;
};

// Generated ids -> printable text, one token at a time: the tokenizer's bytes (words that span
// tokens are emitted when complete) through Utf8Stream (characters split across tokens join;
// invalid bytes and control characters print as U+FFFD). With strip_leading_space, the word-start
// space of the very first word is dropped (nothing precedes it: an empty prompt, or ids decoded
// alone). The one place generated text is formed: the CLI, the C API and beam search use it.
class TextDecoder {
 public:
  explicit TextDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {
    bytes_.reserve(256);
    state_.pending.reserve(256);
  }
  void reset(bool strip_leading_space);
  // Appends the text token `id` completes to out (special tokens complete nothing).
  void push(int id, std::string* out);
  // Appends what is unfinished (an incomplete character becomes U+FFFD).
  void finish(std::string* out);

 private:
  void emit(std::string* out);
  const Tokenizer& tokenizer_;
  DecodeState state_;
  Utf8Stream utf8_;
  std::string bytes_;
  bool strip_ = false;
};

// Models trained on raw ids: no text form. encode() refuses; decode() gives nothing.
class IdTokenizer : public Tokenizer {
 public:
  explicit IdTokenizer(const TokenizerInfo& info) : Tokenizer(info) {}
  Result<std::vector<int>> encode(const std::string& text) const override;
  bool decode(int, std::string*) const override { return false; }
  const char* name() const override { return "none (token ids)"; }
  bool has_text() const override { return false; }
};

}  // namespace terra
