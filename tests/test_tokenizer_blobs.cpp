// Tokenizer blobs inside model files are checked before libsentencepiece sees them. Found by an
// outside fuzzing run: one flipped bit in a SentencePiece normalization trie made tokenizing read
// outside the blob (SIGSEGV in Normalizer::NormalizePrefix), and a piece set to NUL made the
// library throw while loading. The trie model here is trained at test time by spm_train with
// nmt_nfkc normalization (its ~230 KB precompiled_charsmap is the NFKC table, whatever the text).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "model/model.h"
#include "model/tokenizer_blob.h"
#include "model_factory.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

using namespace terra;

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  const std::vector<char> c = test::read_file(path);
  return std::vector<uint8_t>(c.begin(), c.end());
}

std::vector<uint8_t> nfkc_model() {
  const char* path = std::getenv("TERRA_NFKC_MODEL");
  REQUIRE(path != nullptr);
  std::vector<uint8_t> b = read_bytes(path);
  REQUIRE(b.size() > 100000);
  return b;
}

std::vector<uint8_t> kjv_model() { return read_bytes(std::string(TERRA_SOURCE_DIR) + "/models/tokenizer/kjv.model"); }

TokenizerInfo spm_info(const std::vector<uint8_t>& blob) {
  TokenizerInfo t;
  t.kind = TokenizerKind::kSentencePiece;
  t.model = blob.data();
  t.model_size = blob.size();
  return t;
}

// Texts that walk the NFKC rules: compatibility forms, full-width letters, ligatures, fractions,
// accents composed and decomposed, invalid UTF-8 and control bytes.
const char* const kProbes[] = {
    "In the beginning God created the heaven and the earth.",
    "\xEF\xBC\xA6\xEF\xBC\xB5\xEF\xBC\xAC\xEF\xBC\xAC \xEF\xAC\x81 \xEF\xAC\x82 \xE2\x91\xA0 \xC2\xB2 \xC2\xBD "
    "\xE2\x84\xAB A\xCC\x8A n\xCC\x83 \xC3\xA9 \xE3\x8D\xBF \xF0\x9D\x90\x80",
    "\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xE3\x82\xAB\xE3\x82\x99 \xEF\xBD\xB6\xEF\xBE\x9E",
    "\t  x\n\r\x01\x7f \xff\xfe\x80 abc \xC0\xAF",
};

}  // namespace

TEST_CASE("real SentencePiece models pass the check", "[tokenizer][hostile]") {
  const std::vector<uint8_t> nfkc = nfkc_model(), kjv = kjv_model();
  auto n = check_sentencepiece_model(nfkc.data(), nfkc.size(), 100000);
  INFO(n.status().message());
  REQUIRE(n.ok());
  CHECK(n.value().charsmap_bytes > 100000);
  auto k = check_sentencepiece_model(kjv.data(), kjv.size(), 2048);
  REQUIRE(k.ok());
  CHECK(k.value().pieces == 2048);
  CHECK(k.value().charsmap_bytes == 0);  // identity normalization

  auto tok = Tokenizer::create(spm_info(nfkc), 100000);
  REQUIRE(tok.ok());
  auto ids = tok.value()->encode("\xEF\xAC\x81");  // the ligature "fi" normalizes to f, i
  REQUIRE(ids.ok());
  std::string text;
  for (int id : ids.value()) tok.value()->decode(id, &text);
  CHECK(text.find("fi") != std::string::npos);
}

TEST_CASE("a piece set to NUL is refused by name, not thrown", "[tokenizer][hostile]") {
  std::vector<uint8_t> kjv = kjv_model();
  // The piece "v": field 1 (pieces) holds a message whose field 1 (text) is the one byte 'v'.
  const uint8_t v_piece[] = {0x0A, 0x01, 'v'};
  auto at = std::search(kjv.begin(), kjv.end(), std::begin(v_piece), std::end(v_piece));
  REQUIRE(at != kjv.end());
  at[2] = 0;
  auto checked = check_sentencepiece_model(kjv.data(), kjv.size(), 4096);
  REQUIRE_FALSE(checked.ok());
  CHECK_THAT(checked.status().message(), Catch::Contains("contains a NUL byte"));
  auto tok = Tokenizer::create(spm_info(kjv), 4096);
  REQUIRE_FALSE(tok.ok());
  CHECK_THAT(tok.status().message(), Catch::Contains("contains a NUL byte"));

  // And in a model file: loading refuses it (so `terra verify` and terra_model_load do).
  const std::string path = test::temp_path("nul-piece.terra");
  CheckpointConfig cc;
  cc.model = test::tiny_config(false);
  cc.model.vocab_size = 2048;
  cc.tokenizer = spm_info(kjv);
  cc.tokenizer_model = kjv;
  cc.tokenizer.model = cc.tokenizer_model.data();
  auto written = convert(cc, random_source(cc.model, 1), path, ConvertOptions{}, nullptr);
  REQUIRE_FALSE(written.ok());  // the converter refuses it with the same words
  CHECK_THAT(written.message(), Catch::Contains("contains a NUL byte"));
  std::remove(path.c_str());
}

TEST_CASE("a tokenizer blob damaged in a model file is found by its checksum", "[tokenizer][hostile]") {
  const std::string path = test::temp_path("spm-sum.terra");
  CheckpointConfig cc;
  cc.model = test::tiny_config(false);
  cc.model.vocab_size = 2048;
  cc.tokenizer_model = kjv_model();
  cc.tokenizer = spm_info(cc.tokenizer_model);
  REQUIRE(convert(cc, random_source(cc.model, 1), path, ConvertOptions{}, nullptr).ok());
  REQUIRE(Model::load(path).ok());
  std::vector<char> bytes = test::read_file(path);
  // A piece's score (a float): any bits are a well-formed proto, only the checksum can tell.
  const std::string piece = "\xE2\x96\x81the";  // "▁the"
  auto at = std::search(bytes.begin(), bytes.end(), piece.begin(), piece.end());
  REQUIRE(at != bytes.end());
  at[int(piece.size()) + 2] ^= 0x10;  // after the text: tag 0x15 (field 2, fixed32), then the score
  test::write_file(path, bytes);
  auto m = Model::load(path);
  REQUIRE_FALSE(m.ok());
  CHECK_THAT(m.status().message(), Catch::Contains("the tokenizer model is damaged: its bytes do not match"));
  std::remove(path.c_str());
}

TEST_CASE("a flipped bit that made libsentencepiece read outside the trie is refused", "[tokenizer][hostile]") {
  // Found with this model's trie: flipping bit 1 of byte 167625 of the charsmap sends the path of a
  // 5-byte input to unit 10,818,481 of 44,288 (43 MB past the array); unchecked, libsentencepiece's
  // Encode() of that input died of SIGSEGV in 8 runs of 8 (measured when this test was written).
  std::vector<uint8_t> nfkc = nfkc_model();
  auto summary = check_sentencepiece_model(nfkc.data(), nfkc.size(), 100000);
  REQUIRE(summary.ok());
  nfkc[summary.value().charsmap_offset + 167625] ^= 1u << 1;
  auto checked = check_sentencepiece_model(nfkc.data(), nfkc.size(), 100000);
  REQUIRE_FALSE(checked.ok());
  CHECK_THAT(checked.status().message(), Catch::Contains("unit 10818481 lies outside its 44288 units"));
  CHECK_FALSE(Tokenizer::create(spm_info(nfkc), 100000).ok());
}

TEST_CASE("single-bit flips of a normalization trie: refused, or tokenizing stays in bounds", "[tokenizer][hostile]") {
  const std::vector<uint8_t> good = nfkc_model();
  auto summary = check_sentencepiece_model(good.data(), good.size(), 100000);
  REQUIRE(summary.ok());
  const size_t start = summary.value().charsmap_offset, bits = summary.value().charsmap_bytes * 8;
  std::mt19937_64 rng(2026);
  int refused = 0, accepted = 0;
  for (int k = 0; k < 1500; ++k) {
    const size_t bit = rng() % bits;
    std::vector<uint8_t> blob = good;
    blob[start + bit / 8] ^= uint8_t(1u << (bit % 8));
    auto tok = Tokenizer::create(spm_info(blob), 100000);
    if (!tok.ok()) {
      ++refused;
      continue;
    }
    ++accepted;
    for (const char* text : kProbes) {
      INFO("bit " << bit << ", text " << text);
      CHECK(tok.value()->encode(text).ok());
    }
  }
  std::printf("trie bit flips: %d refused, %d accepted and tokenized\n", refused, accepted);
  CHECK(refused > 100);
  CHECK(accepted > 100);
}

TEST_CASE("hand-made broken normalization rules are named", "[tokenizer][hostile]") {
  const std::vector<uint8_t> good = nfkc_model();
  auto summary = check_sentencepiece_model(good.data(), good.size(), 100000);
  REQUIRE(summary.ok());
  const std::vector<uint8_t> charsmap(good.begin() + long(summary.value().charsmap_offset),
                                      good.begin() + long(summary.value().charsmap_offset + summary.value().charsmap_bytes));
  REQUIRE(check_precompiled_charsmap(charsmap.data(), charsmap.size()).ok());
  auto error = [](std::vector<uint8_t> b) {
    Status s = check_precompiled_charsmap(b.data(), b.size());
    REQUIRE_FALSE(s.ok());
    return s.message();
  };
  std::vector<uint8_t> b = charsmap;
  b[0] = 0xFF, b[1] = 0xFF, b[2] = 0xFF, b[3] = 0x7F;  // a trie larger than the blob
  CHECK_THAT(error(b), Catch::Contains("the normalization trie claims 2147483647 bytes"));
  b = charsmap;
  b.back() = 'x';  // the last normalized string never ends
  CHECK_THAT(error(b), Catch::Contains("do not end with a NUL"));
  b = charsmap;
  b[4] = 0xFF, b[5] = 0xFF, b[6] = 0xFF, b[7] = 0xFF;  // the root's offset points far away
  CHECK_THAT(error(b), Catch::Contains("the normalization trie reaches unit"));
  CHECK_THAT(error(std::vector<uint8_t>(charsmap.begin(), charsmap.begin() + 4)), Catch::Contains("are 4 bytes"));
}
