// Structured mutation of model files: a valid file's FlatBuffer table is unpacked, one field is
// rewritten to a hostile value, the table is packed again in front of the same data region, and
// loading must fail with an error naming the problem, before it allocates for or reads what the
// field describes (the ASan+UBSan build runs this too: an out-of-bounds read, a misaligned load or
// an oversized allocation fails there). Then: the regressions an outside fuzzing run found.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <functional>

#include "decoder/session.h"
#include "model_factory.h"
#include "terra_generated.h"
#include "test_util.h"

using namespace terra;
using terra::test::temp_path;

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path(temp_path(name)) {}
  ~TempFile() { std::remove(path.c_str()); }
};

uint64_t round_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

// A model file taken apart: its table as objects, and the bytes of its data region.
struct Parts {
  std::unique_ptr<fb::ModelT> model;
  std::vector<uint8_t> data;
};

Parts take_apart(const std::vector<char>& file) {
  Parts p;
  const fb::Model* m = fb::GetModel(file.data());
  p.model.reset(m->UnPack());
  p.data.assign(file.begin() + long(m->data_offset()), file.end());
  return p;
}

// Packs the table, puts the data region on the next page after it (unless `place` is false:
// then data_offset stays what the mutation made it, and the data follows the table's page).
std::vector<char> put_together(fb::ModelT& m, const std::vector<uint8_t>& data, bool place = true) {
  auto pack = [&] {
    flatbuffers::FlatBufferBuilder b;
    fb::FinishModelBuffer(b, fb::Model::Pack(b, &m));
    return std::vector<char>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  };
  const uint64_t wanted = m.data_offset;
  m.data_offset = 4096;  // nonzero while measuring, so the field's presence does not change the size
  std::vector<char> table = pack();
  const uint64_t at = round_up(table.size(), 4096);
  m.data_offset = place ? at : wanted;
  table = pack();
  table.resize(at, 0);
  table.insert(table.end(), data.begin(), data.end());
  return table;
}

std::string load_error(const std::string& path, const std::vector<char>& bytes) {
  test::write_file(path, bytes);
  auto m = Model::load(path);
  REQUIRE_FALSE(m.ok());
  CHECK_THAT(m.status().message(), Catch::Contains(path));
  return m.status().message();
}

fb::TensorT& tensor(fb::ModelT& m, const std::string& name) {
  for (auto& t : m.tensors) {
    if (t->name == name) return *t;
  }
  FAIL("no tensor " << name);
  return *m.tensors[0];
}

}  // namespace

TEST_CASE("hostile values in each field of a model file are errors naming the field", "[hostile]") {
  TempFile good("hostile-src.terra"), bad("hostile.terra");
  const ModelConfig c = test::tiny_config(true);
  REQUIRE(test::write_random_model(good.path, c).ok());
  const std::vector<char> original = test::read_file(good.path);
  {  // taking a file apart and putting it together again gives a file that loads and runs
    Parts p = take_apart(original);
    test::write_file(bad.path, put_together(*p.model, p.data));
    auto m = Model::load(bad.path);
    INFO(m.status().message());
    REQUIRE(m.ok());
    REQUIRE(m.value()->file().verify_checksums().ok());
  }
  const uint64_t big = uint64_t(1) << 40;
  struct Case {
    const char* what;
    std::function<void(fb::ModelT&)> mutate;
    const char* error;
    bool place = true;
  };
  const std::vector<Case> cases = {
      {"dims whose product overflows 64 bits",
       [&](fb::ModelT& m) { tensor(m, "embedding").shape = {int64_t(big), int64_t(big), int64_t(big)}; },
       "tensor 'embedding' has an invalid dimension"},
      {"a negative dim", [](fb::ModelT& m) { tensor(m, "embedding").shape = {-260, 16}; }, "invalid dimension -260"},
      {"an offset past the data region", [](fb::ModelT& m) { tensor(m, "loss.bias").offset = m.data_size; },
       "tensor 'loss.bias' at offset"},
      {"an offset near 2^64", [](fb::ModelT& m) { tensor(m, "loss.bias").offset = ~uint64_t(63); },
       "lies outside the data region"},
      {"a size that disagrees with the shape", [](fb::ModelT& m) { tensor(m, "loss.bias").size = uint64_t(1) << 62; },
       "tensor 'loss.bias' records 4611686018427387904 bytes but its shape [260] of f32 needs 1040"},
      {"two tensors on the same bytes",
       [](fb::ModelT& m) {
         tensor(m, "decoder.layers.1.ff.norm.bias").offset = tensor(m, "decoder.layers.0.ff.norm.bias").offset;
       },
       "overlap in the data region"},
      {"a data region inside the table", [](fb::ModelT& m) { m.data_offset = 0; },
       "the model table overlaps the data region at offset 0", false},
      {"a data region past the end", [](fb::ModelT& m) { m.data_size = uint64_t(1) << 62; },
       "does not fit in the file"},
      {"a misaligned data region", [](fb::ModelT& m) { m.data_offset = 100; }, "data region [100,", false},
      {"layer counts in the billions", [](fb::ModelT& m) { m.config->n_decoder_layers = 1000000000; },
       "config field n_decoder_layers = 1000000000: must be in [1, 1024]"},
      {"max_len in the billions", [](fb::ModelT& m) { m.config->max_len = 2000000000; },
       "config field max_len = 2000000000"},
      {"vocabulary 0", [](fb::ModelT& m) { m.config->vocab_size = 0; }, "config field vocab_size = 0"},
      {"a config contradicting the tensors", [](fb::ModelT& m) { m.config->d_model = 32; },
       "has shape [260, 16], expected [260, 32] from the config"},
      {"an unknown dtype", [](fb::ModelT& m) { tensor(m, "loss.bias").dtype = fb::DType(77); }, "unknown dtype 77"},
      {"an unknown layout", [](fb::ModelT& m) { tensor(m, "loss.bias").layout = fb::Layout(9); }, "unknown layout 9"},
      {"a duplicated tensor name", [](fb::ModelT& m) { tensor(m, "loss.bias").name = "embedding"; },
       "tensor 'embedding' appears twice"},
      {"a later format version", [](fb::ModelT& m) { m.format_version = 99; }, "format version 99"},
      {"tokenizer ids outside the vocabulary",
       [](fb::ModelT& m) {
         if (!m.tokenizer) m.tokenizer = std::make_unique<fb::TokenizerT>();
         m.tokenizer->end_id = 1 << 30;
       },
       "tokenizer ids (start 0, end 1073741824"},
      {"a tokenizer blob of garbage",
       [](fb::ModelT& m) {
         if (!m.tokenizer) m.tokenizer = std::make_unique<fb::TokenizerT>();
         m.tokenizer->kind = fb::TokenizerKind::SentencePiece;
         m.tokenizer->model.clear();
         for (int i = 0; i < 5000; ++i) m.tokenizer->model.push_back(uint8_t(i * 7919 >> 3));
       },
       "the SentencePiece tokenizer model is damaged"},
      {"an unknown tokenizer kind",
       [](fb::ModelT& m) {
         if (!m.tokenizer) m.tokenizer = std::make_unique<fb::TokenizerT>();
         m.tokenizer->kind = fb::TokenizerKind(5);
       },
       "unknown tokenizer kind 5"},
  };
  for (const Case& k : cases) {
    INFO(k.what);
    Parts p = take_apart(original);
    k.mutate(*p.model);
    CHECK_THAT(load_error(bad.path, put_together(*p.model, p.data, k.place)), Catch::Contains(k.error));
  }
}

TEST_CASE("a shape vector at a misaligned address loads (no 8-byte load from it)", "[hostile]") {
  // Found by fuzzing: the FlatBuffers Verifier checks the alignment of a vector's length only, so
  // a [long] vector may start 4 bytes off an 8-byte boundary; reading it must not assume more.
  TempFile good("align-src.terra"), bad("align.terra");
  const ModelConfig c = test::tiny_config(false);
  REQUIRE(test::write_random_model(good.path, c).ok());
  Parts p = take_apart(test::read_file(good.path));
  // The table with the first tensor's shape built as 4-byte words, so it is only 4-byte aligned
  // (`pad` shifts it by 4 bytes).
  auto build = [&](bool pad, uint64_t data_offset) {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
    for (size_t i = 0; i < p.model->tensors.size(); ++i) {
      const fb::TensorT& t = *p.model->tensors[i];
      if (i != 0) {
        tensors.push_back(fb::CreateTensor(b, &t));
        continue;
      }
      auto name = b.CreateString(t.name);
      if (pad) b.PushElement<uint32_t>(0);
      b.StartVector(t.shape.size() * 2, sizeof(uint32_t));
      for (size_t d = t.shape.size(); d-- > 0;) {
        b.PushElement(uint32_t(uint64_t(t.shape[d]) >> 32));
        b.PushElement(uint32_t(uint64_t(t.shape[d])));
      }
      const flatbuffers::Offset<flatbuffers::Vector<int64_t>> shape(b.EndVector(t.shape.size()));
      tensors.push_back(fb::CreateTensor(b, name, t.dtype, t.layout, shape, t.offset, t.size, t.checksum));
    }
    const auto tv = b.CreateVector(tensors);
    const auto cfg = fb::CreateConfig(b, p.model->config.get());
    const auto tok = p.model->tokenizer ? fb::CreateTokenizer(b, p.model->tokenizer.get()) : 0;
    fb::FinishModelBuffer(b, fb::CreateModel(b, p.model->format_version, cfg, tok, tv, 0, data_offset,
                                             p.model->data_size));
    return std::vector<char>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  };
  bool misaligned = false;
  for (int pad = 0; pad < 2 && !misaligned; ++pad) {
    const uint64_t at = round_up(build(pad, 4096).size(), 4096);
    std::vector<char> file = build(pad, at);
    const auto* shape = fb::GetModel(file.data())->tensors()->Get(0)->shape();
    misaligned = (shape->Data() - reinterpret_cast<const uint8_t*>(file.data())) % 8 != 0;
    file.resize(at, 0);
    file.insert(file.end(), p.data.begin(), p.data.end());
    test::write_file(bad.path, file);
  }
  REQUIRE(misaligned);
  auto m = Model::load(bad.path);
  INFO(m.status().message());
  REQUIRE(m.ok());
  auto s = Session::create(*m.value(), {4, 1});
  REQUIRE(s.ok());
  CHECK(s.value()->step(0).ok());
}

TEST_CASE("session planning refuses an arena over the memory limit, naming both sizes", "[hostile]") {
  // Found by fuzzing: a small file with 1,024 layers made a default session ask for gigabytes,
  // zero-filled at creation. Tensors can no longer share bytes, so such a file is large; the
  // arena limit covers what remains (a long context on a deep model).
  TempFile f("deep.terra");
  ModelConfig c = test::tiny_config(false);
  c.n_decoder_layers = 1024;
  c.max_len = 4096;
  c.pos_encoding = PosEncoding::kNone;
  REQUIRE(test::write_random_model(f.path, c).ok());
  auto m = Model::load(f.path);
  REQUIRE(m.ok());
  SessionOptions o;
  o.max_memory = uint64_t(64) << 20;
  auto s = Session::create(*m.value(), o);  // default context: max_len, 4096 positions
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == ErrorCode::kOutOfMemory);
  CHECK_THAT(s.status().message(), Catch::Contains("the session needs 1028 MiB for a context of 4096 positions") &&
                                       Catch::Contains("more than its memory limit of 64 MiB"));
  o.max_context = 64;
  CHECK(Session::create(*m.value(), o).ok());
}

TEST_CASE("decoder positions stay inside a learned table after a short input", "[hostile]") {
  // Found by fuzzing: the session checked max(context - input, input) <= max_len, but a shorter
  // input left room for decoder positions past the learned table (a read past the mapped file).
  TempFile f("encdec-learned.terra");
  ModelConfig c = test::tiny_config(false);
  c.n_encoder_layers = 1;
  c.max_len = 16;
  c.pos_encoding = PosEncoding::kLearned;
  REQUIRE(test::write_random_model(f.path, c).ok());
  auto m = Model::load(f.path);
  REQUIRE(m.ok());
  auto created = Session::create(*m.value(), {32, 1, 16});
  REQUIRE(created.ok());
  Session& s = *created.value();
  const int input[] = {5, 6};
  REQUIRE(s.encode(input, 2).ok());
  std::vector<int> prompt(25, 7);
  Status st = s.prefill(prompt.data(), prompt.size());
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK_THAT(st.message(), Catch::Contains("decoder positions up to 24 exceed the model's learned position table of 16"));
  CHECK(s.position() == 2);
  REQUIRE(s.prefill(prompt.data(), 16).ok());  // decoder positions 0..15
  st = s.step(7);
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK_THAT(st.message(), Catch::Contains("decoder positions up to 16 exceed"));
}

TEST_CASE("a file truncated while loaded: a private copy keeps running, a renamed replacement is safe", "[hostile]") {
  TempFile copied_file("copied.terra"), mapped_file("mapped.terra"), next("next.terra");
  const ModelConfig c = test::tiny_config(true);
  REQUIRE(test::write_random_model(copied_file.path, c, 1).ok());
  REQUIRE(test::write_random_model(mapped_file.path, c, 1).ok());
  REQUIRE(test::write_random_model(next.path, c, 2).ok());

  LoadOptions copy;
  copy.copy = true;
  auto copied = Model::load(copied_file.path, copy);
  REQUIRE(copied.ok());
  CHECK(copied.value()->file().file_size() == test::read_file(mapped_file.path).size());
  auto mapped = Model::load(mapped_file.path);
  REQUIRE(mapped.ok());
  auto s1 = Session::create(*copied.value(), {8, 1});
  auto s2 = Session::create(*mapped.value(), {8, 1});
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  REQUIRE(s1.value()->step(3).ok());
  REQUIRE(s2.value()->step(3).ok());
  const std::vector<float> before(s1.value()->logits(), s1.value()->logits() + c.vocab_size);
  CHECK(std::memcmp(before.data(), s2.value()->logits(), before.size() * 4) == 0);

  // Truncating in place: a mapped model would die of SIGBUS at its next step; the copy runs on.
  { std::ofstream truncate(copied_file.path, std::ios::trunc); }
  s1.value()->reset();
  REQUIRE(s1.value()->step(3).ok());
  CHECK(std::memcmp(before.data(), s1.value()->logits(), before.size() * 4) == 0);

  // Replacing by rename: the mapping keeps the old file's pages (its inode lives on).
  REQUIRE(std::rename(next.path.c_str(), mapped_file.path.c_str()) == 0);
  s2.value()->reset();
  REQUIRE(s2.value()->step(3).ok());
  CHECK(std::memcmp(before.data(), s2.value()->logits(), before.size() * 4) == 0);
}
