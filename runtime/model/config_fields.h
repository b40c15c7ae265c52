// ModelConfig's scalar fields, listed once: X(type, name, default, json). Everything that moves a
// config field by field expands this list: the struct (model/config.h), the model file's reader
// (model/model_file.cpp) and writer (converter/model_writer.cpp), the config.json reader
// (converter/config_json.cpp) and the round-trip test (tests/test_config_fields.cpp). The model
// file's Config table (schema/terra.fbs) has a field of the same name and default for each; the
// test proves it. `json` says how config.json spells the field:
//   REQUIRED, INT, BOOL, FLOAT: the same name, that JSON type;
//   CUSTOM: read by hand in converter/config_json.cpp (a string choice, or part of a pair).
// The three list fields (decoder_attention_types, pos_bases, lsh_bucket_factors) are moved by hand in each place.
#pragma once

#define TERRA_CONFIG_SCALARS(X)                                                                      \
  X(int, vocab_size, 0, REQUIRED)                                                                    \
  X(int, d_model, 0, REQUIRED)                                                                       \
  X(int, d_ff, 0, REQUIRED)                                                                          \
  X(int, n_heads, 0, REQUIRED)                                                                       \
  X(int, n_encoder_layers, 0, INT)                                                                   \
  X(int, n_decoder_layers, 0, REQUIRED)                                                              \
  X(int, n_decoder_attention_layers, 2, INT)                                                         \
  /* decoder stack: trax's reversible two-stream blocks, or pre-LN residual blocks */                \
  X(BlockType, block_type, BlockType::kReversible, CUSTOM)                                           \
  X(DecoderOutput, decoder_output, DecoderOutput::kMean, CUSTOM)                                     \
  X(AttentionType, encoder_attention_type, AttentionType::kDense, CUSTOM)                            \
  X(int, ff_sparsity, 0, INT) /* N units per block; 0 = dense FF */                                  \
  X(int, d_lowrank, 0, INT)   /* controller rank r */                                                \
  X(int, sru_layers, 0, CUSTOM) /* config.json: ff_use_sru = [layers, width] */                      \
  X(int, sru_width, 0, CUSTOM)                                                                       \
  X(int, qkv_sparsity, 1, INT) /* S of multiplicative-conv attention */                              \
  X(int, qkv_kernel_size, 3, INT)                                                                    \
  X(int, qkv_length_kernel, 3, INT)                                                                  \
  X(int, loss_sparsity, 0, INT) /* 0 = dense loss layer */                                           \
  X(PosEncoding, pos_encoding, PosEncoding::kFixedBase, CUSTOM) /* config.json: pos_type */          \
  X(int, pos_n_digits, 8, INT)                                                                       \
  /* learned table of this width times a [d_feature, d] matrix (trax's d_feature); 0 = d_model */    \
  X(int, pos_d_feature, 0, INT)                                                                      \
  X(bool, center_layernorm, true, BOOL)                                                              \
  X(float, layernorm_eps, 1e-6f, FLOAT)                                                              \
  X(int, max_len, 2048, INT)                                                                         \
  X(bool, reversible_encoder, false, BOOL)                                                           \
  /* LSH attention (docs/lsh-attention.md); n_chunks_after is the encoder's (the decoder's is 0) */   \
  X(int, lsh_chunk_len, 0, INT)                                                                      \
  X(int, lsh_n_buckets, 0, CUSTOM) /* an even int, or trax's list of factors; 0: from the length */ \
  X(int, lsh_n_hashes, 0, INT)                                                                       \
  X(int, lsh_n_chunks_before, 0, INT)                                                                \
  X(int, lsh_n_chunks_after, 0, INT)                                                                 \
  X(int, lsh_predict_mem_len, 0, INT)                                                                \
  X(int, lsh_predict_drop_len, 0, INT)                                                               \
  /* biases on LSH attention's qk, v and o (trax PureLSHSelfAttentionWrapper's Dense layers) */       \
  X(bool, lsh_bias, false, BOOL)                                                                     \
  /* trax options recorded so the format need not change when the runtime learns them; values */    \
  /* other than the defaults are refused by check_supported() with the option's name */              \
  X(int, d_attention_key, 0, INT) /* per head; 0 = d_model / n_heads */                              \
  X(int, d_attention_value, 0, INT)                                                                  \
  X(bool, attention_bias, true, BOOL)                                                                \
  X(bool, qkv_share_qk, false, BOOL)                                                                 \
  X(int, qkv_output_layer, 0, CUSTOM)   /* 0 none, 1 mult, 2 conv, 3 multconv */                     \
  X(int, qkv_v_concat, 0, CUSTOM)       /* 0 none, 1 fixed, 2 original */                            \
  X(int, loss_sparsity_type, 0, CUSTOM) /* 0 mult, 1 lowrank, 2 einsum, 3 local, 4 local3 */         \
  X(int, loss_d_lowrank, 0, INT)                                                                     \
  X(int, ff_sparsity_type, 0, CUSTOM) /* 0 1inN, 1 Block, 2 Switch */                                \
  X(int, ff_activation, 0, CUSTOM)    /* 0 relu, 1 gelu, 2 fast gelu */                              \
  X(int, n_layers_forget, 0, INT)                                                                    \
  X(bool, forget_dense, true, BOOL)                                                                  \
  X(bool, use_two_swaps_per_encoder_block, true, BOOL)                                               \
  X(int, output_vocab_size, 0, INT) /* 0 = vocab_size */
