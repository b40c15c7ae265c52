// Token embedding and positional encodings (docs/terraformer.md, "Positions").
#pragma once

#include "model/config.h"
#include "model/weights.h"

namespace terra {

// out = embedding[token] (no scaling, as trax).
void embed_token(const MatrixRef& embedding, int token, float* out);

// x += positional encoding of absolute position `pos` (counted from 0 at the start token).
// fixed-base: digit i of pos in base b, times the learned vector [b, i], concatenated over digits
// and summed over bases; plus start_vec at position 0 only. learned: x += table[pos], or with trax's
// d_feature x += dense · table[pos] (trax's eval mode; see docs/terraformer.md on its predict mode).
void add_position(const PositionWeights& w, const ModelConfig& c, int pos, float* x);

}  // namespace terra
