// The branches of a stack in the order they run: per layer, its attention sub-layers, then its
// feed-forward. Which layer class serves which weights is decided here and nowhere else.
#pragma once

#include <memory>
#include <vector>

#include "layers/layer.h"
#include "model/weights.h"

namespace terra {

using LayerStack = std::vector<std::unique_ptr<Layer>>;

LayerStack make_decoder_layers(const ModelWeights& w, const ModelConfig& c, LayerScratch& s);
// The encoder's: full attention over the input, the SRU restarted for each input.
LayerStack make_encoder_layers(const ModelWeights& w, const ModelConfig& c, LayerScratch& s);

}  // namespace terra
