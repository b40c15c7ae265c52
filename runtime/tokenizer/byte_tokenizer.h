// The byte-level tokenizer: byte b is token b + byte_offset; ids below the offset are special
// (start, end). Any input encodes; special ids decode to nothing.
#pragma once

#include <string>
#include <vector>

#include "model/model_file.h"

namespace terra {

class ByteTokenizer {
 public:
  explicit ByteTokenizer(const TokenizerInfo& info) : info_(info) {}
  std::vector<int> encode(const std::string& text) const;
  // Appends the text of `token` to out; returns false for a special token (nothing appended).
  bool decode(int token, std::string* out) const;
  int start_id() const { return info_.start_id; }
  int end_id() const { return info_.end_id; }

 private:
  TokenizerInfo info_;
};

}  // namespace terra
