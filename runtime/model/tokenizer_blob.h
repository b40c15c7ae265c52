// Checks the tokenizer blob a model file carries before a tokenizer library reads it.
//
// A SentencePiece model proto: checked before libsentencepiece sees it. libsentencepiece trusts its input: a flipped bit in the normalization
// trie makes it read outside the blob while tokenizing, a NUL inside a piece makes it throw while
// loading. This walks the protobuf wire format and checks what the library relies on:
//   - every field well-formed and inside the blob;
//   - pieces non-empty, without NUL bytes, byte pieces spelled <0xHH>, no more pieces than the
//     model's vocabulary;
//   - each precompiled_charsmap (normalizer and denormalizer): every path through its
//     double-array trie (darts-clone) that some input bytes can take stays inside the array, every
//     value it yields points into the normalized strings, which end with a NUL.
// Built into the core (no SentencePiece needed), so loading a model checks the blob even in a
// build without a SentencePiece tokenizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace terra {

struct SentencePieceSummary {
  int pieces = 0;
  size_t charsmap_bytes = 0;  // of the normalizer's precompiled_charsmap (0: none)
  size_t charsmap_offset = 0; // where that charsmap starts in the blob (tests flip bits there)
};

// The error message names the problem (field, piece index, trie unit).
Result<SentencePieceSummary> check_sentencepiece_model(const uint8_t* blob, size_t size, int vocab_size);

// The double-array trie check alone, on one precompiled_charsmap: <uint32 trie bytes><trie><strings>.
Status check_precompiled_charsmap(const uint8_t* blob, size_t size);

// A T2T SubwordTextEncoder vocabulary (the text of a .subword file: one subtoken per line, in
// quotes or not): valid UTF-8, lines of at most 1,024 bytes, and (with ids offset by
// n_reserved_ids) no more subtokens than the model's vocabulary. Returns the subtoken count.
Result<int> check_subword_vocabulary(const uint8_t* blob, size_t size, int vocab_size, int n_reserved_ids);

}  // namespace terra
