#include "layers/layer_stack.h"

#include "layers/attention_layers.h"
#include "layers/feed_forward_layer.h"

namespace terra {

LayerStack make_decoder_layers(const ModelWeights& w, const ModelConfig& c, LayerScratch& s) {
  LayerStack stack;
  for (const LayerWeights& layer : w.decoder) {
    for (const AttentionWeights& aw : layer.attention) {
      if (aw.type == AttentionType::kMultConv) {
        stack.push_back(std::make_unique<MultConvAttentionLayer>(aw, c, s));
      } else if (aw.type == AttentionType::kLSH) {
        stack.push_back(std::make_unique<LshAttentionLayer>(aw, c, s, /*decoder=*/true));
      } else {
        stack.push_back(std::make_unique<DenseAttentionLayer>(aw, c, s, /*causal=*/true));
      }
    }
    stack.push_back(std::make_unique<FeedForwardLayer>(layer.ff, c, s, /*decoder=*/true));
  }
  return stack;
}

LayerStack make_encoder_layers(const ModelWeights& w, const ModelConfig& c, LayerScratch& s) {
  LayerStack stack;
  for (const LayerWeights& layer : w.encoder) {
    const AttentionWeights& aw = layer.attention[0];
    if (aw.type == AttentionType::kLSH) {
      stack.push_back(std::make_unique<LshAttentionLayer>(aw, c, s, /*decoder=*/false));
    } else {
      stack.push_back(std::make_unique<DenseAttentionLayer>(aw, c, s, /*causal=*/false));
    }
    stack.push_back(std::make_unique<FeedForwardLayer>(layer.ff, c, s, /*decoder=*/false));
  }
  return stack;
}

}  // namespace terra
