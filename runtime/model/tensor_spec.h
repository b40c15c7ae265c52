// The one walk over which tensors a model has: for each, its name, shapes, layout and the field of
// ModelWeights it fills. The converter reads it as a list (what to read from a checkpoint and how
// to re-lay it); the loader binds each slot to the tensor's bytes in the file (model/weights.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace terra {

enum class Layout : uint8_t { kRowMajor = 0, kOutIn = 1, kNeuronMajor = 2 };

// How the converter turns the checkpoint (trax) order into the stored order.
enum class Transform : uint8_t {
  kCopy,          // same order
  kTranspose2D,   // source seen as [shape[0], rest] -> [rest, shape[0]]
  kSwapFirstTwo,  // [a, b, c] -> [b, a, c]
  kTransposeLast2,  // [..., i, o] -> [..., o, i]
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> source_shape;  // in the checkpoint (trax order)
  std::vector<int64_t> stored_shape;  // in the model file
  Layout layout = Layout::kRowMajor;
  Transform transform = Transform::kCopy;
  bool matrix = false;  // weight matrices and the embedding take the file's dtype; the rest stay f32
};

const char* layout_name(Layout l);

struct MatrixRef;
struct ModelWeights;

// A tensor and the field it fills: a matrix view, or a pointer to f32 values.
struct TensorSlot {
  TensorSpec spec;
  MatrixRef* matrix = nullptr;
  const float** values = nullptr;
};

// Every tensor of a model with this config, in file order, with the field of `weights` it fills.
// `weights` gets its structure (layer counts, kinds, sizes) here; the slots point into it, so it
// must not be resized afterwards.
std::vector<TensorSlot> model_tensor_slots(const ModelConfig& config, ModelWeights* weights);
// The same walk, the specs alone.
std::vector<TensorSpec> model_tensors(const ModelConfig& config);

std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace terra
