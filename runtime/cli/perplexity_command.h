#pragma once

#include <string>

namespace terra::cli {

struct PerplexityArgs {
  std::string model_path;
  std::string text_path;
  int window = 256;
  int threads = 1;
  bool json = false;
};

// Prints the perplexity of a text file under the model (definition: runtime/decoder/perplexity.h).
int run_perplexity(const PerplexityArgs& args);

}  // namespace terra::cli
