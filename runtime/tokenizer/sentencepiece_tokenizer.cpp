#include "tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

namespace terra {

SentencePieceTokenizer::SentencePieceTokenizer(const TokenizerInfo& info)
    : Tokenizer(info), sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Result<std::unique_ptr<Tokenizer>> SentencePieceTokenizer::create(const TokenizerInfo& info, int vocab_size) {
  std::unique_ptr<SentencePieceTokenizer> t(new SentencePieceTokenizer(info));
  const auto status =
      t->sp_->LoadFromSerializedProto(std::string(reinterpret_cast<const char*>(info.model), info.model_size));
  if (!status.ok()) {
    return Status::Error(ErrorCode::kCorruptModel, "the embedded SentencePiece model does not load: " +
                                                       std::string(status.message()));
  }
  const int pieces = t->sp_->GetPieceSize();
  if (pieces > vocab_size) {
    return Status::Error(ErrorCode::kCorruptModel, "the SentencePiece model has " + std::to_string(pieces) +
                                                       " pieces, more than the model's vocabulary of " +
                                                       std::to_string(vocab_size));
  }
  // Precompute each piece's bytes once, so decoding a token is a table lookup.
  t->text_.resize(size_t(vocab_size));
  t->special_.assign(size_t(vocab_size), true);
  for (int id = 0; id < pieces; ++id) {
    if (t->sp_->IsControl(id) || t->sp_->IsUnknown(id)) continue;
    const std::string& piece = t->sp_->IdToPiece(id);
    std::string bytes;
    if (t->sp_->IsByte(id)) {  // "<0xNN>"
      bytes.push_back(char(std::stoi(piece.substr(3, 2), nullptr, 16)));
    } else {
      for (size_t i = 0; i < piece.size(); ++i) {
        if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {  // U+2581 "▁": a word boundary
          bytes.push_back(' ');
          i += 2;
        } else {
          bytes.push_back(piece[i]);
        }
      }
    }
    t->text_[size_t(id)] = std::move(bytes);
    t->special_[size_t(id)] = false;
  }
  return std::unique_ptr<Tokenizer>(std::move(t));
}

Result<std::vector<int>> SentencePieceTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  if (!status.ok()) {
    return Status::Error(ErrorCode::kInvalidArgument, "cannot tokenize the text: " + std::string(status.message()));
  }
  return ids;
}

bool SentencePieceTokenizer::decode(int id, std::string* out) const {
  if (id < 0 || size_t(id) >= special_.size() || special_[size_t(id)]) return false;
  out->append(text_[size_t(id)]);
  return true;
}

}  // namespace terra
