// Tokenizer blobs as a model file carries them: the bytes are a SentencePiece model proto (seeds:
// the KJV model and an NFKC model with a normalization trie); when the runtime accepts it, texts
// that walk the normalization rules are tokenized and every id decoded.
#include "fuzz_input.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  terra::TokenizerInfo info;
  info.kind = terra::TokenizerKind::kSentencePiece;
  info.model = data;
  info.model_size = size;
  const int vocab = 1 << 16;
  auto tok = terra::Tokenizer::create(info, vocab);
  if (!tok.ok()) return 0;
  static const char* const texts[] = {
      "In the beginning God created the heaven and the earth.",
      "\xEF\xBC\xA6\xEF\xBC\xB5\xEF\xBC\xAC\xEF\xBC\xAC \xEF\xAC\x81 \xE2\x91\xA0 \xC2\xBD A\xCC\x8A \xC3\xA9 \xF0\x9D\x90\x80",
      "\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xEF\xBD\xB6\xEF\xBE\x9E \t\n\x01\x7f\xff\xfe\x80",
  };
  std::string out;
  for (const char* text : texts) {
    auto ids = tok.value()->encode(text);
    if (!ids.ok()) continue;
    for (int id : ids.value()) tok.value()->decode(id, &out);
  }
  for (int id = -1; id <= vocab; id += 97) tok.value()->decode(id, &out);
  return 0;
}
