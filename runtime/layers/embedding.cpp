#include "layers/embedding.h"

#include "kernels/vector_ops.h"

namespace terra {

void embed_token(const MatrixRef& embedding, int token, float* out) { copy_row(embedding, token, out); }

void add_position(const PositionWeights& w, const ModelConfig& c, int pos, float* x) {
  const int d = c.d_model;
  switch (w.kind) {
    case PosEncoding::kNone:
      return;
    case PosEncoding::kLearned:
      if (w.dense.data == nullptr) {
        add_inplace(x, w.table + int64_t(pos) * d, size_t(d));
      } else {
        const float* row = w.table + int64_t(pos) * w.dense.cols;
        for (int i = 0; i < d; ++i) x[i] += dot_row(w.dense, i, row);
      }
      return;
    case PosEncoding::kFixedBase: {
      const int digits = c.pos_n_digits, width = d / digits;
      for (size_t j = 0; j < c.pos_bases.size(); ++j) {
        const int base = c.pos_bases[j];
        int64_t rest = pos;
        for (int i = 0; i < digits; ++i) {
          const float digit = float(rest % base);
          rest /= base;
          const float* v = w.base_weights + (int64_t(j) * digits + i) * width;
          float* out = x + int64_t(i) * width;
          for (int e = 0; e < width; ++e) out[e] += digit * v[e];
        }
      }
      if (pos == 0) add_inplace(x, w.start_vec, size_t(d));
      return;
    }
  }
}

}  // namespace terra
