// The hyper-parameters of a Terraformer (docs/terraformer.md, "Models"), as the runtime and the
// converter use them. The model file's Config table and the checkpoint's config.json both map
// onto this struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace terra {

enum class AttentionType : uint8_t { kDense = 0, kMultConv = 1, kLSH = 2 };
enum class PosEncoding : uint8_t { kNone = 0, kFixedBase = 1, kLearned = 2 };
// The decoder stack: trax's reversible two-stream blocks (Terraformer, ReformerLM), or standard
// pre-LayerNorm residual blocks x + F(LN(x)) (TransformerLM, ConfigurableTransformerLM).
enum class BlockType : uint8_t { kReversible = 0, kResidual = 1 };
// How the two reversible streams become the loss layer's input: LN((a+b)/2) (Terraformer), or
// LN over the concatenation [a; b] of width 2d (ReformerLM).
enum class DecoderOutput : uint8_t { kMean = 0, kConcat = 1 };

const char* attention_type_name(AttentionType t);
const char* pos_encoding_name(PosEncoding p);

struct ModelConfig {
  int vocab_size = 0;
  int d_model = 0;
  int d_ff = 0;
  int n_heads = 0;
  int n_encoder_layers = 0;
  int n_decoder_layers = 0;
  int n_decoder_attention_layers = 2;
  BlockType block_type = BlockType::kReversible;
  DecoderOutput decoder_output = DecoderOutput::kMean;
  std::vector<AttentionType> decoder_attention_types{AttentionType::kDense};
  AttentionType encoder_attention_type = AttentionType::kDense;
  int ff_sparsity = 0;  // N; 0 = dense FF
  int d_lowrank = 0;    // r
  int sru_layers = 0;
  int sru_width = 0;
  int qkv_sparsity = 1;
  int qkv_kernel_size = 3;
  int qkv_length_kernel = 3;
  int loss_sparsity = 0;
  PosEncoding pos_encoding = PosEncoding::kFixedBase;
  std::vector<int> pos_bases{11, 13, 14, 15};
  int pos_n_digits = 8;
  int pos_d_feature = 0;  // learned table of this width times a [d_feature, d] matrix (trax's d_feature); 0 = d
  bool center_layernorm = true;
  float layernorm_eps = 1e-6f;
  int max_len = 2048;
  bool reversible_encoder = false;
  int lsh_chunk_len = 0;
  int lsh_n_buckets = 0;
  int lsh_n_hashes = 0;
  int lsh_n_chunks_before = 0;
  int lsh_n_chunks_after = 0;
  int lsh_predict_mem_len = 0;
  int lsh_predict_drop_len = 0;
  // trax options recorded so the format need not change when the runtime learns them; values
  // other than these defaults are refused by check_supported() with the option's name.
  int d_attention_key = 0;    // per head; 0 = d_model / n_heads
  int d_attention_value = 0;
  bool attention_bias = true;
  bool qkv_share_qk = false;
  int qkv_output_layer = 0;   // 0 none, 1 mult, 2 conv, 3 multconv
  int qkv_v_concat = 0;       // 0 none, 1 fixed, 2 original
  int loss_sparsity_type = 0; // 0 mult, 1 lowrank, 2 einsum, 3 local, 4 local3
  int loss_d_lowrank = 0;
  int ff_sparsity_type = 0;   // 0 1inN, 1 Block, 2 Switch
  int ff_activation = 0;      // 0 relu, 1 gelu, 2 fast gelu
  int n_layers_forget = 0;
  bool forget_dense = true;
  bool use_two_swaps_per_encoder_block = true;
  int output_vocab_size = 0;  // 0 = vocab_size

  int head_dim() const { return d_model / n_heads; }
  int key_dim() const { return d_attention_key != 0 ? d_attention_key : head_dim(); }      // per head
  int value_dim() const { return d_attention_value != 0 ? d_attention_value : head_dim(); }  // per head
  int output_vocab() const { return output_vocab_size != 0 ? output_vocab_size : vocab_size; }
  // Width of the final LayerNorm and the loss layer's input.
  int output_width() const { return decoder_output == DecoderOutput::kConcat ? 2 * d_model : d_model; }
  int ff_blocks() const { return ff_sparsity > 0 ? d_ff / ff_sparsity : 0; }  // B
  AttentionType decoder_attention_type(int layer) const {
    return decoder_attention_types[size_t(layer) % decoder_attention_types.size()];
  }

  // Internal consistency: positive sizes within bounds, divisibility, known options. The
  // message names the field and its value.
  Status validate() const;
  // What this runtime version can execute; a valid config may still be unsupported.
  Status check_supported() const;
};

}  // namespace terra
