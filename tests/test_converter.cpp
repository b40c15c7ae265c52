// The converter: re-layout for the runtime, checks that name the offending tensor with the
// expected and found shapes, config.json validation, and a synthesized model that loads.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "convert.h"
#include "decoder/session.h"
#include "model_factory.h"
#include "test_util.h"

using namespace terra;

namespace {

// A minimal safetensors writer for hand-made checkpoints.
void write_safetensors(const std::string& path, const std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>>& tensors) {
  nlohmann::json header;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", "F32"}, {"shape", t.first}, {"data_offsets", {offset, offset + t.second.size() * 4}}};
    offset += t.second.size() * 4;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(h.data(), std::streamsize(h.size()));
  for (const auto& [name, t] : tensors) out.write(reinterpret_cast<const char*>(t.second.data()), std::streamsize(t.second.size() * 4));
}

std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> checkpoint_for(const ModelConfig& c) {
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> m;
  auto source = random_source(c, 5);
  for (const TensorSpec& s : model_tensors(c)) m[s.name] = {s.source_shape, source(s).take()};
  return m;
}

}  // namespace

TEST_CASE("relayout transposes kernels and makes sparse FF weights neuron-major", "[converter]") {
  TensorSpec kernel{"k", {2, 3}, {3, 2}, Layout::kOutIn, Transform::kTranspose2D, true};
  CHECK(relayout(kernel, {0, 1, 2, 3, 4, 5}) == std::vector<float>{0, 3, 1, 4, 2, 5});
  // w1 [d=2, B=2, N=2] -> [B, N, d]: unit (i, j) gathers w1[:, i, j]
  TensorSpec w1{"w1", {2, 2, 2}, {2, 2, 2}, Layout::kNeuronMajor, Transform::kTranspose2D, true};
  CHECK(relayout(w1, {0, 1, 2, 3, 4, 5, 6, 7}) == std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7});
  // w2 [N=2, B=3, d=1] -> [B, N, d]: unit (i, j) is w2[j, i, :]
  TensorSpec w2{"w2", {2, 3, 1}, {3, 2, 1}, Layout::kNeuronMajor, Transform::kSwapFirstTwo, true};
  CHECK(relayout(w2, {0, 1, 2, 3, 4, 5}) == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("checkpoint checks name the tensor and both shapes", "[converter]") {
  const ModelConfig c = test::tiny_config(true);
  const std::string path = test::temp_path("ckpt.safetensors");
  auto tensors = checkpoint_for(c);

  write_safetensors(path, tensors);
  auto good = SafetensorsFile::open(path);
  REQUIRE(good.ok());
  CHECK(check_checkpoint(*good.value(), c).ok());

  auto wrong = tensors;
  wrong["decoder.layers.1.ff.w2"].first = {8, 4, 16};  // trax order is [N=4, B=8, d=16]
  write_safetensors(path, wrong);
  auto f1 = SafetensorsFile::open(path);
  REQUIRE(f1.ok());
  CHECK_THAT(check_checkpoint(*f1.value(), c).message(),
             Catch::Contains("tensor 'decoder.layers.1.ff.w2' has shape [8, 4, 16], expected [4, 8, 16]"));

  auto missing = tensors;
  missing.erase("decoder.out_norm.bias");
  write_safetensors(path, missing);
  auto f2 = SafetensorsFile::open(path);
  REQUIRE(f2.ok());
  CHECK_THAT(check_checkpoint(*f2.value(), c).message(),
             Catch::Contains("tensor 'decoder.out_norm.bias' is missing (expected shape [16])"));

  auto extra = tensors;
  extra["decoder.layers.7.ff.m1"] = {{2}, {1, 2}};
  write_safetensors(path, extra);
  auto f3 = SafetensorsFile::open(path);
  REQUIRE(f3.ok());
  CHECK_THAT(check_checkpoint(*f3.value(), c).message(), Catch::Contains("unexpected tensor 'decoder.layers.7.ff.m1'"));

  std::ofstream(path, std::ios::binary) << "\xff\xff\xff\xff\xff\xff\xff\x7f{}";
  CHECK_THAT(SafetensorsFile::open(path).status().message(), Catch::Contains("header length"));
  std::remove(path.c_str());
}

TEST_CASE("config.json problems are named", "[converter]") {
  const std::string path = test::temp_path("config.json");
  auto error_for = [&](const std::string& text) {
    std::ofstream(path) << text;
    auto r = read_config_json(path);
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  const std::string base = R"("vocab_size": 300, "d_model": 32, "d_ff": 64, "n_heads": 4, "n_decoder_layers": 2)";
  CHECK_THAT(error_for("{" + base + R"(, "ff_sparsity": 5})"), Catch::Contains("ff_sparsity = 5: must divide d_ff 64"));
  CHECK_THAT(error_for("{" + base + R"(, "n_heads": 3})"), Catch::Contains("n_heads = 3: must divide d_model 32"));
  CHECK_THAT(error_for("{" + base + R"(, "pos_type": "rotary"})"), Catch::Contains("pos_type \"rotary\""));
  CHECK_THAT(error_for("{" + base + R"(, "d_modle": 3})"), Catch::Contains("unknown field 'd_modle'"));
  CHECK_THAT(error_for(R"({"vocab_size": 300})"), Catch::Contains("required field 'd_model' is missing"));
  CHECK_THAT(error_for("{" + base + R"(, "d_ff": "big"})"), Catch::Contains("'d_ff'"));
  CHECK_THAT(error_for("not json"), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_for("[1, 2]"), Catch::Contains("not a JSON object"));
  // Found by fuzzing: ids that overflowed an int or wrapped to 0, nesting that overflowed the stack.
  const std::string byte_tok = R"(, "vocab_size": 300, "tokenizer": {"type": "byte", )";
  const std::string small = R"("d_model": 32, "d_ff": 64, "n_heads": 4, "n_decoder_layers": 2)";
  CHECK_THAT(error_for("{" + small + byte_tok + R"("byte_offset": 2147483647}})"),
             Catch::Contains("tokenizer.byte_offset = 2147483647 is not an integer in [0, 44]"));
  CHECK_THAT(error_for("{" + small + byte_tok + R"("byte_offset": -1}})"),
             Catch::Contains("tokenizer.byte_offset = -1 is not an integer in [0, 44]"));
  CHECK_THAT(error_for("{" + small + byte_tok + R"("start_id": 4294967296}})"),
             Catch::Contains("tokenizer.start_id = 4294967296 is not an integer in [0, 299]"));
  CHECK_THAT(error_for("{" + base + R"(, "name": )" + std::string(100000, '[') + std::string(100000, ']') + "}"),
             Catch::Contains("nested more than 64 levels deep"));
  CHECK_THAT(error_for("{" + base + R"(, "tokenizer": {"type": "sentencepiece", "model": "/dev/zero"}})"),
             Catch::Contains("/dev/zero: not a regular file"));
  CHECK_THAT(error_for("{" + base + R"(, "d_ff": ")" + std::string(1000, 'x') + R"("})"), Catch::Contains("xxx..."));
  std::ofstream(path) << "{" + base + R"(, "ff_sparsity": 4})";
  auto ok = read_config_json(path);
  REQUIRE(ok.ok());
  CHECK(ok.value().model.d_lowrank == 16);  // trax's default d_ff / ff_sparsity
  std::remove(path.c_str());
}

TEST_CASE("a synthesized model loads and decodes in f32, f16, int8 and int4", "[converter]") {
  for (DType dt : {DType::kF32, DType::kF16, DType::kI8, DType::kI4}) {
    INFO("dtype " << dtype_name(dt));
    const std::string path = test::temp_path("synth.terra");
    CheckpointConfig cc;
    cc.model = test::tiny_config(true);
    ConvertSummary summary;
    ConvertOptions options;
    options.dtype = dt;
    REQUIRE(convert(cc, random_source(cc.model, 3), path, options, &summary).ok());
    auto m = Model::load(path);
    REQUIRE(m.ok());
    CHECK(m.value()->file().file_size() == summary.file_size);
    // int4 needs rows of a multiple of 32 and falls back to int8 per tensor otherwise
    const DType want = dt == DType::kI4 && cc.model.d_model % 32 != 0 ? DType::kI8 : dt;
    CHECK(m.value()->weights().embedding.dtype == want);
    CHECK(m.value()->weights().loss.bias != nullptr);
    uint64_t params = 0;
    for (const auto& [kind, n] : summary.parameters_by_kind) params += n;
    CHECK(params == summary.parameters);
    auto s = Session::create(*m.value(), {4, 1});
    REQUIRE(s.ok());
    REQUIRE(s.value()->step(0).ok());
    std::remove(path.c_str());
  }
}

TEST_CASE("per-tensor dtypes: overrides by glob, int4 falls back to int8 on short rows", "[converter]") {
  CheckpointConfig cc;
  cc.model = test::tiny_config(true);
  cc.model.d_model = 64;
  cc.model.d_ff = 128;
  cc.model.d_lowrank = 8;  // m2 rows of 8: not int4-able
  ConvertOptions options;
  options.dtype = DType::kI4;
  options.overrides = {{"embedding", DType::kF16}, {"*.ff.m1", DType::kF32}};
  const std::string path = test::temp_path("override.terra");
  REQUIRE(convert(cc, random_source(cc.model, 5), path, options, nullptr).ok());
  auto m = Model::load(path);
  REQUIRE(m.ok());
  std::map<std::string, DType> got;
  for (const TensorView& t : m.value()->file().tensors()) got[t.name] = t.dtype;
  CHECK(got.at("embedding") == DType::kF16);
  CHECK(got.at("decoder.layers.0.ff.m1") == DType::kF32);
  CHECK(got.at("decoder.layers.0.ff.m2") == DType::kI8);
  CHECK(got.at("decoder.layers.0.ff.w1") == DType::kI4);
  CHECK(got.at("decoder.layers.0.ff.b2") == DType::kF32);  // vectors stay f32
  auto s = Session::create(*m.value(), {4, 1});
  REQUIRE(s.ok());
  REQUIRE(s.value()->step(0).ok());
  CHECK(parse_dtype("int3").status().message().find("unknown dtype 'int3'") != std::string::npos);
  std::remove(path.c_str());
}
