// T2T's SubwordTextEncoder (trax's 'subword' vocabularies) against trax itself: trax's
// en_8k.subword encoded a KJV passage and edge cases (tests/data/trax/subword/README.md); terra's
// ids must be the same, and decoding them token by token must give trax's decoded text.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"
#include "tokenizer/subword_tokenizer.h"
#include "tokenizer/tokenizer.h"

using namespace terra;

namespace {
const std::string kDir = std::string(TERRA_SOURCE_DIR) + "/tests/data/trax/subword";

struct Vocab {
  std::vector<char> bytes = test::read_file(kDir + "/en_8k.subword");
  TokenizerInfo info(int reserved) const {
    TokenizerInfo t;
    t.kind = TokenizerKind::kSubword;
    t.model = reinterpret_cast<const uint8_t*>(bytes.data());
    t.model_size = bytes.size();
    t.byte_offset = reserved;
    return t;
  }
};
}  // namespace

TEST_CASE("subword ids and text equal trax's SubwordTextEncoder on real text", "[tokenizer][trax]") {
  Vocab v;
  REQUIRE(v.bytes.size() > 50000);
  const auto golden = nlohmann::json::parse(test::read_file(kDir + "/en_8k_golden.json"));
  REQUIRE(golden.size() >= 10);
  for (int reserved : {0, 100}) {  // trax's n_reserved_ids shifts every id
    auto made = Tokenizer::create(v.info(reserved), 8183 + reserved);
    INFO(made.status().message());
    REQUIRE(made.ok());
    const Tokenizer& tok = *made.value();
    CHECK(std::string(tok.name()) == "subword");
    TextDecoder decoder(tok);
    for (const auto& g : golden) {
      const std::string text = g["text"];
      INFO("text: " << text.substr(0, 80));
      auto ids = tok.encode(text);
      REQUIRE(ids.ok());
      std::vector<int> want = g["ids"].get<std::vector<int>>();
      for (int& id : want) id += reserved;
      CHECK(ids.value() == want);
      decoder.reset(false);
      std::string out;
      for (int id : want) decoder.push(id, &out);
      decoder.finish(&out);
      CHECK(out == g["decoded"].get<std::string>());
    }
  }
}

TEST_CASE("a subword vocabulary that cannot be read is refused by name", "[tokenizer][trax]") {
  Vocab v;
  CHECK_THAT(Tokenizer::create(v.info(0), 100).status().message(),
             Catch::Contains("8183 subtokens, more than fit the model's vocabulary of 100"));
  std::vector<char> bad = v.bytes;
  bad[40] = char(0xFF);
  Vocab broken;
  broken.bytes = bad;
  CHECK_THAT(Tokenizer::create(broken.info(0), 9000).status().message(), Catch::Contains("is not valid UTF-8"));
  // Letters and digits as Unicode has them (T2T's tokenizer splits on them).
  CHECK(unicode_alnum('a'));
  CHECK(unicode_alnum(0x4E2D));   // 中
  CHECK(unicode_alnum(0x00B2));   // superscript two: a number
  CHECK_FALSE(unicode_alnum(' '));
  CHECK_FALSE(unicode_alnum(0x1F600));
}
