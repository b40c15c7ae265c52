#include "tokenizer/tokenizer.h"

#include "tokenizer/byte_tokenizer.h"
#include "tokenizer/subword_tokenizer.h"
#ifdef TERRA_WITH_SENTENCEPIECE
#include "tokenizer/sentencepiece_tokenizer.h"
#endif

namespace terra {

void TextDecoder::reset(bool strip_leading_space) {
  state_ = DecodeState{};
  state_.pending.reserve(256);
  utf8_ = Utf8Stream{};
  strip_ = strip_leading_space;
}

void TextDecoder::emit(std::string* out) {
  size_t i = 0;
  if (strip_ && !bytes_.empty()) {
    if (bytes_[0] == ' ') i = 1;
    strip_ = false;  // only the first word's marker separates nothing
  }
  const size_t before = out->size();
  for (; i < bytes_.size(); ++i) utf8_.push((unsigned char)bytes_[i], out);
  if (out->size() > before) strip_ = false;
  bytes_.clear();
}

void TextDecoder::push(int id, std::string* out) {
  tokenizer_.decode_next(id, &state_, &bytes_);
  emit(out);
}

void TextDecoder::finish(std::string* out) {
  tokenizer_.decode_finish(&state_, &bytes_);
  emit(out);
  utf8_.finish(out);
}

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
    case TokenizerKind::kSubword:
      return SubwordTokenizer::create(info, vocab_size);
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
