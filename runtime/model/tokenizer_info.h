// What the model file says about its tokenizer: the kind, the special ids and, for SentencePiece
// and subword vocabularies, the blob in place in the mapped file. Tokenizers (tokenizer/) read it;
// the loader fills it and the converter writes it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace terra {

// kNone: a model trained on raw ids (trax's copy tasks): callers give and receive token ids.
// kSubword: T2T's SubwordTextEncoder (trax's 'subword' vocabularies), ids offset by byte_offset.
enum class TokenizerKind : uint8_t { kByte = 0, kSentencePiece = 1, kNone = 2, kSubword = 3 };

struct TokenizerInfo {
  TokenizerKind kind = TokenizerKind::kByte;
  int start_id = 0;
  int end_id = 1;
  int byte_offset = 2;  // byte: byte b is id b + byte_offset; subword: trax's n_reserved_ids
  // SentencePiece: the serialized model proto, in place in the mapped file.
  const uint8_t* model = nullptr;
  size_t model_size = 0;
};

}  // namespace terra
