// The byte-level tokenizer: byte b is token b + byte_offset; ids below the offset are special
// (start, end). Any input encodes; special ids decode to nothing.
#pragma once

#include "tokenizer/tokenizer.h"

namespace terra {

class ByteTokenizer : public Tokenizer {
 public:
  explicit ByteTokenizer(const TokenizerInfo& info) : Tokenizer(info) {}
  Result<std::vector<int>> encode(const std::string& text) const override;
  bool decode(int token, std::string* out) const override;
  const char* name() const override { return "byte"; }
};

}  // namespace terra
