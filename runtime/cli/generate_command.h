#pragma once

#include <string>

#include "decoder/session.h"
#include "sampler/sampler.h"

namespace terra::cli {

struct GenerateArgs {
  std::string model_path;
  std::string prompt;
  std::string ids;  // the prompt as token ids ("0 3 7 5"), fed as given; output is ids too
  bool ids_given = false;
  std::string input;  // encoder-decoder models: text, or a file to read it from
  bool input_given = false;
  std::string input_ids;  // encoder-decoder models: the input as token ids
  bool input_ids_given = false;
  int beams = 0;  // > 0: beam search with this many beams (trax's decoding.beam_search)
  int n_tokens = 64;
  SessionOptions session;
  LoadOptions load;
  SamplerOptions sampler;
  bool seed_given = false;
  bool ignore_end = false;
  bool print_ids = false;  // a JSON line of the prompt and generated ids on stderr (tests)
};

// Streams the continuation of the prompt to stdout, statistics to stderr. Returns an exit code.
int run_generate(const GenerateArgs& args);

}  // namespace terra::cli
