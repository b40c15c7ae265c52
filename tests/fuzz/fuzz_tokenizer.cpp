// Tokenizer blobs as a model file carries them. The first byte chooses the kind: even, a
// SentencePiece model proto (seeds: the KJV model and an NFKC model with a normalization trie);
// odd, a T2T subword vocabulary (seed: trax's en_8k.subword). When the runtime accepts the blob,
// texts that walk the normalization rules are tokenized and the ids decoded as a stream.
#include "fuzz_input.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  terra::TokenizerInfo info;
  info.kind = data[0] & 1 ? terra::TokenizerKind::kSubword : terra::TokenizerKind::kSentencePiece;
  info.byte_offset = data[0] & 1 ? data[0] >> 4 : 2;  // subword: n_reserved_ids
  info.model = data + 1;
  info.model_size = size - 1;
  const int vocab = 1 << 16;
  auto tok = terra::Tokenizer::create(info, vocab);
  if (!tok.ok()) return 0;
  static const char* const texts[] = {
      "In the beginning God created the heaven and the earth.",
      "\xEF\xBC\xA6\xEF\xBC\xB5\xEF\xBC\xAC\xEF\xBC\xAC \xEF\xAC\x81 \xE2\x91\xA0 \xC2\xBD A\xCC\x8A \xC3\xA9 \xF0\x9D\x90\x80",
      "\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xEF\xBD\xB6\xEF\xBE\x9E \t\n\x01\x7f\xff\xfe\x80",
  };
  std::string out;
  terra::TextDecoder decoder(*tok.value());
  for (const char* text : texts) {
    auto ids = tok.value()->encode(text);
    if (!ids.ok()) continue;
    decoder.reset(true);
    for (int id : ids.value()) decoder.push(id, &out);
    decoder.finish(&out);
  }
  decoder.reset(false);
  for (int id = -1; id <= vocab; id += 97) decoder.push(id, &out);
  decoder.finish(&out);
  return 0;
}
