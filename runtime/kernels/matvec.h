// y = W x (+ bias): the batch-1 product that dominates decoding. Rows are split across the
// session's threads; each row is one contiguous dot product (weights stored out-major).
#pragma once

#include "core/thread_pool.h"
#include "core/matrix.h"

namespace terra {

void matvec(const MatrixRef& w, const float* x, const float* bias, float* y, const ThreadPool& pool);

}  // namespace terra
