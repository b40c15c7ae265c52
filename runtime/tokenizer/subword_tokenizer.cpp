#include "tokenizer/subword_tokenizer.h"

#include <algorithm>
#include <cstring>

#include "model/tokenizer_blob.h"

namespace terra {

namespace {

struct Range {
  uint32_t first, last;
};
const Range kAlnum[] = {
#include "tokenizer/unicode_alnum.inc"
};

// UTF-8 -> code points; an invalid byte becomes U+FFFD (as Python decodes with errors='replace').
std::vector<uint32_t> code_points(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    bool ok = n >= 0;
    for (int k = 1; ok && k <= n; ++k) {
      const size_t at = i + size_t(k);
      ok = at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80;
      if (ok) cp = (cp << 6) | (static_cast<unsigned char>(s[at]) & 0x3F);
    }
    const uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : n == 3 ? 0x10000 : 0;
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += size_t(n) + 1;
  }
  return out;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// The first code point of a UTF-8 string (0 when empty).
uint32_t first_code_point(const std::string& s) {
  if (s.empty()) return 0;
  std::string head = s.substr(0, std::min<size_t>(4, s.size()));
  return code_points(head).front();
}

// text_encoder._unescape_token: "\u" -> "_", "\\" -> "\", "\<digits>;" -> that code point
// (U+3013 when it is not one); anything else as it is.
std::string unescape(const std::string& t) {
  std::string out;
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '\\' && i + 1 < t.size()) {
      if (t[i + 1] == 'u') {
        out.push_back('_');
        i += 2;
        continue;
      }
      if (t[i + 1] == '\\') {
        out.push_back('\\');
        i += 2;
        continue;
      }
      size_t j = i + 1;
      while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
      if (j > i + 1 && j < t.size() && t[j] == ';') {
        uint64_t cp = 0;
        bool too_big = false;
        for (size_t k = i + 1; k < j; ++k) {
          cp = cp * 10 + uint64_t(t[k] - '0');
          if (cp > 0x10FFFF) too_big = true;
        }
        append_utf8(too_big || (cp >= 0xD800 && cp <= 0xDFFF) ? 0x3013 : uint32_t(cp), &out);
        i = j + 1;
        continue;
      }
    }
    out.push_back(t[i++]);
  }
  return out;
}

}  // namespace

bool unicode_alnum(uint32_t cp) {
  const Range* end = kAlnum + sizeof(kAlnum) / sizeof(kAlnum[0]);
  const Range* r = std::upper_bound(kAlnum, end, cp, [](uint32_t v, const Range& x) { return v < x.first; });
  return r != kAlnum && cp <= (r - 1)->last;
}

Result<std::unique_ptr<Tokenizer>> SubwordTokenizer::create(const TokenizerInfo& info, int vocab_size) {
  auto checked = check_subword_vocabulary(info.model, info.model_size, vocab_size, info.byte_offset);
  if (!checked.ok()) return checked.status();
  std::unique_ptr<SubwordTokenizer> t(new SubwordTokenizer(info));
  const std::string text(reinterpret_cast<const char*>(info.model), info.model_size);
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string s = text.substr(start, end - start);
    start = end + 1;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();  // rstrip()
    if (s.size() >= 2 && ((s.front() == '\'' && s.back() == '\'') || (s.front() == '"' && s.back() == '"'))) {
      s = s.substr(1, s.size() - 2);
    }
    const std::vector<uint32_t> cps = code_points(s);
    for (uint32_t cp : cps) t->alphabet_.insert(cp);
    t->max_length_ = std::max(t->max_length_, cps.size());
    if (!s.empty()) t->index_[s] = int(t->subtokens_.size());  // a later duplicate wins, as in a Python dict
    t->subtokens_.push_back(std::move(s));
  }
  for (char c : std::string("\\_u;0123456789")) t->alphabet_.insert(uint32_t(c));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

Result<std::vector<int>> SubwordTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const std::vector<uint32_t> cps = code_points(text);
  if (cps.empty()) return ids;
  // tokenizer.encode: runs of alphanumeric / other characters; a lone space between is dropped.
  std::vector<std::pair<size_t, size_t>> tokens;
  size_t start = 0;
  for (size_t pos = 1; pos < cps.size(); ++pos) {
    if (unicode_alnum(cps[pos]) != unicode_alnum(cps[pos - 1])) {
      if (!(pos - start == 1 && cps[start] == ' ') || start == 0) tokens.push_back({start, pos});
      start = pos;
    }
  }
  tokens.push_back({start, cps.size()});
  std::vector<std::string> escaped;  // the token's characters, each as its escaped text
  for (const auto& [begin, end] : tokens) {
    // _escape_token, then the trailing '_'.
    escaped.clear();
    for (size_t i = begin; i < end; ++i) {
      const uint32_t c = cps[i];
      std::string e;
      if (c == '\\') e = "\\\\";
      else if (c == '_') e = "\\u";
      else if (alphabet_.count(c) && c != '\n') append_utf8(c, &e);
      else e = "\\" + std::to_string(c) + ";";
      escaped.push_back(std::move(e));
    }
    // The escaped token as code points (escapes are ASCII), with its '_'.
    std::vector<std::string> units;  // one UTF-8 code point each
    for (const std::string& e : escaped) {
      if (e.size() > 1 && e[0] == '\\') {
        for (char ch : e) units.push_back(std::string(1, ch));
      } else {
        units.push_back(e);
      }
    }
    units.push_back("_");
    // _escaped_token_to_subtoken_ids: the longest subtoken at each start.
    size_t s = 0;
    while (s < units.size()) {
      bool found = false;
      for (size_t e = std::min(units.size(), s + max_length_); e > s; --e) {
        std::string piece;
        for (size_t k = s; k < e; ++k) piece += units[k];
        auto it = index_.find(piece);
        if (it != index_.end()) {
          ids.push_back(it->second + info_.byte_offset);
          s = e;
          found = true;
          break;
        }
      }
      if (!found) {
        return Status::Error(ErrorCode::kInvalidArgument,
                             "the subword vocabulary cannot spell '" + units[s] + "' (no subtoken matches)");
      }
    }
  }
  return ids;
}

bool SubwordTokenizer::decode(int id, std::string* out) const {
  const int i = id - info_.byte_offset;
  if (i < 0 || size_t(i) >= subtokens_.size()) return false;
  out->append(unescape(subtokens_[size_t(i)]));
  return true;
}

void SubwordTokenizer::emit_word(const std::string& escaped, DecodeState* state, std::string* out) const {
  // _subtoken_ids_to_tokens and tokenizer.decode: a space between two words that both begin with
  // a letter or digit.
  const std::string word = unescape(escaped);
  if (word.empty()) return;
  const bool alnum = unicode_alnum(first_code_point(word));
  if (alnum && state->previous_alnum) out->push_back(' ');
  out->append(word);
  state->previous_alnum = alnum;
}

void SubwordTokenizer::decode_next(int id, DecodeState* state, std::string* out) const {
  const int i = id - info_.byte_offset;
  if (i < 0 || size_t(i) >= subtokens_.size()) return;  // reserved ids (pad, EOS) are no text
  state->pending.append(subtokens_[size_t(i)]);
  size_t end;
  while ((end = state->pending.find('_')) != std::string::npos) {  // '_' only ends words: a literal one is "\u"
    emit_word(state->pending.substr(0, end), state, out);
    state->pending.erase(0, end + 1);
  }
}

void SubwordTokenizer::decode_finish(DecodeState* state, std::string* out) const {
  emit_word(state->pending, state, out);
  state->pending.clear();
}

}  // namespace terra
