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
void matvec_rows(void* p, size_t begin, size_t end) {
  const auto& j = *static_cast<MatvecJob*>(p);
  const KernelSet& k = kernels();
  const size_t cols = size_t(j.w->cols);
  size_t r = begin;
  for (; r + 4 <= end; r += 4) {  // four rows share every load of x
    if (j.w->dtype == DType::kF32) {
      k.dot4_f32(j.w->f32_row(int64_t(r)), cols, j.x, cols, j.y + r);
    } else {
      k.dot4_f16(j.w->f16_row(int64_t(r)), cols, j.x, cols, j.y + r);
    }
  }
  for (; r < end; ++r) j.y[r] = dot_row(*j.w, int64_t(r), j.x);
  if (j.bias) {
    for (size_t i = begin; i < end; ++i) j.y[i] += j.bias[i];
  }
}
}  // namespace

void matvec(const MatrixRef& w, const float* x, const float* bias, float* y, const ThreadPool& pool) {
  MatvecJob job{&w, x, bias, y};
  // Tiles of 16 rows keep scheduling cheap and still balance two to eight threads.
  pool.parallel_for(size_t(w.rows), 16, matvec_rows, &job);
}

}  // namespace terra
