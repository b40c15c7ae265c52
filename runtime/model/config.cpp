#include "model/config.h"

#include <algorithm>
#include <string>

namespace terra {

const char* attention_type_name(AttentionType t) {
  switch (t) {
    case AttentionType::kDense: return "dense";
    case AttentionType::kMultConv: return "mult_conv";
    case AttentionType::kLSH: return "lsh";
  }
  return "?";
}

const char* pos_encoding_name(PosEncoding p) {
  switch (p) {
    case PosEncoding::kNone: return "none";
    case PosEncoding::kFixedBase: return "fixed-base";
    case PosEncoding::kLearned: return "learned";
  }
  return "?";
}

namespace {
Status bad(const std::string& field, long long value, const std::string& why) {
  return Status::Error(ErrorCode::kCorruptModel,
                       "config field " + field + " = " + std::to_string(value) + ": " + why);
}
// Bounds keep every size product well inside 64 bits and reject garbage early.
Status in_range(const char* field, long long v, long long lo, long long hi) {
  if (v < lo || v > hi) {
    return bad(field, v, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return Status::Ok();
}
}  // namespace

Status ModelConfig::validate() const {
  TERRA_RETURN_IF_ERROR(in_range("vocab_size", vocab_size, 1, 1 << 22));
  TERRA_RETURN_IF_ERROR(in_range("d_model", d_model, 1, 1 << 16));
  TERRA_RETURN_IF_ERROR(in_range("d_ff", d_ff, 1, 1 << 20));
  TERRA_RETURN_IF_ERROR(in_range("n_heads", n_heads, 1, 1 << 12));
  if (d_model % n_heads != 0) return bad("n_heads", n_heads, "must divide d_model " + std::to_string(d_model));
  TERRA_RETURN_IF_ERROR(in_range("n_encoder_layers", n_encoder_layers, 0, 1024));
  TERRA_RETURN_IF_ERROR(in_range("n_decoder_layers", n_decoder_layers, 1, 1024));
  TERRA_RETURN_IF_ERROR(in_range("n_decoder_attention_layers", n_decoder_attention_layers, 1, 2));
  if (decoder_attention_types.empty()) return bad("decoder_attention_types", 0, "needs at least one entry");
  if (decoder_attention_types.size() > 1024) {
    return bad("decoder_attention_types", (long long)decoder_attention_types.size(), "too many entries");
  }
  for (AttentionType t : decoder_attention_types) {
    if (t != AttentionType::kDense && t != AttentionType::kMultConv && t != AttentionType::kLSH) {
      return bad("decoder_attention_types", int(t), "unknown attention type");
    }
  }
  TERRA_RETURN_IF_ERROR(in_range("ff_sparsity", ff_sparsity, 0, 1 << 20));
  if (ff_sparsity > 0) {
    if (d_ff % ff_sparsity != 0) return bad("ff_sparsity", ff_sparsity, "must divide d_ff " + std::to_string(d_ff));
    TERRA_RETURN_IF_ERROR(in_range("d_lowrank", d_lowrank, 1, 1 << 16));
  }
  TERRA_RETURN_IF_ERROR(in_range("sru_layers", sru_layers, 0, 16));
  if (sru_layers > 0) TERRA_RETURN_IF_ERROR(in_range("sru_width", sru_width, 1, 1 << 16));
  if (encoder_attention_type != AttentionType::kDense && encoder_attention_type != AttentionType::kMultConv &&
      encoder_attention_type != AttentionType::kLSH) {
    return bad("encoder_attention_type", int(encoder_attention_type), "unknown attention type");
  }
  TERRA_RETURN_IF_ERROR(in_range("qkv_sparsity", qkv_sparsity, 1, 1 << 12));
  if (d_model % qkv_sparsity != 0) {
    return bad("qkv_sparsity", qkv_sparsity, "must divide d_model " + std::to_string(d_model));
  }
  TERRA_RETURN_IF_ERROR(in_range("qkv_kernel_size", qkv_kernel_size, 1, 63));
  if (qkv_kernel_size % 2 == 0) return bad("qkv_kernel_size", qkv_kernel_size, "must be odd (trax pads it evenly)");
  TERRA_RETURN_IF_ERROR(in_range("qkv_length_kernel", qkv_length_kernel, 1, 64));
  TERRA_RETURN_IF_ERROR(in_range("loss_sparsity", loss_sparsity, 0, 1 << 12));
  TERRA_RETURN_IF_ERROR(in_range("max_len", max_len, 1, 1 << 24));
  if (pos_encoding != PosEncoding::kNone && pos_encoding != PosEncoding::kFixedBase &&
      pos_encoding != PosEncoding::kLearned) {
    return bad("pos_encoding", int(pos_encoding), "unknown positional encoding");
  }
  if (pos_encoding == PosEncoding::kFixedBase) {
    TERRA_RETURN_IF_ERROR(in_range("pos_n_digits", pos_n_digits, 1, 64));
    if (d_model % pos_n_digits != 0) {
      return bad("pos_n_digits", pos_n_digits, "must divide d_model " + std::to_string(d_model));
    }
    if (pos_bases.empty() || pos_bases.size() > 64) {
      return bad("pos_bases", (long long)pos_bases.size(), "needs 1 to 64 bases");
    }
    for (int b : pos_bases) TERRA_RETURN_IF_ERROR(in_range("pos_bases[]", b, 2, 1 << 16));
  }
  TERRA_RETURN_IF_ERROR(in_range("d_attention_key", d_attention_key, 0, 1 << 16));
  TERRA_RETURN_IF_ERROR(in_range("d_attention_value", d_attention_value, 0, 1 << 16));
  TERRA_RETURN_IF_ERROR(in_range("qkv_output_layer", qkv_output_layer, 0, 3));
  TERRA_RETURN_IF_ERROR(in_range("qkv_v_concat", qkv_v_concat, 0, 2));
  TERRA_RETURN_IF_ERROR(in_range("loss_sparsity_type", loss_sparsity_type, 0, 4));
  TERRA_RETURN_IF_ERROR(in_range("loss_d_lowrank", loss_d_lowrank, 0, 1 << 16));
  TERRA_RETURN_IF_ERROR(in_range("ff_sparsity_type", ff_sparsity_type, 0, 2));
  TERRA_RETURN_IF_ERROR(in_range("ff_activation", ff_activation, 0, 2));
  TERRA_RETURN_IF_ERROR(in_range("n_layers_forget", n_layers_forget, 0, 1024));
  TERRA_RETURN_IF_ERROR(in_range("output_vocab_size", output_vocab_size, 0, 1 << 22));
  TERRA_RETURN_IF_ERROR(in_range("block_type", int(block_type), 0, 1));
  TERRA_RETURN_IF_ERROR(in_range("decoder_output", int(decoder_output), 0, 1));
  TERRA_RETURN_IF_ERROR(in_range("pos_d_feature", pos_d_feature, 0, 1 << 16));
  if (uses_lsh()) {  // trax LSHSelfAttention's settings (docs/lsh-attention.md)
    TERRA_RETURN_IF_ERROR(in_range("lsh_chunk_len", lsh_chunk_len, 1, 1 << 16));
    // 0: trax's n_buckets None, a count derived from each call's length (lsh_buckets_derived).
    if (lsh_n_buckets != 0) TERRA_RETURN_IF_ERROR(in_range("lsh_n_buckets", lsh_n_buckets, 2, 1 << 16));
    if (lsh_n_buckets % 2 != 0) return bad("lsh_n_buckets", lsh_n_buckets, "must be even (trax hashes into +-rotations)");
    if (lsh_n_buckets == 0 && !lsh_bucket_factors.empty()) {
      return bad("lsh_n_buckets", lsh_n_buckets, "is 0 (derived from the length) but lsh_bucket_factors are given");
    }
    if (lsh_bucket_factors.size() > 8) {
      return bad("lsh_bucket_factors", (long long)lsh_bucket_factors.size(), "needs at most 8 factors");
    }
    long long product = 1;
    for (int f : lsh_bucket_factors) {
      TERRA_RETURN_IF_ERROR(in_range("lsh_bucket_factors[]", f, 2, 1 << 16));
      if (f % 2 != 0) return bad("lsh_bucket_factors[]", f, "must be even (trax hashes into +-rotations)");
      product *= f;
      if (product > (1 << 16)) return bad("lsh_bucket_factors", product, "multiply to more than 65536 buckets");
    }
    if (!lsh_bucket_factors.empty() && product != lsh_n_buckets) {
      return bad("lsh_n_buckets", lsh_n_buckets, "must be the product of lsh_bucket_factors, " + std::to_string(product));
    }
    TERRA_RETURN_IF_ERROR(in_range("lsh_n_hashes", lsh_n_hashes, 1, 64));
    TERRA_RETURN_IF_ERROR(in_range("lsh_n_chunks_before", lsh_n_chunks_before, 0, 64));
    TERRA_RETURN_IF_ERROR(in_range("lsh_n_chunks_after", lsh_n_chunks_after, 0, 64));
    if (decoder_uses_lsh()) {
      TERRA_RETURN_IF_ERROR(in_range("lsh_predict_mem_len", lsh_predict_mem_len, 2, 1 << 24));
      TERRA_RETURN_IF_ERROR(in_range("lsh_predict_drop_len", lsh_predict_drop_len, 1, lsh_predict_mem_len));
    }
  }
  if (loss_sparsity > 0 && output_vocab() % loss_sparsity != 0) {
    return bad("loss_sparsity", loss_sparsity, "must divide the output vocabulary " + std::to_string(output_vocab()));
  }
  if (!(layernorm_eps > 0.0f && layernorm_eps < 1.0f)) {
    return Status::Error(ErrorCode::kCorruptModel,
                         "config field layernorm_eps = " + std::to_string(layernorm_eps) + ": must be in (0, 1)");
  }
  return Status::Ok();
}

Status ModelConfig::check_supported() const {
  auto unsupported = [](const std::string& what) {
    return Status::Error(ErrorCode::kUnsupported, what + " is not supported by this runtime version yet");
  };
  const int dh = d_model / n_heads;
  const bool mult_conv = n_encoder_layers > 0 && encoder_attention_type == AttentionType::kMultConv;
  bool any_mult_conv = mult_conv;
  for (AttentionType t : decoder_attention_types) any_mult_conv = any_mult_conv || t == AttentionType::kMultConv;
  if (any_mult_conv && (key_dim() != dh || value_dim() != dh)) {
    return unsupported("mult_conv attention with d_attention_key or d_attention_value other than d_model / n_heads");
  }
  if (!attention_bias) return unsupported("attention without biases (attention_bias false)");
  if (qkv_share_qk) return unsupported("mult_conv attention with share_qk");
  if (qkv_output_layer != 0) return unsupported("mult_conv attention with an output layer (output_layer_type)");
  if (qkv_v_concat != 0) return unsupported("mult_conv attention with v_concat_type other than none");
  if (loss_sparsity > 0 && loss_sparsity_type != 0) return unsupported("loss_sparsity_type other than mult");
  if (loss_d_lowrank != 0) return unsupported("loss_d_lowrank");
  if (ff_sparsity > 0 && ff_sparsity_type != 0) return unsupported("ff_sparsity_type other than 1inN");
  if (n_layers_forget != 0) return unsupported("n_layers_forget (forgetting blocks)");
  if (block_type == BlockType::kResidual && (n_encoder_layers > 0 || decoder_output != DecoderOutput::kMean)) {
    return unsupported("residual blocks with an encoder or a concatenated output");
  }
  if (decoder_output == DecoderOutput::kConcat && loss_sparsity > 0) return unsupported("a concatenated output with a sparse loss");
  if (n_encoder_layers > 0 && encoder_attention_type == AttentionType::kMultConv) {
    return unsupported(std::string("encoder attention type '") + attention_type_name(encoder_attention_type) + "'");
  }
  return Status::Ok();
}

LshDims lsh_dims(const ModelConfig& c, bool decoder) {
  return decoder ? LshDims{c.key_dim(), c.value_dim()} : LshDims{c.head_dim(), c.head_dim()};
}

std::vector<int> ModelConfig::lsh_factors() const {
  if (lsh_buckets_derived()) return {};
  return lsh_bucket_factors.empty() ? std::vector<int>{lsh_n_buckets} : lsh_bucket_factors;
}

int ModelConfig::lsh_rotation_half() const {
  int sum = 0;
  for (int f : lsh_factors()) sum += f;
  return sum / 2;
}

bool ModelConfig::decoder_uses_lsh() const {
  return std::find(decoder_attention_types.begin(), decoder_attention_types.end(), AttentionType::kLSH) !=
         decoder_attention_types.end();
}

bool ModelConfig::uses_lsh() const {
  return decoder_uses_lsh() || (n_encoder_layers > 0 && encoder_attention_type == AttentionType::kLSH);
}

bool ModelConfig::operator==(const ModelConfig& o) const {
#define TERRA_CONFIG_EQUAL(type, name, default_value, json) &&name == o.name
  return decoder_attention_types == o.decoder_attention_types && pos_bases == o.pos_bases &&
         lsh_bucket_factors == o.lsh_bucket_factors
      TERRA_CONFIG_SCALARS(TERRA_CONFIG_EQUAL);
#undef TERRA_CONFIG_EQUAL
}

}  // namespace terra
