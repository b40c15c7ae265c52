// Batch-1 matrix-vector products: terra's matvec (the run-time chosen kernel set) against
// XNNPACK's fully_connected_nc_f32, on shapes of the Table 1 models, with the weights of many
// layers cycled so they stream from memory as in decoding. Decides which one decoding uses; the
// measurement is kept in docs/perf/matvec-vs-xnnpack.md.
//   terra-matvec-bench [threads]
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernel_set.h"
#include "kernels/matvec.h"
#include "platform/platform.h"

using namespace terra;

namespace {

struct Shape {
  int in, out;
  const char* what;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  if (xnn_initialize(nullptr) != xnn_status_success) {
    std::fprintf(stderr, "XNNPACK does not initialize on this CPU\n");
    return 1;
  }
  ThreadPool pool(size_t(std::max(threads, 1)));
  // XNNPACK's operators take a pthreadpool (terra's own pool is not one).
  pthreadpool_t xnn_pool = threads > 1 ? pthreadpool_create(size_t(threads)) : nullptr;
  const Shape shapes[] = {{1024, 1024, "800M attention q/k/v/o"},
                          {1024, 4096, "800M FF in"},
                          {4096, 1024, "800M FF out"},
                          {1024, 32000, "800M loss"},
                          {9216, 9216, "17B attention"}};
  std::printf("| shape (in -> out) | what | threads | terra %s ms | XNNPACK ms | terra GB/s | XNNPACK GB/s |\n",
              kernels().name);
  std::printf("|---|---|---|---|---|---|---|\n");
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const Shape& s : shapes) {
    const size_t per = size_t(s.in) * size_t(s.out);
    const int copies = int(std::max<size_t>(2, (size_t(768) << 20) / (per * 4)));  // ~768 MB of weights
    std::vector<std::vector<float>> w(static_cast<size_t>(copies), std::vector<float>(per));
    for (auto& m : w) {
      for (size_t i = 0; i < per; i += 97) m[i] = normal(rng);  // touched; values need not be dense
    }
    std::vector<float> x(size_t(s.in) + 16, 0.5f), y(size_t(s.out) + 16), bias(size_t(s.out), 0.1f);
    std::vector<xnn_operator_t> ops(static_cast<size_t>(copies));
    for (int c = 0; c < copies; ++c) {
      if (xnn_create_fully_connected_nc_f32(size_t(s.in), size_t(s.out), size_t(s.in), size_t(s.out), w[size_t(c)].data(),
                                            bias.data(), -INFINITY, INFINITY, 0, &ops[size_t(c)]) !=
          xnn_status_success) {
        std::fprintf(stderr, "xnn_create_fully_connected_nc_f32 failed\n");
        return 1;
      }
    }
    // XNNPACK packed private copies: drop ours so both read the same amount of memory.
    std::vector<double> ours, theirs;
    for (int rep = 0; rep < 5; ++rep) {
      double t0 = platform::monotonic_seconds();
      for (int c = 0; c < copies; ++c) {
        xnn_setup_fully_connected_nc_f32(ops[size_t(c)], 1, x.data(), y.data(), xnn_pool);
        xnn_run_operator(ops[size_t(c)], xnn_pool);
      }
      theirs.push_back((platform::monotonic_seconds() - t0) / copies);
      t0 = platform::monotonic_seconds();
      for (int c = 0; c < copies; ++c) {
        MatrixRef m{w[size_t(c)].data(), DType::kF32, s.out, s.in};
        matvec(m, x.data(), bias.data(), y.data(), pool);
      }
      ours.push_back((platform::monotonic_seconds() - t0) / copies);
    }
    const double bytes = double(per) * 4;
    std::printf("| %d -> %d | %s | %d | %.3f | %.3f | %.1f | %.1f |\n", s.in, s.out, s.what, threads,
                median(ours) * 1e3, median(theirs) * 1e3, bytes / median(ours) / 1e9, bytes / median(theirs) / 1e9);
    for (xnn_operator_t op : ops) xnn_delete_operator(op);
  }
  xnn_deinitialize();
  if (xnn_pool) pthreadpool_destroy(xnn_pool);
  return 0;
}
