// Bad input gets a clear error naming the problem, never a crash: damaged and contradictory
// model files, bad tokens, contexts longer than the session planned for.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "decoder/session.h"
#include "model_factory.h"
#include "test_util.h"

using namespace terra;
using terra::test::temp_path;

namespace {

std::string load_error(const std::string& path) {
  auto m = Model::load(path);
  REQUIRE_FALSE(m.ok());
  return m.status().message();
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path(temp_path(name)) {}
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("a good tiny model loads and decodes", "[errors]") {
  TempFile f("good.terra");
  REQUIRE(test::write_random_model(f.path, test::tiny_config(true)).ok());
  auto m = Model::load(f.path);
  INFO(m.status().message());
  REQUIRE(m.ok());
  auto s = Session::create(*m.value(), {8, 1});
  REQUIRE(s.ok());
  REQUIRE(s.value()->step(0).ok());
}

TEST_CASE("a missing file is an i/o error naming it", "[errors]") {
  auto m = Model::load("/nonexistent/model.terra");
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == ErrorCode::kIo);
  CHECK_THAT(m.status().message(), Catch::Contains("/nonexistent/model.terra"));
}

TEST_CASE("truncated files are rejected", "[errors]") {
  TempFile good("trunc-src.terra"), cut("trunc.terra");
  REQUIRE(test::write_random_model(good.path, test::tiny_config(true)).ok());
  const std::vector<char> bytes = test::read_file(good.path);
  for (size_t keep : {size_t(0), size_t(4), size_t(8), size_t(64), size_t(1000), size_t(4096), size_t(4100),
                      bytes.size() / 2, bytes.size() - 1}) {
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    test::write_file(cut.path, std::vector<char>(bytes.begin(), bytes.begin() + long(keep)));
    const std::string err = load_error(cut.path);
    CHECK_THAT(err, Catch::Contains(cut.path));
  }
}

TEST_CASE("a wrong identifier is named", "[errors]") {
  TempFile f("ident.terra");
  REQUIRE(test::write_random_model(f.path, test::tiny_config(false)).ok());
  std::vector<char> bytes = test::read_file(f.path);
  bytes[4] = 'G';
  bytes[5] = 'G';
  bytes[6] = 'U';
  bytes[7] = 'F';
  test::write_file(f.path, bytes);
  CHECK_THAT(load_error(f.path), Catch::Contains("not a terra model file (identifier 'GGUF'"));
}

TEST_CASE("every single flipped byte in the table is an error or a model that still runs", "[errors]") {
  TempFile good("flip-src.terra"), bad("flip.terra");
  REQUIRE(test::write_random_model(good.path, test::tiny_config(true)).ok());
  const std::vector<char> bytes = test::read_file(good.path);
  // A tiny model's table fits in the first page; past it lies tensor data, where any bytes are valid.
  const size_t table_end = std::min<size_t>(4096, bytes.size());
  int rejected = 0, loaded = 0;
  for (size_t i = 0; i < table_end; ++i) {
    std::vector<char> damaged = bytes;
    damaged[i] = char(damaged[i] ^ 0x5a);
    test::write_file(bad.path, damaged);
    auto m = Model::load(bad.path);
    if (!m.ok()) {
      ++rejected;
      continue;
    }
    ++loaded;  // the flip hit padding, metadata or a value that is still valid: it must run
    auto s = Session::create(*m.value(), {4, 1});
    if (s.ok()) {
      for (int t = 0; t < 4; ++t) (void)s.value()->step(t);
    }
  }
  std::printf("flipped table bytes: %d rejected, %d loaded and ran\n", rejected, loaded);
  CHECK(rejected > 100);
}

TEST_CASE("a tensor with the wrong shape is named with both shapes", "[errors]") {
  TempFile f("shape.terra");
  const ModelConfig c = test::tiny_config(false);
  REQUIRE(test::write_model(f.path, c, c, [](PlannedTensor& t) {
            if (t.name == "decoder.layers.1.attn.0.k.kernel") {
              t.shape = {16, 8};
              t.bytes = 16 * 8 * 4;
            }
            return true;
          }).ok());
  CHECK_THAT(load_error(f.path),
             Catch::Contains("tensor 'decoder.layers.1.attn.0.k.kernel' has shape [16, 8], expected [16, 16]"));
}

TEST_CASE("a config that contradicts the tensors is rejected", "[errors]") {
  TempFile f("contra.terra");
  ModelConfig header = test::tiny_config(true);
  ModelConfig tensors = header;
  tensors.d_ff = 64;  // the file says 32
  REQUIRE(test::write_model(f.path, header, tensors).ok());
  CHECK_THAT(load_error(f.path), Catch::Contains("expected") && Catch::Contains("from the config"));

  ModelConfig dense = test::tiny_config(false);  // header says sparse FF, tensors are dense
  REQUIRE(test::write_model(f.path, header, dense).ok());
  CHECK_THAT(load_error(f.path), Catch::Contains("decoder.layers.0.ff.m1") && Catch::Contains("missing"));
}

TEST_CASE("missing and unexpected tensors are named", "[errors]") {
  TempFile f("names.terra");
  const ModelConfig c = test::tiny_config(true);
  REQUIRE(test::write_model(f.path, c, c, [](PlannedTensor& t) { return t.name != "loss.bias"; }).ok());
  CHECK_THAT(load_error(f.path), Catch::Contains("required tensor 'loss.bias' is missing"));
  REQUIRE(test::write_model(f.path, c, c, nullptr, {{"decoder.layers.9.ff.m1", DType::kF32, Layout::kRowMajor, {4}, 0, 16}})
              .ok());
  CHECK_THAT(load_error(f.path), Catch::Contains("tensor 'decoder.layers.9.ff.m1' is not part of a model"));
}

TEST_CASE("features of later versions are refused with their name", "[errors]") {
  TempFile f("unsupported.terra");
  ModelConfig c = test::tiny_config(false);
  c.n_encoder_layers = 1;
  c.encoder_attention_type = AttentionType::kMultConv;
  REQUIRE(test::write_model(f.path, c, c).ok());
  auto m = Model::load(f.path);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == ErrorCode::kUnsupported);
  CHECK_THAT(m.status().message(), Catch::Contains("encoder attention type 'mult_conv'"));

  c = test::tiny_config(false);
  c.decoder_attention_types = {AttentionType::kMultConv};
  c.qkv_sparsity = 2;
  c.d_attention_key = 4;  // mult_conv derives its heads from d_model
  REQUIRE(test::write_model(f.path, c, c).ok());
  CHECK_THAT(Model::load(f.path).status().message(), Catch::Contains("mult_conv attention with d_attention_key"));
}

TEST_CASE("LSH settings out of range are named", "[errors]") {
  TempFile f("lsh.terra");
  ModelConfig c = test::tiny_config(false);
  c.decoder_attention_types = {AttentionType::kLSH};
  c.lsh_chunk_len = 4;
  c.lsh_n_buckets = 4;
  c.lsh_n_hashes = 1;
  c.lsh_predict_mem_len = 8;
  c.lsh_predict_drop_len = 8;
  REQUIRE(test::write_model(f.path, c, c).ok());
  CHECK(Model::load(f.path).ok());
  const std::pair<void (*)(ModelConfig&), const char*> cases[] = {
      {[](ModelConfig& m) { m.lsh_n_buckets = 5; }, "lsh_n_buckets = 5"},
      {[](ModelConfig& m) { m.lsh_bucket_factors = {2, 4}; }, "lsh_n_buckets = 4: must be the product of lsh_bucket_factors, 8"},
      {[](ModelConfig& m) { m.lsh_bucket_factors = {4, 3}, m.lsh_n_buckets = 12; }, "lsh_bucket_factors[] = 3"},
      {[](ModelConfig& m) { m.lsh_bucket_factors = std::vector<int>(9, 2), m.lsh_n_buckets = 512; }, "lsh_bucket_factors = 9"},
      {[](ModelConfig& m) { m.lsh_chunk_len = 0; }, "lsh_chunk_len = 0"},
      {[](ModelConfig& m) { m.lsh_n_hashes = 0; }, "lsh_n_hashes = 0"},
      {[](ModelConfig& m) { m.lsh_predict_drop_len = 9; }, "lsh_predict_drop_len = 9"},
      {[](ModelConfig& m) { m.lsh_predict_mem_len = 1; }, "lsh_predict_mem_len = 1"},
  };
  for (const auto& [edit, message] : cases) {
    ModelConfig bad = c;
    edit(bad);
    REQUIRE(test::write_model(f.path, bad, c).ok());
    CHECK_THAT(Model::load(f.path).status().message(), Catch::Contains(message));
  }
}

TEST_CASE("bad tokens and full contexts are errors that change nothing", "[errors]") {
  TempFile f("tokens.terra");
  REQUIRE(test::write_random_model(f.path, test::tiny_config(true)).ok());
  auto m = Model::load(f.path);
  REQUIRE(m.ok());
  auto created = Session::create(*m.value(), {4, 1});
  REQUIRE(created.ok());
  Session& s = *created.value();

  for (int bad : {-1, 260, 1 << 30}) {
    Status st = s.step(bad);
    CHECK(st.code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("token id " + std::to_string(bad)));
  }
  const int mixed[] = {5, 6, 999};
  CHECK(s.prefill(mixed, 3).code() == ErrorCode::kInvalidArgument);
  CHECK(s.position() == 0);

  const int five[] = {1, 2, 3, 4, 5};
  Status st = s.prefill(five, 5);
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK_THAT(st.message(), Catch::Contains("context of 4 positions"));
  CHECK(s.position() == 0);
  REQUIRE(s.prefill(five, 4).ok());
  st = s.step(7);
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK_THAT(st.message(), Catch::Contains("the context is full"));
  CHECK(s.position() == 4);
}

TEST_CASE("session options are checked", "[errors]") {
  TempFile f("options.terra");
  ModelConfig c = test::tiny_config(false);
  c.pos_encoding = PosEncoding::kLearned;
  REQUIRE(test::write_random_model(f.path, c).ok());
  auto m = Model::load(f.path);
  REQUIRE(m.ok());
  CHECK(Session::create(*m.value(), {65, 1}).status().code() == ErrorCode::kInvalidArgument);  // table has 64
  CHECK(Session::create(*m.value(), {-3, 1}).status().code() == ErrorCode::kInvalidArgument);
  CHECK(Session::create(*m.value(), {8, 0}).status().code() == ErrorCode::kInvalidArgument);
  CHECK(Session::create(*m.value(), {64, 2}).ok());
}

TEST_CASE("damaged weights are found by their checksum and NaN logits are an error", "[errors]") {
  TempFile good("sum-src.terra"), bad("sum.terra");
  REQUIRE(test::write_random_model(good.path, test::tiny_config(true)).ok());
  auto ref = ModelFile::load(good.path);
  REQUIRE(ref.ok());
  CHECK(ref.value()->verify_checksums().ok());
  const TensorView* bias = nullptr;
  for (const TensorView& t : ref.value()->tensors()) {
    CHECK(t.checksum != 0);
    if (t.name == "loss.bias") bias = &t;
  }
  REQUIRE(bias != nullptr);
  std::vector<char> bytes = test::read_file(good.path);
  const size_t offset = size_t(ref.value()->file_offset(*bias));
  const float nan = NAN;
  std::memcpy(&bytes[offset + 4], &nan, 4);  // loss.bias[1] = NaN
  test::write_file(bad.path, bytes);

  auto m = Model::load(bad.path);
  REQUIRE(m.ok());  // loading maps the weights without reading them
  Status v = m.value()->file().verify_checksums();
  CHECK(v.code() == ErrorCode::kCorruptModel);
  CHECK_THAT(v.message(), Catch::Contains("tensor 'loss.bias' is damaged"));
  auto s = Session::create(*m.value(), {4, 1});
  REQUIRE(s.ok());
  Status st = s.value()->step(0);
  CHECK(st.code() == ErrorCode::kCorruptModel);
  CHECK_THAT(st.message(), Catch::Contains("non-finite logit (token 1, position 0)"));
}

TEST_CASE("encode is only for encoder-decoder models and checks its input", "[errors]") {
  TempFile lm("lm.terra"), ed("ed.terra");
  REQUIRE(test::write_random_model(lm.path, test::tiny_config(false)).ok());
  auto m = Model::load(lm.path);
  REQUIRE(m.ok());
  auto s = Session::create(*m.value(), {8, 1});
  REQUIRE(s.ok());
  const int input[] = {5, 6, 7};
  CHECK_THAT(s.value()->encode(input, 3).message(), Catch::Contains("this model has no encoder"));

  ModelConfig c = test::tiny_config(true);
  c.n_encoder_layers = 1;
  REQUIRE(test::write_random_model(ed.path, c).ok());
  auto e = Model::load(ed.path);
  REQUIRE(e.ok());
  auto es = Session::create(*e.value(), {8, 1, 2});
  REQUIRE(es.ok());
  Status st = es.value()->encode(input, 3);
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK_THAT(st.message(), Catch::Contains("maximum input of 2 tokens"));
  const int bad[] = {5, -2};
  CHECK(es.value()->encode(bad, 2).code() == ErrorCode::kInvalidArgument);
  const int padded[] = {5, 0};  // trax's padding id: inputs are given without padding
  st = es.value()->encode(padded, 2);
  CHECK(st.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("input token 1 is 0, trax's padding id"));
  REQUIRE(es.value()->encode(input, 2).ok());
  CHECK(es.value()->position() == 2);
  REQUIRE(es.value()->step(0).ok());
  CHECK(Session::create(*e.value(), {8, 1, 9}).status().code() == ErrorCode::kInvalidArgument);  // input > context
}
