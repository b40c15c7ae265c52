// SentencePiece (Debian's libsentencepiece), loaded from the model proto embedded in the model
// file. Pieces decode one at a time so generated text streams: "▁" starts a word (a space),
// byte-fallback pieces "<0xNN>" are raw bytes that Utf8Stream joins into characters.
#pragma once

#include <memory>

#include "tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace terra {

class SentencePieceTokenizer : public Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> create(const TokenizerInfo& info, int vocab_size);
  ~SentencePieceTokenizer() override;
  Result<std::vector<int>> encode(const std::string& text) const override;
  bool decode(int id, std::string* out) const override;
  const char* name() const override { return "sentencepiece"; }

 private:
  explicit SentencePieceTokenizer(const TokenizerInfo& info);
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<std::string> text_;  // per id: the bytes it decodes to (empty + !special_ for controls)
  std::vector<bool> special_;
};

}  // namespace terra
