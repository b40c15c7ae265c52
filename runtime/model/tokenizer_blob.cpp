#include "model/tokenizer_blob.h"

#include <cstring>
#include <vector>

namespace terra {

namespace {

Status bad(const std::string& what) {
  return Status::Error(ErrorCode::kCorruptModel, "the SentencePiece tokenizer model is damaged: " + what);
}

// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a message is a run of
// (tag varint = field number << 3 | wire type, payload) records.
struct Field {
  uint32_t number = 0;
  uint32_t type = 0;       // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  uint64_t varint = 0;     // type 0
  const uint8_t* data = nullptr;  // types 1, 2, 5: the payload
  size_t size = 0;
};

class WireReader {
 public:
  WireReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ == end_; }
  // False with a reason when the next record is malformed or runs past the end.
  bool next(Field* f, std::string* why) {
    uint64_t tag = 0;
    if (!varint(&tag)) return fail("a field tag runs past the end", why);
    f->number = uint32_t(tag >> 3);
    f->type = uint32_t(tag & 7);
    if (f->number == 0 || (tag >> 3) > 0x1FFFFFFF) return fail("a field has number 0 or above 2^29", why);
    switch (f->type) {
      case 0:
        if (!varint(&f->varint)) return fail("field " + std::to_string(f->number) + ": a varint runs past the end", why);
        return true;
      case 1:
        return bytes(8, f, why);
      case 2: {
        uint64_t n = 0;
        if (!varint(&n)) return fail("field " + std::to_string(f->number) + ": its length runs past the end", why);
        if (n > uint64_t(end_ - p_)) {
          return fail("field " + std::to_string(f->number) + " claims " + std::to_string(n) + " bytes, " +
                          std::to_string(end_ - p_) + " remain",
                      why);
        }
        return bytes(size_t(n), f, why);
      }
      case 5:
        return bytes(4, f, why);
      default:  // 3, 4 (groups: never written by SentencePiece), 6, 7 (invalid)
        return fail("field " + std::to_string(f->number) + " has wire type " + std::to_string(f->type), why);
    }
  }

 private:
  bool varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      *v |= uint64_t(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;  // more than 10 bytes
  }
  bool bytes(size_t n, Field* f, std::string* why) {
    if (n > size_t(end_ - p_)) return fail("field " + std::to_string(f->number) + " runs past the end", why);
    f->data = p_;
    f->size = n;
    p_ += n;
    return true;
  }
  static bool fail(const std::string& what, std::string* why) {
    *why = what;
    return false;
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

// Calls fn(field) for every record of a message; the error names `where`.
template <typename Fn>
Status for_each_field(const uint8_t* p, size_t n, const std::string& where, Fn&& fn) {
  WireReader r(p, n);
  Field f;
  std::string why;
  while (!r.done()) {
    if (!r.next(&f, &why)) return bad(where + ": " + why);
    TERRA_RETURN_IF_ERROR(fn(f));
  }
  return Status::Ok();
}

// ModelProto (sentencepiece_model.proto): 1 pieces, 3 normalizer_spec, 5 denormalizer_spec.
// SentencePiece: 1 piece, 3 type (6 = BYTE). NormalizerSpec: 2 precompiled_charsmap.
constexpr uint32_t kPieces = 1, kNormalizerSpec = 3, kDenormalizerSpec = 5;
constexpr uint32_t kPieceText = 1, kPieceType = 3, kCharsmap = 2;
constexpr uint64_t kByteType = 6;

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

Status check_piece(const Field& message, int index) {
  const std::string where = "piece " + std::to_string(index);
  const uint8_t* text = nullptr;
  size_t text_size = 0;
  uint64_t type = 1;  // NORMAL
  TERRA_RETURN_IF_ERROR(for_each_field(message.data, message.size, where, [&](const Field& f) {
    if (f.number == kPieceText && f.type == 2) {
      text = f.data;
      text_size = f.size;
    } else if (f.number == kPieceType && f.type == 0) {
      type = f.varint;
    }
    return Status::Ok();
  }));
  if (text == nullptr || text_size == 0) return bad(where + " is empty");
  if (std::memchr(text, 0, text_size) != nullptr) return bad(where + " contains a NUL byte");
  if (type == kByteType) {  // "<0xHH>", parsed by the tokenizer
    const char* t = reinterpret_cast<const char*>(text);
    if (text_size != 6 || std::memcmp(t, "<0x", 3) != 0 || !is_hex(t[3]) || !is_hex(t[4]) || t[5] != '>') {
      return bad(where + " is a byte piece not spelled <0xHH>");
    }
  }
  return Status::Ok();
}

// darts-clone's DoubleArrayUnit (third_party/darts_clone/darts.h in SentencePiece), 32 bits:
// label in bits 0-7 (bit 31 set on leaf units, so they match no byte), has_leaf bit 8,
// offset in bits 10-31 (shifted by 8 more when bit 9 is set), value in bits 0-30 of leaf units.
uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFFu); }
bool unit_has_leaf(uint32_t u) { return ((u >> 8) & 1u) == 1u; }
uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }

}  // namespace

Status check_precompiled_charsmap(const uint8_t* blob, size_t size) {
  // Normalizer::DecodePrecompiledCharsMap: <uint32 trie_size><trie: trie_size bytes><strings>.
  if (size <= 4) return bad("the normalization rules (precompiled_charsmap) are " + std::to_string(size) + " bytes");
  uint32_t trie_bytes = 0;
  std::memcpy(&trie_bytes, blob, 4);  // little-endian, as the model files of x86 and ARM are
  if (trie_bytes < 4 || trie_bytes % 4 != 0 || trie_bytes > size - 4) {
    return bad("the normalization trie claims " + std::to_string(trie_bytes) + " bytes of " +
               std::to_string(size - 4));
  }
  const uint8_t* trie = blob + 4;
  const size_t units = trie_bytes / 4;
  const size_t strings = size - 4 - trie_bytes;
  if (strings == 0 || blob[size - 1] != 0) return bad("the normalized strings do not end with a NUL");
  auto unit = [&](size_t i) {
    uint32_t u;
    std::memcpy(&u, trie + 4 * i, 4);
    return u;
  };
  // commonPrefixSearch: node = unit(0).offset(); for each input byte c: node ^= c, unit(node) must be
  // labelled c (else stop), node ^= its offset, and when it has a leaf, unit(node) holds a value,
  // an index into the strings. Every node reachable this way is checked once, for all 256 bytes.
  std::vector<uint8_t> seen(units, 0);
  std::vector<size_t> stack;
  const size_t root = unit_offset(unit(0));
  auto visit = [&](size_t node, size_t from) -> Status {
    if ((node | 0xFFu) >= units) {
      return bad("the normalization trie reaches unit " + std::to_string(node) + " (from unit " +
                 std::to_string(from) + ") of " + std::to_string(units));
    }
    if (!seen[node]) {
      seen[node] = 1;
      stack.push_back(node);
    }
    return Status::Ok();
  };
  TERRA_RETURN_IF_ERROR(visit(root, 0));
  while (!stack.empty()) {
    const size_t node = stack.back();
    stack.pop_back();
    for (uint32_t c = 0; c < 256; ++c) {
      const size_t at = node ^ c;  // < units: visit() checked node | 0xFF
      const uint32_t u = unit(at);
      if (unit_label(u) != c) continue;
      const size_t child = at ^ unit_offset(u);
      if (unit_has_leaf(u)) {
        if (child >= units) {
          return bad("the normalization trie's leaf at unit " + std::to_string(child) + " lies outside its " +
                     std::to_string(units) + " units");
        }
        const uint32_t value = unit_value(unit(child));
        if (value >= strings) {
          return bad("the normalization trie points at byte " + std::to_string(value) + " of " +
                     std::to_string(strings) + " bytes of normalized strings");
        }
      }
      TERRA_RETURN_IF_ERROR(visit(child, at));
    }
  }
  return Status::Ok();
}

Result<SentencePieceSummary> check_sentencepiece_model(const uint8_t* blob, size_t size, int vocab_size) {
  SentencePieceSummary summary;
  if (size == 0) return bad("it is empty");
  auto check_spec = [&](const Field& spec, const char* name, bool normalizer) {
    return for_each_field(spec.data, spec.size, name, [&](const Field& f) {
      if (f.number != kCharsmap) return Status::Ok();
      if (f.type != 2) return bad(std::string(name) + ": precompiled_charsmap is not a byte string");
      if (f.size == 0) return Status::Ok();  // no rules (identity normalization)
      if (normalizer) {
        summary.charsmap_bytes = f.size;
        summary.charsmap_offset = size_t(f.data - blob);
      }
      Status s = check_precompiled_charsmap(f.data, f.size);
      return s.ok() ? s : Status::Error(s.code(), s.message() + " (" + name + ")");
    });
  };
  TERRA_RETURN_IF_ERROR(for_each_field(blob, size, "model", [&](const Field& f) {
    if ((f.number == kPieces || f.number == kNormalizerSpec || f.number == kDenormalizerSpec) && f.type != 2) {
      return bad("field " + std::to_string(f.number) + " is not a message");
    }
    if (f.number == kPieces) return check_piece(f, summary.pieces++);
    if (f.number == kNormalizerSpec) return check_spec(f, "normalizer_spec", true);
    if (f.number == kDenormalizerSpec) return check_spec(f, "denormalizer_spec", false);
    return Status::Ok();
  }));
  if (summary.pieces == 0) return bad("it has no pieces");
  if (summary.pieces > vocab_size) {
    return Status::Error(ErrorCode::kCorruptModel, "the SentencePiece model has " + std::to_string(summary.pieces) +
                                                       " pieces, more than the model's vocabulary of " +
                                                       std::to_string(vocab_size));
  }
  return summary;
}

Result<int> check_subword_vocabulary(const uint8_t* blob, size_t size, int vocab_size, int n_reserved_ids) {
  auto bad_vocab = [](const std::string& what) {
    return Status::Error(ErrorCode::kCorruptModel, "the subword vocabulary is damaged: " + what);
  };
  if (n_reserved_ids < 0 || n_reserved_ids > vocab_size) {
    return bad_vocab("n_reserved_ids " + std::to_string(n_reserved_ids) + " does not fit the vocabulary of " +
                     std::to_string(vocab_size));
  }
  int lines = 0;
  size_t start = 0;
  while (start < size) {
    const uint8_t* nl = static_cast<const uint8_t*>(std::memchr(blob + start, '\n', size - start));
    const size_t end = nl ? size_t(nl - blob) : size;
    if (end - start > 1024) return bad_vocab("line " + std::to_string(lines + 1) + " is longer than 1024 bytes");
    // UTF-8 without overlong forms or surrogates, no NUL.
    for (size_t i = start; i < end;) {
      const uint8_t c = blob[i];
      int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
      if (c == 0 || n < 0 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4) || i + size_t(n) >= end + (n ? 0 : 1)) {
        return bad_vocab("line " + std::to_string(lines + 1) + " is not valid UTF-8");
      }
      for (int k = 1; k <= n; ++k) {
        if ((blob[i + size_t(k)] & 0xC0) != 0x80) return bad_vocab("line " + std::to_string(lines + 1) + " is not valid UTF-8");
      }
      if ((c == 0xE0 && blob[i + 1] < 0xA0) || (c == 0xED && blob[i + 1] > 0x9F) || (c == 0xF0 && blob[i + 1] < 0x90) ||
          (c == 0xF4 && blob[i + 1] > 0x8F)) {
        return bad_vocab("line " + std::to_string(lines + 1) + " is not valid UTF-8");
      }
      i += size_t(n) + 1;
    }
    ++lines;
    start = end + 1;
  }
  if (lines == 0) return bad_vocab("it is empty");
  if (int64_t(lines) + n_reserved_ids > vocab_size) {
    return Status::Error(ErrorCode::kCorruptModel, "the subword vocabulary has " + std::to_string(lines) +
                                                       " subtokens, more than fit the model's vocabulary of " +
                                                       std::to_string(vocab_size) + " after " +
                                                       std::to_string(n_reserved_ids) + " reserved ids");
  }
  return lines;
}

}  // namespace terra
