#pragma once

#include <cstdint>
#include <string>

#include "model/model.h"

namespace terra::cli {

struct PerplexityArgs {
  std::string model_path;
  std::string text_path;
  int window = 256;
  int threads = 1;
  bool json = false;
  bool stepwise = false;  // score through step(), the decoding path, instead of blocks
  uint64_t max_memory = 0;  // session arena limit in bytes (0 = the default)
  LoadOptions load;
};

// Prints the perplexity of a text file under the model (definition: runtime/decoder/perplexity.h).
int run_perplexity(const PerplexityArgs& args);

}  // namespace terra::cli
