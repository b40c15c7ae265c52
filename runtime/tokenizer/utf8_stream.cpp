#include "tokenizer/utf8_stream.h"

namespace terra {

namespace {
const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Valid second bytes narrow some leads (no overlongs, no surrogates, nothing past U+10FFFF).
bool valid_second(unsigned char lead, unsigned char b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}
}  // namespace

void Utf8Stream::push(unsigned char b, std::string* out) {
  if (needed_ > 0) {
    const bool ok = pending_.size() == 1 ? valid_second((unsigned char)pending_[0], b) : (b >= 0x80 && b <= 0xBF);
    if (ok) {
      pending_.push_back(char(b));
      if (--needed_ == 0) {
        out->append(pending_);
        pending_.clear();
      }
      return;
    }
    out->append(kReplacement);  // the sequence broke off; this byte starts afresh
    pending_.clear();
    needed_ = 0;
  }
  if (b < 0x80) {
    if (b >= 0x20 || b == '\n' || b == '\t') {
      if (b != 0x7F) {
        out->push_back(char(b));
        return;
      }
    }
    out->append(kReplacement);
  } else if (b >= 0xC2 && b <= 0xDF) {
    pending_.assign(1, char(b));
    needed_ = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    pending_.assign(1, char(b));
    needed_ = 2;
  } else if (b >= 0xF0 && b <= 0xF4) {
    pending_.assign(1, char(b));
    needed_ = 3;
  } else {
    out->append(kReplacement);
  }
}

void Utf8Stream::finish(std::string* out) {
  if (needed_ > 0) out->append(kReplacement);
  pending_.clear();
  needed_ = 0;
}

}  // namespace terra
