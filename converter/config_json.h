// config.json (docs/checkpoint-format.md) -> ModelConfig, tokenizer and metadata.
#pragma once

#include <map>
#include <string>

#include "model/config.h"
#include "model/model_file.h"

namespace terra {

struct CheckpointConfig {
  ModelConfig model;
  TokenizerInfo tokenizer;
  std::map<std::string, std::string> metadata;  // name, source, license
};

Result<CheckpointConfig> read_config_json(const std::string& path);

}  // namespace terra
