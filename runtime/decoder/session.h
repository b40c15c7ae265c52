// A decoding session: the state of one sequence (KV caches, convolution and SRU state, scratch)
// in one arena planned at creation: each layer declares what it needs (layers/layer.h,
// core/arena_plan.h). encode(), step() and prefill() allocate nothing; they read the mapped
// weights and write only into the arena.
//
// A token's path: step(token) -> embedding + decoder position -> decode_position(): each branch
// of the decoder stack (layers/layer_stack.h: per layer, its attention sub-layers, then the FF)
// computes F(LN(y)) at this position, which is added to the other reversible stream before the
// streams swap -> LN((a+b)/2) -> loss layer (dense or factored) -> logits(). prefill() runs the
// same branches on blocks of positions (Layer::tokens).
// Encoder–decoder models first encode(input): the encoder's outputs go through the same decoder
// stack as its first positions (trax concatenates them; no cross-attention), in one block with
// the first decoder token, as trax's predict mode's first call (LSH attention depends on it).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/arena.h"
#include "core/arena_plan.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "encoder/encoder.h"
#include "kernels/matmul.h"
#include "layers/layer_stack.h"
#include "layers/loss.h"
#include "model/model.h"

namespace terra {

struct SessionOptions {
  int max_context = 0;  // positions of the decoder stack (input + generated); 0 = max_len capped at 4096
  int threads = 1;
  int max_input = 0;    // encoder–decoder models: longest input; 0 = max_context
  bool pin_threads = false;  // pin compute threads to the fastest cores (platform::performance_cpus)
  // Largest arena the session may allocate, in bytes; 0 = half of the machine's physical memory.
  // Creation fails, naming both sizes, rather than let the OS kill the process later.
  uint64_t max_memory = 0;
  // Who runs the batched products (prompts, the encoder): kAuto is XNNPACK where it runs
  // (kernels/matmul.h); decoding one token at a time is always terra's own kernels.
  MatmulEngine engine = MatmulEngine::kAuto;
  // Plans score()'s buffers: the logits of a few positions at a time (rows x vocabulary floats).
  bool scoring = false;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(const Model& model, const SessionOptions& options);

  // Encoder–decoder models: starts a new sequence from this input (the session is reset).
  Status encode(const int* tokens, size_t count);
  // Feeds one token at the next position and computes its logits.
  Status step(int token);
  // Feeds tokens in order; logits() then holds those of the last one.
  Status prefill(const int* tokens, size_t count);
  // prefill(), and adds to *nll the negative log-likelihood of targets[i] under the logits at
  // tokens[i], for every i (perplexity): the loss layer runs on blocks of positions. Needs a
  // session created with SessionOptions::scoring.
  Status score(const int* tokens, const int* targets, size_t count, double* nll);
  // Forgets the sequence; the next token is position 0.
  void reset();
  // Continues `other`'s sequence from here on: its positions, caches, recurrent state and logits
  // are copied (beam search). Both sessions must be of the same model with the same plan.
  Status copy_sequence_from(const Session& other);

  const float* logits() const { return logits_; }
  int vocab_size() const { return config_.output_vocab(); }  // of the decoder: the logits' length
  int position() const { return position_; }  // positions in the decoder stack, input included
  int input_length() const { return prefix_; }
  bool has_encoder() const { return config_.n_encoder_layers > 0; }
  int max_context() const { return max_context_; }
  int max_input() const { return max_input_; }
  size_t arena_bytes() const { return arena_.size(); }
  size_t threads() const { return pool_.threads(); }
  size_t pinned_threads() const { return pool_.pinned(); }
  const ThreadPool& pool() const { return pool_; }
  MatmulEngine engine() const { return scratch_.mm.engine; }  // for work that must not compete with it (bench probe)
  // Units the sparse FF of decoder `layer` chose at the last position (B entries), or null.
  const int32_t* selected_units(int layer) const;

 private:
  Session(const Model& model, const SessionOptions& options, int max_context, int max_input);
  Status plan(uint64_t max_memory);
  Status check_token(int token, int vocab) const;
  // Room for `count` more positions: in the context, and in a learned position table.
  Status check_room(size_t count) const;
  Status check_logits() const;
  // Runs one position through the decoder stack from the two streams' initial values.
  void decode_position(const float* first, const float* second, bool want_logits);
  // Runs the encoder rows not yet decoded (pending_) and up to block_ tokens through the stack
  // together (Layer::tokens); with targets, adds the tokens' negative log-likelihoods to *nll.
  Status prefill_chunk(const int* tokens, int count, bool want_logits, const int* targets = nullptr,
                       double* nll = nullptr);
  // The row the loss layer reads: LN of the streams' mean (or their concatenation).
  void output_row(const float* x, const float* y, float* out);
  void finish_logits(const float* x, const float* y);
  void embed_and_decode(int token, bool want_logits);

  const ModelConfig& config_;
  const ModelWeights& weights_;
  int max_context_;
  int max_input_;
  bool residual_ = false;  // residual blocks: one stream (see decode_position)
  int position_ = 0;
  int prefix_ = 0;  // encoder positions at the start of the decoder stack
  int pending_ = 0;  // of those, the ones encode() left for the first decoder block (counted in position_)
  ThreadPool pool_;
  Arena arena_;

  LayerScratch scratch_;  // shared by every layer (layers run one at a time)
  LayerStack decoder_;     // the decoder's branches in the order they run
  std::vector<const Layer*> ff_layers_;  // each decoder layer's FF branch (selected_units)
  std::unique_ptr<Encoder> encoder_;
  ArenaPlan plan_;
  float* stream_a_ = nullptr;  // the two reversible residual streams, [d] each
  float* stream_b_ = nullptr;
  float* normed_ = nullptr;    // LayerNorm output, [max(d, output width)]
  float* branch_ = nullptr;    // a half-residual's branch output, [max(d, output width)]
  float* logits_ = nullptr;    // [V]
  float* loss_gated_ = nullptr;  // [loss_sparsity * d]
  float* loss_widened_ = nullptr;  // [threads, d]: a factored loss row widened to f32
  struct Scoring {
    int rows = 0;               // positions per pass of the loss layer (0: not planned)
    float* normed = nullptr;    // [rows, output width]
    float* logits = nullptr;    // [rows, V]
    LossTokensScratch loss;
  } scoring_;
  int block_ = 16;  // prompt tokens per pass (kernels/matmul.h: tokens_per_pass)
  int rows_ = 16;   // the most rows of one pass: block_, or the encoder's rows and a token
  struct Chunk {            // also the encoder's buffers (encoder/encoder.h, EncoderBuffers)
    float* a = nullptr;    // [rows_, d] stream one
    float* b = nullptr;    // [rows_, d] stream two
    float* out = nullptr;  // [rows_, d] a branch's rows
  } chunk_;
};

}  // namespace terra
