// y = W x (+ bias): the batch-1 product that dominates decoding. Rows are split across the
// session's threads; each row is one contiguous dot product (weights stored out-major).
#pragma once

#include "core/thread_pool.h"
#include "core/matrix.h"

namespace terra {

// Int8/int4 rows take the integer path (kernels/vector_ops.h, use_integer_dots) unless `exact`:
// the sparse FF controller and LSH attention's query/key keep float activations, as their argmax
// turns a small change into a different unit or bucket.
void matvec(const MatrixRef& w, const float* x, const float* bias, float* y, const ThreadPool& pool, bool exact = false);

}  // namespace terra
