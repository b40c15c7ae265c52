// trax's language-model classes as terra models: from a model class and its gin bindings, the
// terra config and, for every leaf of trax's flattened weights (fastmath.tree_flatten of the model's
// layer tree, depth-first in construction order, empty weights skipped), the terra tensor it fills.
// Supported: TransformerLM, ConfigurableTransformerLM, ReformerLM, ConfigurableTerraformer
// (trax/models/transformer.py, research/configurable_transformer.py, reformer/reformer.py,
// research/terraformer.py). What terra cannot run is refused, naming the gin binding and value.
// docs/trax-import.md walks through each class.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "trax/gin.h"

namespace terra::trax {

struct Leaf {
  enum class Op : uint8_t {
    kWhole,      // the terra tensor, in trax's shape (a reshape at most: same elements, same order)
    kPart,       // the next piece of a tensor assembled from consecutive leaves, in order
    kHeadsIn,    // SelfAttention w_q / w_k / w_v [H, d, dh] -> Dense kernel [d, H*dh]
    kHeadsOut,   // SelfAttention w_o [H, dv, d] -> Dense kernel [H*dv, d]
    kIgnore,     // not used by terra (the bias of a LayerNorm with center=False)
    kMean,       // one of the leaves whose elementwise mean is the tensor (PureLSHSelfAttentionWrapper's
                 // q and k Dense layers: trax averages their outputs into the shared qk)
  };
  std::string tensor;
  std::vector<int64_t> shape;  // trax's
  Op op = Op::kWhole;
};

// An LSH attention layer, whose rotations trax draws from keys in the layer's state (they are not
// weights): jax.random.normal(key, [dk, n_hashes, rot / 2]) per head (rot: n_buckets, or the sum of its factors).
struct LshLayer {
  std::string prefix;  // terra's, e.g. "decoder.layers.1.attn.0"; the tensor: prefix + ".rotations" (or ".hash_keys")
  bool encoder = false;  // trax runs the encoder in eval mode: it hashes with split(key)[1]
  int64_t heads = 0, dk = 0, columns = 0;  // columns: n_hashes * rot / 2 (0 when derived)
  // n_buckets None: the count (and so the rotations' shape) follows each call's length; the file
  // keeps the key each head hashes with (prefix + ".hash_keys"), the runtime draws per call.
  bool derived = false;
};

struct ModelDescription {
  std::string model_class;  // short name, e.g. "ConfigurableTerraformer"
  ModelConfig config;
  std::vector<Leaf> leaves;         // in trax's order
  std::vector<LshLayer> lsh;        // in trax's order (its state's order)
  std::vector<std::string> zeros;   // terra tensors the checkpoint has no leaf for: zeros (bias-free attention)
  std::vector<std::string> notes;   // what the import decided, for the converter's output
};

// The model classes this reads, by short name.
const std::vector<std::string>& supported_model_classes();

// The model class a config.gin trains: `train.model = @...` (or `Loop`/`model` bindings), else the
// one supported class that has bindings.
Result<std::string> find_model_class(const GinConfig& gin);

// `vocab_hint`: rows of the checkpoint's first leaf (the embedding), used when the gin file does not
// bind the vocabulary size (trax passes it as an argument when it is not configured).
Result<ModelDescription> describe_model(const GinConfig& gin, const std::string& model_class, int64_t vocab_hint);

}  // namespace terra::trax
