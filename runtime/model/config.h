// The hyper-parameters of a Terraformer (docs/terraformer.md, "Models"), as the runtime and the
// converter use them. The model file's Config table and the checkpoint's config.json both map
// onto this struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/config_fields.h"

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

// Per-head widths of an LSH attention layer: the decoder's are d_attention_key/value; trax's
// encoder ignores those and uses d_model / n_heads (reformer.EncoderBlock).
struct LshDims {
  int dk = 0, dv = 0;
};
struct ModelConfig;
LshDims lsh_dims(const ModelConfig& c, bool decoder);
const char* pos_encoding_name(PosEncoding p);

struct ModelConfig {
#define TERRA_CONFIG_MEMBER(type, name, default_value, json) type name = default_value;
  TERRA_CONFIG_SCALARS(TERRA_CONFIG_MEMBER)
#undef TERRA_CONFIG_MEMBER
  std::vector<AttentionType> decoder_attention_types{AttentionType::kDense};  // cycled over decoder layers
  std::vector<int> pos_bases{11, 13, 14, 15};
  // trax's n_buckets given as a list: hierarchical hashing, factor by factor, into their product
  // (lsh_n_buckets). Empty: one factor, lsh_n_buckets.
  std::vector<int> lsh_bucket_factors;

  // LSH hashing's factors (lsh_bucket_factors, or {lsh_n_buckets}) and its rotation columns per
  // round: the sum of the factors / 2. None and 0 when the count is derived.
  std::vector<int> lsh_factors() const;
  int lsh_rotation_half() const;
  // lsh_n_buckets 0: trax's n_buckets None, where each call derives its count from the number of
  // rows it hashes (docs/lsh-attention.md); the file then stores each head's key, not rotations.
  bool lsh_buckets_derived() const { return lsh_n_buckets == 0; }

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

  bool decoder_uses_lsh() const;  // some decoder layer's attention is LSH
  bool uses_lsh() const;          // ... or the encoder's

  bool operator==(const ModelConfig& other) const;
  // Internal consistency: positive sizes within bounds, divisibility, known options. The
  // message names the field and its value.
  Status validate() const;
  // What this runtime version can execute; a valid config may still be unsupported.
  Status check_supported() const;
};

}  // namespace terra
