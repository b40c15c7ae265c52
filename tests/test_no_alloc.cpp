// The decode loop allocates nothing: every malloc-family call in this process is counted, and
// step(), prefill(), encode() and sampling must leave the count unchanged (all memory is planned
// in Session::create).
#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>

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
  const std::string path = test::temp_path(sparse ? "alloc-sparse.terra" : "alloc-dense.terra");
  REQUIRE(test::write_random_model(path, test::tiny_config(sparse)).ok());
  auto model = Model::load(path);
  REQUIRE(model.ok());
  auto session = Session::create(*model.value(), {48, threads});
  REQUIRE(session.ok());
  auto sampler = Sampler::create(260, {0.9f, 20, 0.9f, 3});
  REQUIRE(sampler.ok());
  Session& s = *session.value();
  const int prompt[] = {0, 72, 101, 108, 108, 111};

  const long before = g_allocations.load();
  g_trace = std::getenv("TERRA_TRACE_ALLOC") != nullptr;
  REQUIRE(s.prefill(prompt, 6).ok());
  for (int i = 0; i < 40; ++i) {
    const int token = sampler.value()->sample(s.logits());
    REQUIRE(s.step(token).ok());
  }
  s.reset();
  REQUIRE(s.prefill(prompt, 6).ok());
  const long after = g_allocations.load();
  g_trace = false;
  CHECK(after - before == 0);
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

TEST_CASE("encode and decoding with every sparse option allocate nothing", "[alloc]") {
  ModelConfig c = test::tiny_config(true);
  c.n_encoder_layers = 2;
  c.decoder_attention_types = {AttentionType::kMultConv, AttentionType::kDense};
  c.qkv_sparsity = 4;
  c.loss_sparsity = 4;
  c.sru_layers = 1;
  c.sru_width = 8;
  const int threads = GENERATE(1, 2);
  const std::string path = test::temp_path("alloc-encdec.terra");
  REQUIRE(test::write_random_model(path, c).ok());
  auto model = Model::load(path);
  INFO(model.status().message());
  REQUIRE(model.ok());
  auto session = Session::create(*model.value(), {40, threads, 10});
  REQUIRE(session.ok());
  auto sampler = Sampler::create(c.vocab_size, {0.9f, 20, 0.9f, 3});
  REQUIRE(sampler.ok());
  Session& s = *session.value();
  const int input[] = {72, 101, 108, 108, 111, 33};
  const int prompt[] = {0, 72};

  const long before = g_allocations.load();
  for (int round = 0; round < 2; ++round) {
    REQUIRE(s.encode(input, 6).ok());
    REQUIRE(s.prefill(prompt, 2).ok());
    for (int i = 0; i < 20; ++i) REQUIRE(s.step(sampler.value()->sample(s.logits())).ok());
  }
  CHECK(g_allocations.load() - before == 0);
  std::remove(path.c_str());
}
