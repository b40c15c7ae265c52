// How many weight bytes one decoded token reads, from the model file's tensors: the floor of
// batch-1 decoding is this divided by the memory bandwidth. Dense layers count in full; the
// sparse FF counts its controller and only the B selected rows of w1 and w2; the embedding and a
// learned position table one row; the encoder nothing (it runs once per input).
#pragma once

#include <cstdint>

namespace terra {

class ModelFile;

struct Footprint {
  uint64_t weight_bytes_per_token = 0;
  uint64_t weight_bytes_total = 0;
  // Multiply-adds of the weight matrices per prompt token (the decoder without its loss layer: a
  // prompt needs the last position's logits only) and per encoder input token; the bench's prompt
  // GFLOP/s count these. Attention's scores and sums are not counted (a few % at 256 tokens).
  uint64_t prompt_macs_per_token = 0;
  uint64_t input_macs_per_token = 0;
};

Footprint weight_footprint(const ModelFile& file);

}  // namespace terra
