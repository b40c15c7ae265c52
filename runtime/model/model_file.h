// A loaded .terra file: the mapping, the verified FlatBuffer table, the config and views of every
// tensor's bytes in place (no copies). Loading verifies everything a later read relies on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "model/config.h"
#include "model/tensor_spec.h"
#include "model/tokenizer_info.h"
#include "platform/platform.h"

namespace terra {

// The newest format version this runtime reads (it reads every older one too). A file declares
// the oldest version that can run it (required_format_version), so that a runtime from before a
// feature refuses a file that uses it instead of running it wrong: 2 added lsh_bias and a derived
// LSH bucket count (docs/model-format.md).
inline constexpr uint32_t kFormatVersion = 2;
struct ModelConfig;
uint32_t required_format_version(const ModelConfig& c);
inline constexpr uint64_t kDataRegionAlignment = 4096;  // page-aligned data region
inline constexpr uint64_t kTensorAlignment = 64;        // each tensor within it

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  Layout layout = Layout::kRowMajor;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  uint64_t bytes = 0;
  uint64_t checksum = 0;  // 0: not recorded
  int64_t elements() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
};

class ModelFile {
 public:
  static Result<std::unique_ptr<ModelFile>> load(const std::string& path);
  // A model already mapped (e.g. part of an Android APK: platform::MappedFile::open_descriptor).
  static Result<std::unique_ptr<ModelFile>> load(std::unique_ptr<platform::MappedFile> mapped);

  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }
  uint64_t data_offset() const { return data_offset_; }
  // Offset of a tensor's first byte in the file.
  uint64_t file_offset(const TensorView& t) const {
    return uint64_t(static_cast<const uint8_t*>(t.data) - file_->data());
  }
  const ModelConfig& config() const { return config_; }
  const TokenizerInfo& tokenizer() const { return tokenizer_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // Reads every tensor and compares its checksum; the error names the first damaged tensor.
  Status verify_checksums() const;
  // The tensor `name`, checked against the expected stored shape, layout and dtypes.
  Result<const TensorView*> find(const TensorSpec& spec) const;

 private:
  Status parse();
  std::unique_ptr<platform::MappedFile> file_;
  ModelConfig config_;
  TokenizerInfo tokenizer_;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> by_name_;
  uint64_t data_offset_ = 0;
};

}  // namespace terra
