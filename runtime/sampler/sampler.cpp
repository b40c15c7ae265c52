#include "sampler/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cmath>
#include <string>

namespace terra {

Result<std::unique_ptr<Sampler>> Sampler::create(int vocab_size, const SamplerOptions& o) {
  if (!(o.temperature >= 0.0f) || !std::isfinite(o.temperature)) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "temperature = " + std::to_string(o.temperature) + ": must be a finite number >= 0");
  }
  if (o.top_k < 0) {
    return Status::Error(ErrorCode::kInvalidArgument, "top-k = " + std::to_string(o.top_k) + ": must be >= 0");
  }
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f)) {
    return Status::Error(ErrorCode::kInvalidArgument, "top-p = " + std::to_string(o.top_p) + ": must be in (0, 1]");
  }
  if (vocab_size < 1) return Status::Error(ErrorCode::kInvalidArgument, "empty vocabulary");
  return std::unique_ptr<Sampler>(new Sampler(vocab_size, o));
}

Sampler::Sampler(int vocab_size, const SamplerOptions& options)
    : options_(options), order_(size_t(vocab_size)), probs_(size_t(vocab_size)), rng_(options.seed) {}

int Sampler::sample(const float* logits) {
  const int V = int(order_.size());
  if (options_.temperature == 0.0f) {
    return int(std::max_element(logits, logits + V) - logits);  // first maximum
  }
  std::iota(order_.begin(), order_.end(), 0);
  // A NaN logit ranks lowest, so the ordering stays strict and weak whatever the model emits.
  auto key = [logits](int t) { return std::isnan(logits[t]) ? -INFINITY : logits[t]; };
  auto by_logit = [&key](int a, int b) { return key(a) > key(b) || (key(a) == key(b) && a < b); };
  int n = V;
  if (options_.top_k > 0 && options_.top_k < V) {
    n = options_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), by_logit);
  } else {
    std::sort(order_.begin(), order_.end(), by_logit);
  }
  // Candidates are now sorted by logit, so order_[0] holds the maximum. Dividing (not
  // multiplying by 1/T) in double keeps a tiny temperature finite: the maximum gets exp(0) = 1.
  const double t = options_.temperature;
  const double top = key(order_[0]);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double p = std::exp((double(key(order_[size_t(i)])) - top) / t);
    probs_[size_t(i)] = std::isfinite(p) ? p : 0.0;
    sum += probs_[size_t(i)];
  }
  if (!(sum > 0)) return order_[0];  // nothing finite to sample from
  if (options_.top_p < 1.0f) {
    double cum = 0;
    int keep = 0;
    while (keep < n) {
      cum += probs_[size_t(keep)] / sum;
      ++keep;
      if (cum >= options_.top_p) break;
    }
    n = keep;
    sum = 0;
    for (int i = 0; i < n; ++i) sum += probs_[size_t(i)];
  }
  double r = std::uniform_real_distribution<double>(0.0, sum)(rng_);
  for (int i = 0; i < n; ++i) {
    r -= probs_[size_t(i)];
    if (r < 0) return order_[size_t(i)];
  }
  return order_[size_t(n - 1)];
}

}  // namespace terra
