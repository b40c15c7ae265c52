#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/kernel_set.h"
#include "kernels/vector_ops.h"

namespace terra {

namespace {

struct Job {
  const MatrixRef* w;
  const float* x;
  int tokens;
  const float* bias;
  float* y;
  float* scratch;
  size_t parts;
};

// Part i of `parts` owns a contiguous range of rows and scratch slot i.
void rows_part(void* p, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<Job*>(p);
  const KernelSet& k = kernels();
  const size_t rows = size_t(j.w->rows), cols = size_t(j.w->cols);
  const size_t begin = rows * part / j.parts, end = rows * (part + 1) / j.parts;
  float* widened = j.scratch + part * cols;
  for (size_t r = begin; r < end; ++r) {
    const float* row = j.w->f32_row(int64_t(r));
    if (j.w->dtype != DType::kF32) {  // widened once, then shared by every token of the block
      copy_row(*j.w, int64_t(r), widened);
      row = widened;
    }
    const float b = j.bias ? j.bias[r] : 0.0f;
    int t = 0;
    for (; t + 4 <= j.tokens; t += 4) {  // the row is the shared operand: four tokens per load of it
      float out[4];
      k.dot4_f32(j.x + size_t(t) * cols, cols, row, cols, out);
      for (int i = 0; i < 4; ++i) j.y[size_t(t + i) * rows + r] = out[i] + b;
    }
    for (; t < j.tokens; ++t) j.y[size_t(t) * rows + r] = k.dot_f32(row, j.x + size_t(t) * cols, cols) + b;
  }
}

}  // namespace

void matmul_tokens(const MatrixRef& w, const float* x, int tokens, const float* bias, float* y, float* scratch,
                   const ThreadPool& pool) {
  Job job{&w, x, tokens, bias, y, scratch, pool.threads()};
  pool.parallel_for(job.parts, 1, rows_part, &job);
}

}  // namespace terra
