// Builds small model files for tests through the converter's own code path, with hooks to
// damage the plan (wrong shapes, missing or extra tensors) the way a broken converter would.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>

#include "convert.h"
#include "model_writer.h"

namespace terra::test {

inline ModelConfig tiny_config(bool sparse) {
  ModelConfig c;
  c.vocab_size = 260;
  c.d_model = 16;
  c.d_ff = 32;
  c.n_heads = 2;
  c.n_decoder_layers = 2;
  c.max_len = 64;
  if (sparse) {
    c.ff_sparsity = 4;
    c.d_lowrank = 4;
  }
  return c;
}

inline std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/terra-test-" + std::to_string(::getpid()) + "-" + name;
}

// Writes `file_config` as the header and tensors planned from `tensor_config`, each planned
// tensor passed through `edit` (which may change it or return false to drop it).
inline Status write_model(const std::string& path, const ModelConfig& file_config, const ModelConfig& tensor_config,
                          const std::function<bool(PlannedTensor&)>& edit = nullptr,
                          const std::vector<PlannedTensor>& extra = {}) {
  std::vector<PlannedTensor> plan;
  for (const TensorSpec& s : model_tensors(tensor_config)) {
    int64_t n = 1;
    for (int64_t d : s.stored_shape) n *= d;
    PlannedTensor t{s.name, DType::kF32, s.layout, s.stored_shape, 0, uint64_t(n) * 4};
    if (edit && !edit(t)) continue;
    plan.push_back(t);
  }
  for (const PlannedTensor& t : extra) plan.push_back(t);
  ModelWriter w;
  TERRA_RETURN_IF_ERROR(w.open(path, file_config, TokenizerInfo{}, {{"name", "test"}}, plan));
  for (const PlannedTensor& t : plan) {
    std::vector<float> v(t.bytes / 4);
    for (size_t i = 0; i < v.size(); ++i) v[i] = 0.01f * float(int(i % 97) - 48);
    TERRA_RETURN_IF_ERROR(w.write_next(v));
  }
  return w.finish();
}

inline Status write_random_model(const std::string& path, const ModelConfig& c, uint64_t seed = 1) {
  CheckpointConfig cc;
  cc.model = c;
  return convert(cc, random_source(c, seed), path, ConvertOptions{}, nullptr);
}

}  // namespace terra::test
