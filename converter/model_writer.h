// Writes a .terra file: the FlatBuffer table first, then the page-aligned data region with each
// tensor at a 64-byte aligned offset. Tensors are streamed one at a time in plan order, so a
// model larger than memory converts; the table is rewritten at the end with each tensor's
// checksum, and the file appears under its name only when complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "model/config.h"
#include "model/model_file.h"
#include "model/tensor_spec.h"

namespace terra {

struct PlannedTensor {
  std::string name;
  DType dtype = DType::kF32;
  Layout layout = Layout::kRowMajor;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // filled by the writer
  uint64_t bytes = 0;
  uint64_t checksum = 0;  // filled by the writer
};

class ModelWriter {
 public:
  ~ModelWriter();
  Status open(const std::string& path, const ModelConfig& config, const TokenizerInfo& tokenizer,
              const std::map<std::string, std::string>& metadata, std::vector<PlannedTensor> tensors);
  // Writes the next tensor's values, given in stored order as f32, converted to its dtype.
  Status write_next(const float* values, size_t count);
  Status write_next(const std::vector<float>& values) { return write_next(values.data(), values.size()); }
  Status finish();
  uint64_t file_size() const { return file_size_; }

 private:
  Status write_bytes(const void* p, size_t n);
  Status write_data(const void* p, size_t n);  // data region: zero runs become holes
  std::vector<uint8_t> table(uint64_t data_offset) const;
  std::string path_, temp_path_;
  ModelConfig config_;
  TokenizerInfo tokenizer_;
  std::map<std::string, std::string> metadata_;
  uint64_t data_size_ = 0;
  FILE* out_ = nullptr;
  std::vector<PlannedTensor> tensors_;
  size_t next_ = 0;
  uint64_t data_offset_ = 0, written_ = 0, file_size_ = 0;
};

}  // namespace terra
