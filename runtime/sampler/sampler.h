// Picks the next token from logits: greedy (temperature 0) or sampling from softmax(logits / T)
// restricted to the top-k tokens and then to the smallest set whose probability reaches top-p.
// Scratch is sized at creation; sample() allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "core/status.h"

namespace terra {

struct SamplerOptions {
  float temperature = 0.8f;  // 0 = greedy
  int top_k = 40;            // 0 = all tokens
  float top_p = 0.95f;       // 1 = no nucleus cut
  uint64_t seed = 0;
};

class Sampler {
 public:
  static Result<std::unique_ptr<Sampler>> create(int vocab_size, const SamplerOptions& options);
  int sample(const float* logits);

 private:
  Sampler(int vocab_size, const SamplerOptions& options);
  SamplerOptions options_;
  std::vector<int> order_;      // candidate token ids
  std::vector<double> probs_;  // their unnormalised probabilities
  std::mt19937_64 rng_;
};

}  // namespace terra
