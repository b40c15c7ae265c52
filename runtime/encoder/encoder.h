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

// Where the encoder works and leaves its outputs: the session's slots for the decoder's first
// block (decoder/session.h), so a long input's rows are held once, not copied into a second buffer.
struct EncoderBuffers {
  float** first = nullptr;   // stream one, then the output's stream one
  float** second = nullptr;  // stream two, then the output's stream two
  float** branch = nullptr;  // a branch's rows
};

class Encoder {
 public:
  Encoder(const ModelWeights& w, const ModelConfig& c, LayerScratch& s, EncoderBuffers buffers);
  // Buffers for inputs of up to max_input tokens.
  void plan(ArenaPlan& plan, int max_input, int threads);
  // The outputs are rows [0, n) of *buffers.first and *buffers.second, valid until those slots are
  // next written.
  EncoderOutput run(const int* tokens, int n, const ThreadPool& pool);

 private:
  const ModelWeights& w_;
  const ModelConfig& c_;
  LayerStack layers_;
  EncoderBuffers buffers_;  // each [max_input, d]; the branch's rows end as the streams' mean
  float* row_ = nullptr;  // [chunk_, d]: the output dense's rows
  MatmulScratch& mm_;
  int chunk_ = 1;         // rows per pass of the output dense (kernels/matmul.h: tokens_per_pass)
};

}  // namespace terra
