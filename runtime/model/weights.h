// Typed views of a model's tensors, bound once at load by name and checked against the config,
// so layers index plain pointers and never look anything up while decoding.
#pragma once

#include <vector>

#include "kernels/matrix.h"
#include "model/config.h"

namespace terra {

class ModelFile;
template <typename T>
class Result;

struct NormWeights {
  const float* scale = nullptr;
  const float* bias = nullptr;  // null: RMS-style LayerNorm
};

struct DenseWeights {
  MatrixRef w;  // [out, in]
  const float* bias = nullptr;
};

struct AttentionWeights {
  NormWeights norm;
  DenseWeights q, k, v, o;
};

struct SparseFFWeights {
  int blocks = 0;  // B
  int units = 0;   // N per block
  MatrixRef m1;    // [r, d]
  MatrixRef m2;    // [B*N, r]
  const float* mb = nullptr;  // [B*N]
  MatrixRef w1;    // [B*N, d], unit i*N+j
  MatrixRef w2;    // [B*N, d]
  const float* b2 = nullptr;
};

struct FeedForwardWeights {
  NormWeights norm;
  bool sparse = false;
  DenseWeights w1, w2;  // dense FF
  SparseFFWeights sff;  // sparse FF
};

struct DecoderLayerWeights {
  std::vector<AttentionWeights> attention;  // n_decoder_attention_layers
  FeedForwardWeights ff;
};

struct PositionWeights {
  PosEncoding kind = PosEncoding::kNone;
  const float* start_vec = nullptr;     // fixed-base [d]
  const float* base_weights = nullptr;  // fixed-base [bases, digits, d/digits]
  const float* table = nullptr;         // learned [max_len, d]
};

struct ModelWeights {
  MatrixRef embedding;  // [V, d]
  PositionWeights pos;
  std::vector<DecoderLayerWeights> layers;
  NormWeights out_norm;
  DenseWeights loss;  // [V, d]
};

Result<ModelWeights> bind_weights(const ModelFile& file);

}  // namespace terra
