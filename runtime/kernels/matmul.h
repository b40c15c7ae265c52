// Y = X Wᵀ (+ bias) for a block of tokens at once (prefill, the encoder): each weight row is
// read once and dotted with up to four token vectors per pass, so a prompt reads the weights
// about tokens/4 times less often than decoding it token by token. Weights stay in place
// (f16 rows are widened into per-thread scratch), so nothing is repacked or copied.
#pragma once

#include "core/thread_pool.h"
#include "core/matrix.h"

namespace terra {

// y[t * w.rows + r] = w[r] · x[t * w.cols ..] + bias[r], for t < tokens.
// scratch: pool.threads() * w.cols floats (used for f16 weights).
void matmul_tokens(const MatrixRef& w, const float* x, int tokens, const float* bias, float* y, float* scratch,
                   const ThreadPool& pool);

}  // namespace terra
