// The encoder of an encoder–decoder Terraformer: reversible blocks over the whole input at once
// (non-causal dense attention, then the FF, each a layer of layers/layer.h run on all the input's
// rows), then LN(Dense((a+b)/2)) or, with reversible_encoder, both streams as they are. Its
// outputs become the first positions of the decoder's sequence (trax concatenates them; there is
// no cross-attention).
#pragma once

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "layers/layer_stack.h"
#include "model/config.h"
#include "model/weights.h"

namespace terra {

struct EncoderOutput {
  const float* first = nullptr;   // [n, d]: decoder stream one at the input positions
  const float* second = nullptr;  // [n, d]: decoder stream two
};

class Encoder {
 public:
  Encoder(const ModelWeights& w, const ModelConfig& c, LayerScratch& s);
  // Buffers for inputs of up to max_input tokens.
  void plan(ArenaPlan& plan, int max_input, int threads);
  // The outputs stay valid until the next run.
  EncoderOutput run(const int* tokens, int n, const ThreadPool& pool);

 private:
  const ModelWeights& w_;
  const ModelConfig& c_;
  LayerStack layers_;
  float* x_ = nullptr;    // [max_input, d]: stream one
  float* y_ = nullptr;    // [max_input, d]: stream two
  float* out_ = nullptr;  // [max_input, d]: a branch's rows; at the end, the streams' mean
  float* row_ = nullptr;  // [chunk_, d]: the output dense's rows
  MatmulScratch& mm_;
  int chunk_ = 1;         // rows per pass of the output dense (kernels/matmul.h: tokens_per_pass)
};

}  // namespace terra
