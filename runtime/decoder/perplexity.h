// Perplexity of a token sequence, defined as models/trainer/README.md states it (the PyTorch
// evaluation uses the same rule): consecutive windows of `window` ids (the last may be
// shorter), each scored from a fresh sequence [start_id] + window, every id of the window
// predicted; mean negative log-likelihood in nats per token over all ids.
#pragma once

#include <cstdint>
#include <vector>

#include "decoder/session.h"

namespace terra {

struct PerplexityResult {
  int64_t tokens = 0;
  double nll_per_token = 0;  // nats
  double perplexity = 0;     // exp(nll_per_token)
};

// The session must hold window + 1 positions and, unless stepwise, be created with
// SessionOptions::scoring. stepwise: each position through Session::step, the decoding path.
Result<PerplexityResult> evaluate_perplexity(Session& session, const std::vector<int>& ids, int window, int start_id,
                                             bool stepwise = false);

}  // namespace terra
