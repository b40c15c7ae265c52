// T2T's SubwordTextEncoder, which trax's 'subword' vocabularies use (trax/data/text_encoder.py,
// trax/data/tokenizer.py): text splits into runs of letters-and-digits and runs of the rest (a
// single space between two words is dropped: decoding puts it back); each run is escaped ('\' ->
// '\\', '_' -> '\u', characters outside the vocabulary's alphabet -> '\<code>;'), ends with '_',
// and is matched greedily, longest subtoken first. Ids are offset by trax's n_reserved_ids.
// Works on Unicode code points, as the Python original.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace terra {

class SubwordTokenizer : public Tokenizer {
 public:
  // info.model: the vocabulary's text; info.byte_offset: n_reserved_ids.
  static Result<std::unique_ptr<Tokenizer>> create(const TokenizerInfo& info, int vocab_size);
  Result<std::vector<int>> encode(const std::string& text) const override;
  // One subtoken's text as it ends up in words (unescaped; '_' ends a word). Prefer TextDecoder,
  // which joins words as trax does.
  bool decode(int id, std::string* out) const override;
  void decode_next(int id, DecodeState* state, std::string* out) const override;
  void decode_finish(DecodeState* state, std::string* out) const override;
  const char* name() const override { return "subword"; }

 private:
  explicit SubwordTokenizer(const TokenizerInfo& info) : Tokenizer(info) {}
  void emit_word(const std::string& escaped, DecodeState* state, std::string* out) const;
  std::vector<std::string> subtokens_;              // UTF-8, by id - n_reserved_ids
  std::unordered_map<std::string, int> index_;      // subtoken -> id (without the offset)
  std::unordered_set<uint32_t> alphabet_;           // code points of the subtokens, plus the escape characters
  size_t max_length_ = 0;                           // longest subtoken, in code points
};

// Whether a code point is a letter or a number in Unicode (T2T's "alphanumeric").
bool unicode_alnum(uint32_t cp);

}  // namespace terra
