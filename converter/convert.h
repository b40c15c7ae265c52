// Turns checkpoint-order weights into a model file: checks each tensor against the config,
// re-lays it for the runtime (kernels [in, out] -> [out, in]; sparse FF w1, w2 neuron-major),
// converts to the chosen dtype and streams it to the writer.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config_json.h"
#include "core/dtype.h"
#include "model/tensor_spec.h"
#include "safetensors.h"

namespace terra {

// Produces one tensor's values in checkpoint (trax) order.
using TensorSource = std::function<Result<std::vector<float>>(const TensorSpec&)>;

// A per-tensor dtype: tensors whose name matches the glob `pattern` (fnmatch) take `dtype`.
struct DTypeOverride {
  std::string pattern;
  DType dtype;
};

struct ConvertOptions {
  DType dtype = DType::kF32;  // of weight matrices and the embedding; vectors stay f32
  std::vector<DTypeOverride> overrides;  // later ones win
  bool progress = false;
};

// The dtype a tensor is stored in: vectors f32; matrices the option's dtype or the last matching
// override; int4 falls back to int8 for rows not a multiple of 32 (recorded in the file per tensor).
DType choose_dtype(const TensorSpec& spec, const ConvertOptions& options);
// "f32" | "f16" | "int8" | "int4" (also "i8", "i4", "q8", "q4").
Result<DType> parse_dtype(const std::string& name);

struct ConvertSummary {
  std::map<std::string, uint64_t> parameters_by_kind;
  uint64_t parameters = 0;
  uint64_t file_size = 0;
  std::map<std::string, uint64_t> bytes_by_dtype;  // tensor bytes per stored dtype
};

// Every required tensor present with its shape, nothing unexpected; the error names the tensor,
// the expected and the found shape.
Status check_checkpoint(const SafetensorsFile& weights, const ModelConfig& config);
TensorSource checkpoint_source(const SafetensorsFile& weights);
// Random weights that keep activations O(1) (the reference's recipe), for benchmarks and demos.
TensorSource random_source(const ModelConfig& config, uint64_t seed);

Status convert(const CheckpointConfig& config, const TensorSource& source, const std::string& out_path,
               const ConvertOptions& options, ConvertSummary* summary);

// Stored order from checkpoint order, as spec.transform says.
std::vector<float> relayout(const TensorSpec& spec, const std::vector<float>& src);

}  // namespace terra
