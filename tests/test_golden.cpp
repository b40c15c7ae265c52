// The runtime against the PyTorch reference (models/reference, float64) on many configs: logits
// at every position of a 64-token sequence decoded token by token, the sparse FF's chosen units,
// and the state carried across decode steps (prefill + steps, reset) giving the same numbers.
// Encoder–decoder configs first encode a 24-token input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>

#include "decoder/session.h"
#include "kernels/vector_ops.h"
#include "safetensors.h"
#include "test_util.h"

using namespace terra;

namespace {

struct Golden {
  std::vector<int32_t> input;   // encoder input; empty for decoder-only models
  std::vector<int32_t> tokens;  // decoder tokens, tokens[0] = start id
  std::unique_ptr<SafetensorsFile> file;
  std::unique_ptr<SafetensorsFile> quant;  // golden_quant.safetensors: the int8 / int4 files' own weights
  const SafetensorsFile& holder(const std::string& key) const {
    return file->find(key) == nullptr && quant ? *quant : *file;
  }
  std::vector<float> logits(const std::string& key) const { return holder(key).read_f32(key).take(); }
  // Reference units of decoder layer L at decoder-stack position p (input positions first), [B].
  std::vector<int32_t> units(const std::string& prefix, int L) const {
    return holder(prefix + std::to_string(L)).read_i32(prefix + std::to_string(L)).take();
  }
};

Golden load_golden(const std::string& name) {
  Golden g;
  auto f = SafetensorsFile::open(test::golden_dir() + "/" + name + "/golden.safetensors");
  REQUIRE(f.ok());
  g.file = f.take();
  g.tokens = g.file->read_i32("tokens").take();
  if (g.file->find("input_tokens")) g.input = g.file->read_i32("input_tokens").take();
  auto q = SafetensorsFile::open(test::golden_dir() + "/" + name + "/golden_quant.safetensors");
  if (q.ok()) g.quant = q.take();
  return g;
}

std::unique_ptr<Model> load_model(const std::string& file) {
  auto m = Model::load(test::golden_dir() + "/" + file);
  INFO(m.status().message());
  REQUIRE(m.ok());
  return m.take();
}

// Largest |runtime - reference| at one position, relative to max(1, largest |reference logit|).
double position_error(const float* got, const float* want, int V) {
  double err = 0, scale = 1;
  for (int v = 0; v < V; ++v) {
    err = std::max(err, double(std::fabs(got[v] - want[v])));
    scale = std::max(scale, double(std::fabs(want[v])));
  }
  return err / scale;
}

// issue 2's decoder-only models, then every option of the whole Terraformer alone and together.
// sparse_wide_smallbases: d = 128 splits the sparse FF output over threads; bases 2, 3, 5 use
// every fixed-base digit within 64 positions. mixed_attention uses kernels of 5 modules x 2 rows;
// multconv_s6_odd has 6 modules of 5 channels (a partial block of modules and an odd output row in
// attention_multconv.cpp's conv_block). lsh_bias: LSH with biases (trax PureLSHSelfAttentionWrapper)
// beside a mult-conv layer, its memory of 12 rolling by 4.
const char* kConfigs[] = {"dense_fixedbase",  "sparse_n4_rms",    "sparse_n32_learned", "sparse_lowrank_nopos",
                          "sparse_wide_smallbases", "multconv_only", "multconv_s1", "sparse_loss_only",
                          "sru_only",         "all_sparse_lm",    "mixed_attention",    "encdec_c4_small",
                          "encdec_plain",     "residual_scaling", "reformer_concat",    "encdec_trax_options",
                          "multconv_s6_odd",  "lsh_encdec",       "lsh_decoder",        "lsh_long_first",
                          "lsh_factored",     "lsh_bias"};
// f32 arithmetic in the runtime vs the float64 reference on the same stored weights; reached
// below 1e-6, so 1e-5 leaves a margin without hiding a real error.
constexpr double kF32Tolerance = 1e-5;
// int8/int4 rows against activations rounded to 8 bits per block of 32 (kernels/vector_ops.h):
// each element moves by at most half a step, 1/254 of its block's largest magnitude, so a
// product moves by under 0.4% of sum |w_i| * max|x| per block; through a few layers this
// measured 0.9-1.8e-2 of the largest logit on these configs, and 5e-2 allows for the layers
// compounding it while still failing a wrong block scale or a lost block (errors of order 1).
constexpr double kIntegerActivationTolerance = 5e-2;

struct Run {
  double worst = 0;
  int positions = 0;  // positions compared
  int length = 0;     // positions in the golden sequence
  bool sparse_ff = false;
};

// What a sparse FF choosing another unit than the reference means for decode_and_compare.
enum class OnUnitFlip {
  kFail,  // exact paths: the choices must match
  // Paths that round activations may flip a near-tie in a random tiny model's controller, after
  // which the sequences legitimately part: logits are compared up to the first flip.
  kStopComparing,
};

// Decodes the golden sequence token by token and checks every position's logits and units.
// tolerance: the largest relative logit error allowed.
Run decode_and_compare(const std::string& name, const std::string& file, int threads, const std::string& logits_key,
                       const std::string& units_prefix, double tolerance = kF32Tolerance,
                       OnUnitFlip on_flip = OnUnitFlip::kFail) {
  INFO("config " << name << " (" << file << "), threads " << threads);
  Golden g = load_golden(name);
  auto model = load_model(file);
  const ModelConfig& c = model->config();
  const int V = c.output_vocab(), T = int(g.tokens.size()), Ti = int(g.input.size());
  const std::vector<float> want = g.logits(logits_key);
  REQUIRE(want.size() == size_t(T) * size_t(V));
  auto session = Session::create(*model, {Ti + T, threads, Ti});
  REQUIRE(session.ok());
  Session& s = *session.value();
  if (c.n_encoder_layers > 0) REQUIRE(s.encode(g.input.data(), g.input.size()).ok());

  const int B = c.ff_blocks();
  std::vector<std::vector<int32_t>> units;
  for (int L = 0; B > 0 && L < c.n_decoder_layers; ++L) units.push_back(g.units(units_prefix, L));

  Run run;
  run.length = T;
  run.sparse_ff = B > 0;
  for (int t = 0; t < T; ++t) {
    INFO("position " << t);
    REQUIRE(s.step(g.tokens[size_t(t)]).ok());
    bool flipped = false;
    for (size_t L = 0; L < units.size(); ++L) {
      REQUIRE(units[L].size() == size_t(Ti + T) * size_t(B));
      const int32_t* got = s.selected_units(int(L));
      for (int i = 0; i < B; ++i) {
        INFO("layer " << L << " block " << i);
        const bool same = got[i] == units[L][size_t(Ti + t) * size_t(B) + size_t(i)];
        if (on_flip == OnUnitFlip::kFail) REQUIRE(same);
        flipped = flipped || !same;
      }
    }
    if (flipped) break;
    const double err = position_error(s.logits(), &want[size_t(t) * size_t(V)], V);
    REQUIRE(err <= tolerance);
    run.worst = std::max(run.worst, err);
    run.positions = t + 1;
  }
  return run;
}

}  // namespace

TEST_CASE("decoding matches the reference at every position", "[golden]") {
  const std::string name = GENERATE(from_range(std::begin(kConfigs), std::end(kConfigs)));
  const int threads = GENERATE(1, 2);
  const Run r = decode_and_compare(name, name + ".terra", threads, "logits", "ff_units.");
  std::printf("golden %-22s threads %d: max relative logit error %.2e (tolerance %.0e) over %d positions\n",
              name.c_str(), threads, r.worst, kF32Tolerance, r.positions);
}

TEST_CASE("f16 weights match the reference run with the same f16-rounded weights", "[golden]") {
  // f16 changes the model (a controller may pick another unit), so the truth here is the
  // reference evaluated with exactly the weights the f16 file holds.
  const std::string name = GENERATE(from_range(std::begin(kConfigs), std::end(kConfigs)));
  const Run r = decode_and_compare(name, name + ".f16.terra", 2, "logits_f16w", "ff_units_f16w.");
  std::printf("golden %-22s f16: max relative logit error %.2e vs the f16-weight reference\n", name.c_str(), r.worst);
}

// Sets the process-wide activation path for one test and restores it when the test ends.
struct UseActivations {
  explicit UseActivations(ActivationPath path) : saved(activation_path()) { set_activation_path(path); }
  ~UseActivations() { set_activation_path(saved); }
  ActivationPath saved;
};

TEST_CASE("int8 and int4 weights match the reference run with the weights the file holds", "[golden]") {
  // The reference reads the quantized file's bytes itself (models/reference/terra_file.py), so
  // this checks the kernels on quantized rows with the f32 tolerance (float activations; the
  // integer path is the next test); quantization's own cost is measured by perplexity (README).
  const UseActivations path(ActivationPath::kFloat);
  const std::string name = GENERATE(from_range(std::begin(kConfigs), std::end(kConfigs)));
  const std::string tag = GENERATE(as<std::string>(), "int8", "int4");
  const int threads = GENERATE(1, 2);
  const Run r = decode_and_compare(name, name + "." + tag + ".terra", threads, "logits_" + tag, "ff_units_" + tag + ".");
  std::printf("golden %-22s %s threads %d: max relative logit error %.2e vs the reference on the file's weights\n",
              name.c_str(), tag.c_str(), threads, r.worst);
}

TEST_CASE("int8 and int4 weights with integer activations stay within the stated bound", "[golden]") {
  // Against the same reference as above (float activations on the file's weights): what rounding
  // the activations costs, position by position, with the state carried across steps.
  const UseActivations path(ActivationPath::kInteger);
  const std::string name = GENERATE(from_range(std::begin(kConfigs), std::end(kConfigs)));
  // LSH configs are left out: rounding the activations upstream moves an LSH layer's input, which
  // flips near-tie bucket choices of these random tiny models (seen in lsh_encdec's int4 file at
  // memory rows 4 and 9, which put the logits 6% off at position 28), and the runtime does not
  // expose its buckets to stop at the flip as the sparse FF's units allow. Their int8/int4 files
  // are checked with float activations above.
  if (name.rfind("lsh_", 0) == 0) return;
  const std::string tag = GENERATE(as<std::string>(), "int8", "int4");
  const int threads = GENERATE(1, 2);
  const Run r = decode_and_compare(name, name + "." + tag + ".terra", threads, "logits_" + tag, "ff_units_" + tag + ".",
                                   kIntegerActivationTolerance, OnUnitFlip::kStopComparing);
  // Configs without a sparse FF compare every position; with one, up to the first flip (random
  // tiny controllers flip within a few positions; the shipped trained model's perplexity through
  // this path is checked by tests/python/check_activation_paths.py).
  if (!r.sparse_ff) CHECK(r.positions == r.length);
  std::printf("golden %-22s %s threads %d, integer activations: max relative logit error %.2e over %d positions\n",
              name.c_str(), tag.c_str(), threads, r.worst, r.positions);
}

TEST_CASE("prefill then steps equals the full-sequence evaluation and reset starts over", "[golden]") {
  const std::string name = GENERATE(from_range(std::begin(kConfigs), std::end(kConfigs)));
  const int threads = GENERATE(1, 2);
  // Each file against the reference on its own weights (the decoding tests above say why), with
  // float activations: prefill and the steps after it both exact.
  const std::string tag = GENERATE(as<std::string>(), "", "f16", "int8", "int4");
  const UseActivations path(ActivationPath::kFloat);
  INFO("config " << name << " " << tag << ", threads " << threads);
  Golden g = load_golden(name);
  auto model = load_model(name + (tag.empty() ? "" : "." + tag) + ".terra");
  const ModelConfig& c = model->config();
  const int V = c.output_vocab(), T = int(g.tokens.size()), Ti = int(g.input.size()), B = c.ff_blocks();
  const std::string suffix = tag.empty() ? "" : tag == "f16" ? "_f16w" : "_" + tag;
  const std::vector<float> want = g.logits("logits" + suffix);
  auto session = Session::create(*model, {Ti + T, threads, Ti});
  REQUIRE(session.ok());
  Session& s = *session.value();
  for (int round = 0; round < 2; ++round) {  // the second round checks that state is cleared
    if (Ti > 0) {
      REQUIRE(s.encode(g.input.data(), g.input.size()).ok());  // encode() starts a new sequence
      REQUIRE(s.input_length() == Ti);
    }
    const int split = 37;
    REQUIRE(s.prefill(g.tokens.data(), size_t(split)).ok());
    REQUIRE(s.position() == Ti + split);
    CHECK(position_error(s.logits(), &want[size_t(split - 1) * size_t(V)], V) <= kF32Tolerance);
    for (int L = 0; B > 0 && L < c.n_decoder_layers; ++L) {  // the sparse FF's choice at the prompt's end
      const std::vector<int32_t> units = g.units("ff_units" + suffix + ".", L);
      for (int i = 0; i < B; ++i) {
        INFO("layer " << L << " block " << i);
        CHECK(s.selected_units(L)[i] == units[size_t(Ti + split - 1) * size_t(B) + size_t(i)]);
      }
    }
    for (int t = split; t < T; ++t) {
      REQUIRE(s.step(g.tokens[size_t(t)]).ok());
      REQUIRE(position_error(s.logits(), &want[size_t(t) * size_t(V)], V) <= kF32Tolerance);
    }
    s.reset();
  }
}

TEST_CASE("scoring every position matches the reference's negative log-likelihoods", "[golden]") {
  // Session::score (perplexity) runs the loss layer on blocks of positions; the reference's logits
  // at each position give the expected -log p(next token).
  const std::string name = GENERATE(from_range(std::begin(kConfigs), std::end(kConfigs)));
  const int threads = GENERATE(1, 2);
  const std::string tag = GENERATE(as<std::string>(), "", "int8");
  const UseActivations path(ActivationPath::kFloat);
  INFO("config " << name << " " << tag << ", threads " << threads);
  Golden g = load_golden(name);
  auto model = load_model(name + (tag.empty() ? "" : "." + tag) + ".terra");
  const int V = model->config().output_vocab(), T = int(g.tokens.size()), Ti = int(g.input.size());
  const std::vector<float> want = g.logits(tag.empty() ? "logits" : "logits_" + tag);
  SessionOptions options{Ti + T, threads, Ti};
  options.scoring = true;
  auto session = Session::create(*model, options);
  REQUIRE(session.ok());
  Session& s = *session.value();
  if (Ti > 0) REQUIRE(s.encode(g.input.data(), g.input.size()).ok());
  double expected = 0;
  for (int t = 0; t + 1 < T; ++t) expected += neg_log_softmax(&want[size_t(t) * size_t(V)], size_t(V), size_t(g.tokens[size_t(t) + 1]));
  double got = 0;
  REQUIRE(s.score(g.tokens.data(), g.tokens.data() + 1, size_t(T - 1), &got).ok());
  // Logits within 1e-5 relative (the decoding tests) move each position's NLL by well under 1e-4.
  CHECK(std::fabs(got - expected) <= 1e-4 * (T - 1));
  REQUIRE(s.position() == Ti + T - 1);
  CHECK(position_error(s.logits(), &want[size_t(T - 2) * size_t(V)], V) <= kF32Tolerance);
}

TEST_CASE("score needs a session planned for it", "[golden]") {
  auto model = load_model("dense_fixedbase.terra");
  auto session = Session::create(*model, {32, 1});
  REQUIRE(session.ok());
  const int tokens[] = {1, 2, 3};
  double nll = 0;
  const Status st = session.value()->score(tokens, tokens + 1, 2, &nll);
  CHECK(st.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("scoring = true"));
}

TEST_CASE("an LSH memory longer than the session's context is planned at the context's length", "[golden]") {
  // lsh_encdec's decoder memory is 32 rows; a session of 24 input + 6 decoder positions never fills
  // it, so it stores 31 rows, with the same logits.
  Golden g = load_golden("lsh_encdec");
  auto model = load_model("lsh_encdec.terra");
  const int V = model->config().output_vocab(), Ti = int(g.input.size()), T = 6;
  REQUIRE(Ti + T + 1 < model->config().lsh_predict_mem_len);
  const std::vector<float> want = g.logits("logits");
  auto small = Session::create(*model, {Ti + T, 1, Ti});
  auto full = Session::create(*model, {Ti + 40, 1, Ti});
  REQUIRE(small.ok());
  REQUIRE(full.ok());
  CHECK(small.value()->arena_bytes() < full.value()->arena_bytes());
  Session& s = *small.value();
  REQUIRE(s.encode(g.input.data(), g.input.size()).ok());
  for (int t = 0; t < T; ++t) {
    REQUIRE(s.step(g.tokens[size_t(t)]).ok());
    CHECK(position_error(s.logits(), &want[size_t(t) * size_t(V)], V) <= kF32Tolerance);
  }
}
