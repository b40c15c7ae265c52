#include "tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <exception>

#include "model/tokenizer_blob.h"

namespace terra {

namespace {
// libsentencepiece reports most problems as a status but throws from some (darts-clone's trie
// builder: "zero-length key"); nothing it throws may leave the tokenizer.
template <typename F>
Status guarded(const char* what, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Status::Error(ErrorCode::kCorruptModel, std::string(what) + ": " + e.what());
  } catch (...) {
    return Status::Error(ErrorCode::kCorruptModel, std::string(what) + ": unknown error");
  }
}
int hex_digit(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const TokenizerInfo& info)
    : Tokenizer(info), sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Result<std::unique_ptr<Tokenizer>> SentencePieceTokenizer::create(const TokenizerInfo& info, int vocab_size) {
  // What the library would trust blindly is checked first (also done when a model file loads).
  auto checked = check_sentencepiece_model(info.model, info.model_size, vocab_size);
  if (!checked.ok()) return checked.status();
  std::unique_ptr<SentencePieceTokenizer> t(new SentencePieceTokenizer(info));
  Status loaded = guarded("the embedded SentencePiece model does not load", [&] {
    const auto status =
        t->sp_->LoadFromSerializedProto(std::string(reinterpret_cast<const char*>(info.model), info.model_size));
    if (status.ok()) return Status::Ok();
    return Status::Error(ErrorCode::kCorruptModel,
                         "the embedded SentencePiece model does not load: " + std::string(status.message()));
  });
  if (!loaded.ok()) return loaded;
  // Precompute each piece's bytes once, so decoding a token is a table lookup.
  const int pieces = t->sp_->GetPieceSize();
  t->text_.resize(size_t(vocab_size));
  t->special_.assign(size_t(vocab_size), true);
  for (int id = 0; id < pieces && id < vocab_size; ++id) {
    if (t->sp_->IsControl(id) || t->sp_->IsUnknown(id)) continue;
    const std::string& piece = t->sp_->IdToPiece(id);
    std::string bytes;
    if (t->sp_->IsByte(id)) {  // "<0xNN>" (the check above saw two hex digits)
      bytes.push_back(char(hex_digit(piece[3]) * 16 + hex_digit(piece[4])));
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
  Status encoded = guarded("cannot tokenize the text", [&] {
    const auto status = sp_->Encode(text, &ids);
    if (status.ok()) return Status::Ok();
    return Status::Error(ErrorCode::kInvalidArgument, "cannot tokenize the text: " + std::string(status.message()));
  });
  if (!encoded.ok()) return encoded;
  return ids;
}

bool SentencePieceTokenizer::decode(int id, std::string* out) const {
  if (id < 0 || size_t(id) >= special_.size() || special_[size_t(id)]) return false;
  out->append(text_[size_t(id)]);
  return true;
}

}  // namespace terra
