// Named configurations of the paper's Table 1 for `terra-convert --synthesize NAME`, so the
// published comparisons can be benchmarked with random weights of the right shapes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config_json.h"

namespace terra {

struct Preset {
  std::string name;
  std::string description;
  CheckpointConfig config;
};

const std::vector<Preset>& presets();
const Preset* find_preset(const std::string& name);

}  // namespace terra
