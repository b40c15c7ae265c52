#include "model/weights.h"

#include <set>

#include "model/model_file.h"

namespace terra {

// Each slot of the one walk (model/tensor_spec.cpp) points at its tensor's bytes in the file,
// checked against the expected shape, layout and dtype; a tensor the walk does not know is refused.
Result<ModelWeights> bind_weights(const ModelFile& file) {
  const ModelConfig& c = file.config();
  ModelWeights w;
  std::set<std::string> expected;
  for (const TensorSlot& slot : model_tensor_slots(c, &w)) {
    TERRA_ASSIGN_OR_RETURN(const TensorView* t, file.find(slot.spec));
    expected.insert(slot.spec.name);
    if (slot.matrix) {
      const int64_t cols = t->shape.back();
      *slot.matrix = MatrixRef::of(t->data, t->dtype, cols ? t->elements() / cols : 0, cols);
    } else {
      *slot.values = static_cast<const float*>(t->data);
    }
  }
  for (const TensorView& t : file.tensors()) {
    if (!expected.count(t.name)) {
      return Status::Error(ErrorCode::kCorruptModel,
                           file.path() + ": tensor '" + t.name + "' is not part of a model with this config");
    }
  }
  if (c.output_vocab_size == 0) w.decoder_embedding = w.embedding;  // the decoder shares the input embedding
  return w;
}

}  // namespace terra
