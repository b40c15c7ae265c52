#include "decoder/perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace terra {

namespace {
// -log softmax(logits)[target], in double: logsumexp(logits) - logits[target].
double token_nll(const float* logits, int vocab, int target) {
  double mx = logits[0];
  for (int v = 1; v < vocab; ++v) mx = std::max(mx, double(logits[v]));
  double sum = 0;
  for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - mx);
  return mx + std::log(sum) - double(logits[target]);
}
}  // namespace

Result<PerplexityResult> evaluate_perplexity(Session& session, const std::vector<int>& ids, int window, int start_id) {
  if (window < 1 || window + 1 > session.max_context()) {
    return Status::Error(ErrorCode::kInvalidArgument, "window = " + std::to_string(window) +
                                                          ": must be in [1, " + std::to_string(session.max_context() - 1) +
                                                          "] for this session");
  }
  if (ids.empty()) return Status::Error(ErrorCode::kInvalidArgument, "the text has no tokens");
  double total = 0;
  for (size_t begin = 0; begin < ids.size(); begin += size_t(window)) {
    const size_t end = std::min(ids.size(), begin + size_t(window));
    session.reset();
    TERRA_RETURN_IF_ERROR(session.step(start_id));
    for (size_t i = begin; i < end; ++i) {
      total += token_nll(session.logits(), session.vocab_size(), ids[i]);
      if (i + 1 < end) TERRA_RETURN_IF_ERROR(session.step(ids[i]));
    }
  }
  PerplexityResult r;
  r.tokens = int64_t(ids.size());
  r.nll_per_token = total / double(ids.size());
  r.perplexity = std::exp(r.nll_per_token);
  return r;
}

}  // namespace terra
