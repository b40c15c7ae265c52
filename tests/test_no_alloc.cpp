// The decode loop allocates nothing: every malloc-family call in this process is counted, and
// step(), prefill(), encode() and sampling must leave the count unchanged (all memory is planned
// in Session::create).
#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "api/terra.h"
#include "decoder/session.h"
#include "model_factory.h"
#include "sampler/sampler.h"

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_trace{false};  // TERRA_TRACE_ALLOC=1: print where a counted allocation came from
void count() {
  ++g_allocations;
  static thread_local bool inside = false;  // backtrace() may allocate on its first call
  if (g_trace.load() && !inside) {
    inside = true;
    void* frames[16];
    const int n = backtrace(frames, 16);
    backtrace_symbols_fd(frames, n, 2);
    (void)!write(2, "--\n", 3);
    inside = false;
  }
}
}

// Every allocation in this process goes through malloc and friends (operator new included),
// so interposing glibc's entry points counts them all.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  count();
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}

using namespace terra;

TEST_CASE("step, prefill and sampling allocate nothing", "[alloc]") {
  const bool sparse = GENERATE(false, true);
  const int threads = GENERATE(1, 2);
  // The prompt's batched products on either engine (XNNPACK's memory comes from the session's).
  const MatmulEngine engine = GENERATE(MatmulEngine::kNative, MatmulEngine::kXnnpack);
  INFO("sparse " << sparse << ", threads " << threads << ", engine " << engine_name(engine));
  const std::string path = test::temp_path(sparse ? "alloc-sparse.terra" : "alloc-dense.terra");
  REQUIRE(test::write_random_model(path, test::tiny_config(sparse)).ok());
  auto model = Model::load(path);
  REQUIRE(model.ok());
  SessionOptions options{64, threads};
  options.engine = engine;
  auto session = Session::create(*model.value(), options);
  REQUIRE(session.ok());
  auto sampler = Sampler::create(260, {0.9f, 20, 0.9f, 3});
  REQUIRE(sampler.ok());
  Session& s = *session.value();
  // 20 tokens: a block of queries takes attention's head path (16 or more), chunks of positions
  // the sparse layers' batched paths.
  const int prompt[] = {0, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 44, 32, 104, 101, 108, 108, 111, 33};

  const long before = g_allocations.load();
  const uint64_t slices_before = xnnpack_slices_run();
  g_trace = std::getenv("TERRA_TRACE_ALLOC") != nullptr;
  REQUIRE(s.prefill(prompt, 20).ok());
  for (int i = 0; i < 40; ++i) {
    const int token = sampler.value()->sample(s.logits());
    REQUIRE(s.step(token).ok());
  }
  s.reset();
  REQUIRE(s.prefill(prompt, 20).ok());
  const long after = g_allocations.load();
  g_trace = false;
  CHECK(after - before == 0);
  // The dense model's prompt really went through XNNPACK (when this CPU runs it).
  if (!sparse && engine == MatmulEngine::kXnnpack && xnnpack_ready()) CHECK(xnnpack_slices_run() > slices_before);
  std::remove(path.c_str());
}

TEST_CASE("the allocation counter does count", "[alloc]") {
  const long before = g_allocations.load();
  std::vector<int>* volatile v = new std::vector<int>(100);  // volatile: the pair cannot be elided
  delete v;
  void* p = nullptr;
  CHECK(posix_memalign(&p, 64, 100) == 0);
  free(p);
  CHECK(g_allocations.load() - before == 3);
}

namespace {
// Allocations made by two rounds of encode, prefill and `steps` sampled steps in a session of a
// random encoder-decoder model of config `c` (writing, loading and planning not counted).
long encdec_allocations(const ModelConfig& c, int threads, const std::vector<int>& input, const std::vector<int>& prompt,
                        int steps) {
  const std::string path = test::temp_path("alloc-encdec.terra");
  REQUIRE(test::write_random_model(path, c).ok());
  auto model = Model::load(path);
  INFO(model.status().message());
  REQUIRE(model.ok());
  auto session = Session::create(*model.value(), {40, threads, int(input.size())});
  REQUIRE(session.ok());
  auto sampler = Sampler::create(c.vocab_size, {0.9f, 20, 0.9f, 3});
  REQUIRE(sampler.ok());
  Session& s = *session.value();
  const long before = g_allocations.load();
  for (int round = 0; round < 2; ++round) {
    REQUIRE(s.encode(input.data(), input.size()).ok());
    REQUIRE(s.prefill(prompt.data(), prompt.size()).ok());
    for (int i = 0; i < steps; ++i) REQUIRE(s.step(sampler.value()->sample(s.logits())).ok());
  }
  const long made = g_allocations.load() - before;
  std::remove(path.c_str());
  return made;
}
}  // namespace

TEST_CASE("encode and decoding with every sparse option allocate nothing", "[alloc]") {
  ModelConfig c = test::tiny_config(true);
  c.n_encoder_layers = 2;
  c.decoder_attention_types = {AttentionType::kMultConv, AttentionType::kDense};
  c.qkv_sparsity = 4;
  c.loss_sparsity = 4;
  c.sru_layers = 1;
  c.sru_width = 8;
  const int threads = GENERATE(1, 2);
  CHECK(encdec_allocations(c, threads, {72, 101, 108, 108, 111, 33},
                           {0, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 44, 32, 104, 101, 108, 33}, 10) == 0);
}

TEST_CASE("LSH encoding and decoding allocate nothing, with fixed or derived bucket counts", "[alloc]") {
  ModelConfig c = test::tiny_config(true);
  c.n_encoder_layers = 1;
  c.encoder_attention_type = AttentionType::kLSH;
  c.decoder_attention_types = {AttentionType::kLSH, AttentionType::kDense};
  c.lsh_chunk_len = 2;
  c.lsh_n_hashes = 2;
  c.lsh_n_chunks_before = 1;
  c.lsh_n_chunks_after = 1;
  c.lsh_predict_mem_len = 12;  // rolled by 4 while decoding
  c.lsh_predict_drop_len = 4;
  c.lsh_bias = true;
  c.lsh_n_buckets = GENERATE(4, 0);  // 0: derived from each call's length, rotations drawn per call
  const int threads = GENERATE(1, 2);
  CHECK(encdec_allocations(c, threads, {72, 101, 108, 108, 111, 33, 32, 119, 111, 114}, {0, 72, 101, 108, 108, 111}, 20) ==
        0);
}

namespace {
struct TokenAllocations {
  long at[64] = {};
  int count = 0;
};
int record(void* user, int32_t, const char*, size_t) {
  auto* r = static_cast<TokenAllocations*>(user);
  if (r->count < 64) r->at[r->count] = g_allocations.load();
  ++r->count;
  return 0;
}
}  // namespace

TEST_CASE("the C API's generation loop allocates nothing per token", "[alloc]") {
  const std::string path = test::temp_path("alloc-capi.terra");
  REQUIRE(test::write_random_model(path, test::tiny_config(true)).ok());
  terra_model* model = nullptr;
  REQUIRE(terra_model_load(path.c_str(), &model) == TERRA_OK);
  terra_session_options so = terra_session_default_options();
  so.threads = GENERATE(1, 2);
  so.max_context = 60;
  terra_session* session = nullptr;
  const long before_create = g_allocations.load();
  REQUIRE(terra_session_create(model, &so, &session) == TERRA_OK);
  CHECK(g_allocations.load() > before_create);  // the counter sees libterra.so's allocations
  terra_generate_options go = terra_generate_default_options();
  go.max_tokens = 48;
  go.stop_at_end = 0;
  TokenAllocations r;
  REQUIRE(terra_generate(session, "Hello", &go, record, &r, nullptr) == TERRA_OK);
  REQUIRE(r.count == 48);
  // Setting up a call (tokenizing the prompt, the sampler) may allocate; from the first token
  // to the last, nothing does.
  CHECK(r.at[47] - r.at[0] == 0);
  terra_session_free(session);
  terra_model_free(model);
  std::remove(path.c_str());
}
