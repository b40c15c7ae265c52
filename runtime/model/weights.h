// Typed views of a model's tensors, filled once at load through the walk of model/tensor_spec.h,
// so layers index plain pointers and never look anything up while decoding.
#pragma once

#include <vector>

#include "core/matrix.h"
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

// FactoredDense(S, d_in, d_out): u[s*M + m] = sum_k x_k gating[s, k] projection[k, m] + bias.
struct FactoredDenseWeights {
  MatrixRef gating;      // [S, d_in]
  MatrixRef projection;  // [M, d_in] (stored out-major)
  const float* bias = nullptr;  // [S*M]
};

// LocallyConvDense over (time, module): taps[dt][ds] is an out-major M x M matrix.
struct ConvWeights {
  MatrixRef kernel;  // [lk * kw * M, M]: tap (dt, ds) is rows [(dt*kw + ds)*M, +M)
  const float* bias = nullptr;  // [M]
  int length_kernel = 1;  // lk
  int module_kernel = 1;  // kw
};

struct AttentionWeights {
  AttentionType type = AttentionType::kDense;
  NormWeights norm;
  DenseWeights q, k, v, o;  // dense: all four; mult_conv with S = 1: q, k, v
  FactoredDenseWeights mult;  // mult_conv
  ConvWeights conv_q, conv_k, conv_v;  // mult_conv with S > 1
  // lsh: q is the shared query/key projection, v and o as dense; biases only with lsh_bias. rotations: per head
  // [dk, n_hashes * rot/2] (trax's [d, n_hashes, rot/2], flat; rot = n_buckets or the sum of its factors), always f32.
  const float* rotations = nullptr;
  // lsh with a derived bucket count: [H, 4], the key each head draws its rotations from, as 16-bit
  // halves (jax::key_from_halves); rotations is then null.
  const float* hash_keys = nullptr;
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

struct SruWeights {
  NormWeights norm;
  DenseWeights in;                 // d -> n
  std::vector<DenseWeights> cells;  // n -> 3n each, split [r, f, y]
  DenseWeights out;                // n -> d
};

enum class Activation : uint8_t { kRelu = 0, kGelu = 1, kFastGelu = 2 };  // trax Relu, Gelu, FastGelu

struct FeedForwardWeights {
  NormWeights norm;
  bool sparse = false;
  Activation activation = Activation::kRelu;  // of the dense FF (trax's SparseFF is always relu)
  DenseWeights w1, w2;  // dense FF
  SparseFFWeights sff;  // sparse FF
  bool has_sru = false;
  SruWeights sru;
};

struct LayerWeights {
  std::vector<AttentionWeights> attention;  // encoder: 1; decoder: n_decoder_attention_layers
  FeedForwardWeights ff;
};

struct PositionWeights {
  PosEncoding kind = PosEncoding::kNone;
  const float* start_vec = nullptr;     // fixed-base [d]
  const float* base_weights = nullptr;  // fixed-base [bases, digits, d/digits]
  const float* table = nullptr;         // learned [max_len, d], or [max_len, d_feature] with `dense`
  MatrixRef dense;                      // d_feature: [d, d_feature]; position vector = dense · table[pos]
};

struct LossWeights {
  bool factored = false;
  MatrixRef kernel;             // dense [V, d]
  FactoredDenseWeights mult;    // sparse: FactoredDense(Sl, d, V)
  const float* bias = nullptr;  // dense: [V]; the factored loss adds mult.bias
};

struct ModelWeights {
  MatrixRef embedding;  // [V, d], shared by encoder and decoder
  MatrixRef decoder_embedding;  // the decoder's: `embedding`, or trax's separate output embedding
  PositionWeights encoder_pos;
  std::vector<LayerWeights> encoder;
  DenseWeights encoder_out_dense;  // reversible_encoder false
  NormWeights encoder_out_norm;
  PositionWeights decoder_pos;
  std::vector<LayerWeights> decoder;
  NormWeights out_norm;
  LossWeights loss;
};

Result<ModelWeights> bind_weights(const ModelFile& file);

}  // namespace terra
