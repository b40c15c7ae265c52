#include "decoder/perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/vector_ops.h"

namespace terra {

Result<PerplexityResult> evaluate_perplexity(Session& session, const std::vector<int>& ids, int window, int start_id,
                                             bool stepwise) {
  if (window < 1 || window + 1 > session.max_context()) {
    return Status::Error(ErrorCode::kInvalidArgument, "window = " + std::to_string(window) +
                                                          ": must be in [1, " + std::to_string(session.max_context() - 1) +
                                                          "] for this session");
  }
  if (ids.empty()) return Status::Error(ErrorCode::kInvalidArgument, "the text has no tokens");
  // Each window starts a new sequence at the start id; the logits at each position score the
  // next token. The session scores a block of positions per pass (Session::score).
  std::vector<int> inputs;
  inputs.reserve(size_t(window));
  double total = 0;
  for (size_t begin = 0; begin < ids.size(); begin += size_t(window)) {
    const size_t end = std::min(ids.size(), begin + size_t(window));
    inputs.assign(1, start_id);
    inputs.insert(inputs.end(), ids.begin() + int64_t(begin), ids.begin() + int64_t(end) - 1);
    session.reset();
    if (!stepwise) {
      TERRA_RETURN_IF_ERROR(session.score(inputs.data(), ids.data() + begin, end - begin, &total));
      continue;
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      TERRA_RETURN_IF_ERROR(session.step(inputs[i]));
      total += neg_log_softmax(session.logits(), size_t(session.vocab_size()), size_t(ids[begin + i]));
    }
  }
  PerplexityResult r;
  r.tokens = int64_t(ids.size());
  r.nll_per_token = total / double(ids.size());
  r.perplexity = std::exp(r.nll_per_token);
  return r;
}

}  // namespace terra
