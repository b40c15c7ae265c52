// Text <-> token ids for a model, as its file declares: byte-level or SentencePiece. Created
// once per model; encode() runs on prompts, decode() once per generated token.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model_file.h"

namespace terra {

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
  virtual const char* name() const = 0;

  // False for models that read and write raw ids (no text form).
  virtual bool has_text() const { return true; }
  int start_id() const { return info_.start_id; }
  int end_id() const { return info_.end_id; }

 protected:
  explicit Tokenizer(const TokenizerInfo& info) : info_(info) {}
  TokenizerInfo info_;
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
