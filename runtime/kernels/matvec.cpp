#include "kernels/matvec.h"

#include "kernels/vector_ops.h"

namespace terra {

namespace {
struct MatvecJob {
  const MatrixRef* w;
  const float* x;
  const float* bias;
  float* y;
};
// One row at a time: measured faster here than four rows per pass over x (terra bench on the
// 800M baseline, 2 threads: 35 vs 26 GB/s effective), as one sequential stream per thread suits
// the hardware prefetchers better than four interleaved ones (docs/perf/README.md).
void matvec_rows(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<MatvecJob*>(p);
  for (size_t r = begin; r < end; ++r) {
    const float d = dot_row(*j.w, int64_t(r), j.x);
    j.y[r] = j.bias ? d + j.bias[r] : d;
  }
}

struct QuantizedJob {
  const MatrixRef* w;
  const QuantizedActivation* x;
  const float* bias;
  float* y;
};
void matvec_rows_q8(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<QuantizedJob*>(p);
  const auto dot = row_ops(j.w->dtype).dot_q8;
  for (size_t r = begin; r < end; ++r) {
    const float d = dot(*j.w, int64_t(r), j.x->q, j.x->scales);
    j.y[r] = j.bias ? d + j.bias[r] : d;
  }
}

}  // namespace

void matvec(const MatrixRef& w, const float* x, const float* bias, float* y, const ThreadPool& pool, bool exact) {
  if (!exact && use_integer_dots(w)) {  // x quantized once, on this thread's stack, for every row
    QuantizedActivation q;
    quantize_q8(x, size_t(w.cols), q.q, q.scales);
    QuantizedJob job{&w, &q, bias, y};
    pool.parallel_for(size_t(w.rows), 16, matvec_rows_q8, &job);
    return;
  }
  MatvecJob job{&w, x, bias, y};
  // Tiles of 16 rows keep scheduling cheap and still balance two to eight threads.
  pool.parallel_for(size_t(w.rows), 16, matvec_rows, &job);
}

}  // namespace terra
