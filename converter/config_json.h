// config.json (docs/checkpoint-format.md) -> ModelConfig, tokenizer and metadata.
#pragma once

#include <map>
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/tokenizer_info.h"

namespace terra {

struct CheckpointConfig {
  ModelConfig model;
  TokenizerInfo tokenizer;              // its model pointer refers to tokenizer_model
  std::vector<uint8_t> tokenizer_model;  // SentencePiece model proto bytes
  std::map<std::string, std::string> metadata;  // name, source, license
};

// Inputs larger than these are refused by name, unread.
inline constexpr uint64_t kMaxConfigBytes = uint64_t(16) << 20;
inline constexpr uint64_t kMaxTokenizerBytes = uint64_t(64) << 20;

Result<CheckpointConfig> read_config_json(const std::string& path);

// trax's n_buckets as given (an int is one factor; a list, hash_vecs' factors) into the config:
// lsh_n_buckets their product (capped at 2^20 for validation to refuse), lsh_bucket_factors the
// list when it factorizes (trax hashes a one-entry list as the int). Ranges are checked by
// ModelConfig::validate.
void set_lsh_buckets(ModelConfig& c, const std::vector<int>& factors);

}  // namespace terra
