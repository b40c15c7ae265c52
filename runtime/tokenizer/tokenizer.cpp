#include "tokenizer/tokenizer.h"

#include "tokenizer/byte_tokenizer.h"
#ifdef TERRA_WITH_SENTENCEPIECE
#include "tokenizer/sentencepiece_tokenizer.h"
#endif

namespace terra {

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(const TokenizerInfo& info, int vocab_size) {
  switch (info.kind) {
    case TokenizerKind::kByte:
      return std::unique_ptr<Tokenizer>(new ByteTokenizer(info));
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
