// Threads: the pool covers every index exactly once (also with more threads than cores), one Model serves sessions on several
// threads at once (each with its own pool) and they compute what a lone session computes, and
// a session may move between threads. Run natively and under ThreadSanitizer (scripts/test.sh).
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "decoder/session.h"
#include "model_factory.h"

using namespace terra;

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  std::vector<int> plain;  // written without atomics: each index by one task only
  explicit Counts(size_t n) : hits(n), plain(n, 0) {}
};

void count_range(void* p, size_t begin, size_t end) {
  auto* c = static_cast<Counts*>(p);
  for (size_t i = begin; i < end; ++i) {
    c->hits[i].fetch_add(1, std::memory_order_relaxed);
    c->plain[i] += int(i);
  }
}

// The logits of a fixed token sequence, one step at a time; empty on an error. (No Catch2
// assertions here: it runs on worker threads, and Catch2 is not thread-safe.)
std::vector<float> run(const Model& model, int threads, int tokens) {
  SessionOptions o;
  o.max_context = tokens;
  o.threads = threads;
  auto s = Session::create(model, o);
  if (!s.ok()) return {};
  std::vector<float> all;
  for (int t = 0; t < tokens; ++t) {
    if (!s.value()->step((t * 37 + 11) % model.config().vocab_size).ok()) return {};
    all.insert(all.end(), s.value()->logits(), s.value()->logits() + model.config().vocab_size);
  }
  return all;
}

}  // namespace

TEST_CASE("the pool runs every index once, over many dispatches, and its writes are seen after", "[threads]") {
  for (size_t threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (size_t n : {size_t(1), size_t(7), size_t(64), size_t(1000)}) {
      Counts c(n);
      for (int round = 0; round < 50; ++round) pool.parallel_for(n, 3, count_range, &c);
      for (size_t i = 0; i < n; ++i) {
        INFO("threads " << threads << ", n " << n << ", index " << i);
        REQUIRE(c.hits[i].load() == 50);
        REQUIRE(c.plain[i] == 50 * int(i));
      }
    }
  }
}

TEST_CASE("more tiles than the pool's counter holds are run as fewer, larger tiles", "[threads]") {
  ThreadPool pool(2);
  const size_t n = (size_t(1) << 22) + 12345;  // tile 1 would need more than 2^22 - 1 tiles
  Counts c(n);
  pool.parallel_for(n, 1, count_range, &c);
  size_t wrong = 0;
  for (size_t i = 0; i < n; ++i) wrong += c.hits[i].load() != 1 || c.plain[i] != int(i);
  CHECK(wrong == 0);
}

TEST_CASE("more pool threads than cores: every dispatch completes with each index once", "[threads]") {
  // Workers preempted mid-tile, asleep or never woken: the caller takes what is left and waits
  // only for tiles that were taken.
  ThreadPool a(6), b(6);
  Counts ca(97), cb(97);
  std::thread other([&] {
    for (int round = 0; round < 2000; ++round) b.parallel_for(97, 1, count_range, &cb);
  });
  for (int round = 0; round < 2000; ++round) a.parallel_for(97, 1, count_range, &ca);
  other.join();
  for (size_t i = 0; i < 97; ++i) {
    INFO("index " << i);
    REQUIRE(ca.hits[i].load() == 2000);
    REQUIRE(cb.plain[i] == 2000 * int(i));
  }
}

TEST_CASE("one model, sessions on four threads at once, each as if alone", "[threads]") {
  const std::string path = test::temp_path("threads.terra");
  ModelConfig c = test::tiny_config(true);
  c.sru_layers = 1;
  c.sru_width = 8;
  REQUIRE(test::write_random_model(path, c).ok());
  auto m = Model::load(path);
  REQUIRE(m.ok());
  const Model& model = *m.value();
  const std::vector<float> alone1 = run(model, 1, 24), alone2 = run(model, 2, 24);
  REQUIRE(alone1.size() == size_t(24 * c.vocab_size));
  REQUIRE(alone2.size() == alone1.size());
  std::vector<std::vector<float>> together(4);
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&, i] { together[size_t(i)] = run(model, 1 + i % 2, 24); });
  }
  for (std::thread& t : workers) t.join();
  for (int i = 0; i < 4; ++i) {
    INFO("thread " << i);
    const std::vector<float>& want = i % 2 ? alone2 : alone1;
    REQUIRE(together[size_t(i)].size() == want.size());
    CHECK(std::memcmp(together[size_t(i)].data(), want.data(), want.size() * sizeof(float)) == 0);
  }
  std::remove(path.c_str());
}

TEST_CASE("a session created on one thread runs on another", "[threads]") {
  const std::string path = test::temp_path("handoff.terra");
  REQUIRE(test::write_random_model(path, test::tiny_config(false)).ok());
  auto m = Model::load(path);
  REQUIRE(m.ok());
  const std::vector<float> want = run(*m.value(), 2, 8);
  SessionOptions o;
  o.max_context = 8;
  o.threads = 2;
  auto s = Session::create(*m.value(), o);
  REQUIRE(s.ok());
  std::vector<float> got;
  for (int t = 0; t < 8; ++t) {
    std::thread([&] {
      if (s.value()->step((t * 37 + 11) % m.value()->config().vocab_size).ok()) {
        got.insert(got.end(), s.value()->logits(), s.value()->logits() + m.value()->config().vocab_size);
      }
    }).join();
  }
  REQUIRE(got.size() == want.size());
  CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
  std::remove(path.c_str());
}
