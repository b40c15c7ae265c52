// The decode loop allocates nothing: every operator new in this binary is counted, and step()
// and prefill() must leave the count unchanged (all memory is planned in Session::create).
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "decoder/session.h"
#include "model_factory.h"
#include "sampler/sampler.h"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

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
  REQUIRE(s.prefill(prompt, 6).ok());
  for (int i = 0; i < 40; ++i) {
    const int token = sampler.value()->sample(s.logits());
    REQUIRE(s.step(token).ok());
  }
  s.reset();
  REQUIRE(s.prefill(prompt, 6).ok());
  const long after = g_allocations.load();
  CHECK(after - before == 0);
  std::remove(path.c_str());
}

TEST_CASE("the allocation counter does count", "[alloc]") {
  const long before = g_allocations.load();
  auto* v = new std::vector<int>(100);
  delete v;
  CHECK(g_allocations.load() - before == 2);
}
