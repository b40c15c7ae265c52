#pragma once

#include <cstdint>
#include <string>

#include "kernels/matmul.h"
#include "model/model.h"

namespace terra::cli {

struct BenchArgs {
  std::string model_path;
  int threads = 1;
  int prompt_len = 32;
  int input_len = 0;  // encoder-decoder models: input tokens (0: prompt_len)
  int gen_len = 64;
  int repeat = 5;
  int warmup = 1;  // untimed runs first: page faults of the mapped weights, caches, thread wake-up
  bool json = false;
  bool probe = true;  // measure the machine's read bandwidth for the ratio
  bool pin = false;   // pin threads to the fastest cores
  uint64_t max_memory = 0;  // session arena limit in bytes (0 = the default)
  MatmulEngine engine = MatmulEngine::kAuto;  // batched products: the prompt
  LoadOptions load;
};

// Decoding speed of a model (llama-bench / benchmark_model style): load, time to first token,
// prefill and decode tokens/s over repeats, weight bytes per token, effective vs measured
// bandwidth, peak RSS. Markdown by default, JSON on request.
int run_bench(const BenchArgs& args);

}  // namespace terra::cli
