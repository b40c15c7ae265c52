#include "tokenizer/tokenizer.h"

#include "tokenizer/byte_tokenizer.h"
#ifdef TERRA_WITH_SENTENCEPIECE
#include "tokenizer/sentencepiece_tokenizer.h"
#endif

namespace terra {

Result<std::vector<int>> IdTokenizer::encode(const std::string& text) const {
  if (text.empty()) return std::vector<int>{};
  return Status::Error(ErrorCode::kInvalidArgument,
                       "this model reads token ids, not text (it has no tokenizer): give ids instead");
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(const TokenizerInfo& info, int vocab_size) {
  switch (info.kind) {
    case TokenizerKind::kByte:
      return std::unique_ptr<Tokenizer>(new ByteTokenizer(info));
    case TokenizerKind::kNone:
      return std::unique_ptr<Tokenizer>(new IdTokenizer(info));
    case TokenizerKind::kSentencePiece:
#ifdef TERRA_WITH_SENTENCEPIECE
      return SentencePieceTokenizer::create(info, vocab_size);
#else
      (void)vocab_size;
      return Status::Error(ErrorCode::kUnsupported, "this build of terra has no SentencePiece support");
#endif
  }
  return Status::Error(ErrorCode::kUnsupported, "unknown tokenizer kind");
}

}  // namespace terra
