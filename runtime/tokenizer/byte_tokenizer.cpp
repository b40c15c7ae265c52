#include "tokenizer/byte_tokenizer.h"

namespace terra {

Result<std::vector<int>> ByteTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  ids.reserve(text.size());
  for (unsigned char ch : text) ids.push_back(int(ch) + info_.byte_offset);
  return ids;
}

bool ByteTokenizer::decode(int token, std::string* out) const {
  const int b = token - info_.byte_offset;
  if (b < 0 || b > 255) return false;
  out->push_back(char(b));
  return true;
}

}  // namespace terra
