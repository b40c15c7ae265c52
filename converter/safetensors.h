// Reads a .safetensors file (8-byte little-endian header length, JSON header, raw data) in place
// from a mapping. Used by the converter and by the tests that load golden data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/platform.h"

namespace terra {

struct SafetensorsEntry {
  std::string dtype;  // "F32", "F16", "BF16", "I32", ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
};

class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);

  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const SafetensorsEntry* find(const std::string& name) const;
  // The tensor's values as f32 (from F32, F16 or BF16).
  Result<std::vector<float>> read_f32(const std::string& name) const;
  Result<std::vector<int32_t>> read_i32(const std::string& name) const;
  const std::string& path() const { return file_->path(); }

 private:
  std::unique_ptr<platform::MappedFile> file_;
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace terra
