// The hyper-parameters of a Terraformer (shared/terraformer.md §4), as the runtime and the
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
  bool center_layernorm = true;
  float layernorm_eps = 1e-6f;
  int max_len = 2048;
  bool reversible_encoder = false;
  int lsh_chunk_len = 0;
  int lsh_n_buckets = 0;
  int lsh_n_hashes = 0;
  int lsh_n_chunks_before = 0;

  int head_dim() const { return d_model / n_heads; }
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
