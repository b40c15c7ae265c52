// The platform layer on this OS: file mapping (whole files and ranges of a descriptor, as an
// Android app maps a model stored inside its APK), clocks, memory figures, CPUs and pinning.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "decoder/session.h"
#include "model/model.h"
#include "model_factory.h"
#include "platform/platform.h"
#include "test_util.h"

using namespace terra;

TEST_CASE("a model maps from a range of a larger file, as from an APK asset", "[platform]") {
  const std::string model_path = test::temp_path("plain.terra");
  REQUIRE(test::write_model(model_path, test::tiny_config(true), test::tiny_config(true)).ok());
  const std::vector<char> model_bytes = test::read_file(model_path);
  // The model at 8192 bytes into a "package", between other bytes.
  std::vector<char> package(8192 + model_bytes.size() + 1000, 'z');
  std::copy(model_bytes.begin(), model_bytes.end(), package.begin() + 8192);
  const std::string package_path = test::temp_path("package.bin");
  test::write_file(package_path, package);
  const int fd = ::open(package_path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);

  auto whole = Model::load(model_path);
  REQUIRE(whole.ok());
  auto mapped = platform::MappedFile::open_descriptor(fd, 8192, model_bytes.size(), "package.bin!model");
  REQUIRE(mapped.ok());
  auto inner = Model::load(mapped.take());
  REQUIRE(inner.ok());
  // Both give the same logits for the same tokens.
  auto a = Session::create(*whole.value(), {});
  auto b = Session::create(*inner.value(), {});
  REQUIRE((a.ok() && b.ok()));
  REQUIRE(a.value()->step(5).ok());
  REQUIRE(b.value()->step(5).ok());
  for (int i = 0; i < a.value()->vocab_size(); ++i) CHECK(a.value()->logits()[i] == b.value()->logits()[i]);

  SECTION("an offset that breaks the 64-byte alignment is refused by name") {
    auto odd = platform::MappedFile::open_descriptor(fd, 8192 - 4, model_bytes.size(), "package.bin!odd");
    REQUIRE(odd.ok());
    auto model = Model::load(odd.take());
    REQUIRE_FALSE(model.ok());
    CHECK_THAT(model.status().message(), Catch::Contains("package.bin!odd") && Catch::Contains("multiple of 64"));
  }
  SECTION("a range past the end of the file is refused") {
    auto past = platform::MappedFile::open_descriptor(fd, 8192, package.size(), "package.bin!past");
    REQUIRE_FALSE(past.ok());
    CHECK_THAT(past.status().message(), Catch::Contains("outside the file"));
  }
  SECTION("a closed descriptor is refused") {
    auto bad = platform::MappedFile::open_descriptor(-1, 0, 16, "nothing");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.status().message(), Catch::Contains("nothing: not an open file"));
  }
  ::close(fd);
  std::remove(model_path.c_str());
  std::remove(package_path.c_str());
}

TEST_CASE("clocks, memory and CPUs as the OS reports them", "[platform]") {
  const double t0 = platform::monotonic_seconds();
  std::vector<char> touched(8 << 20, 1);  // 8 MiB resident
  CHECK(platform::monotonic_seconds() >= t0);
  CHECK(platform::peak_rss_bytes() >= touched.size());

  const size_t cpus = platform::cpu_count();
  CHECK(cpus >= 1);
  const std::vector<int> fast = platform::performance_cpus();
  CHECK(fast.size() == cpus);
  CHECK(std::set<int>(fast.begin(), fast.end()).size() == fast.size());
  CHECK(platform::pin_current_thread(fast.front()));
  CHECK_FALSE(platform::pin_current_thread(-1));
}

TEST_CASE("a session pins its threads when asked", "[platform]") {
  const std::string path = test::temp_path("pin.terra");
  REQUIRE(test::write_model(path, test::tiny_config(false), test::tiny_config(false)).ok());
  auto model = Model::load(path);
  REQUIRE(model.ok());
  SessionOptions options;
  options.threads = 2;
  options.pin_threads = true;
  // One thread per processor this thread may run on (an earlier case may have pinned it to one):
  // a second thread on the same processor is left unpinned.
  const size_t cpus = platform::performance_cpus().size();
  auto session = Session::create(*model.value(), options);
  REQUIRE(session.ok());
  CHECK(session.value()->pinned_threads() == std::min(session.value()->threads(), cpus));
  REQUIRE(session.value()->step(1).ok());
  std::remove(path.c_str());
}
