// trax's weights file: a gzip stream of back-to-back NPY records (np.save of each flat weight,
// layers/base.py np_to_file), bfloat16 weights stored as uint16 bits. Read by decompressing once
// into an unlinked temporary file that is then mapped: a checkpoint larger than memory converts,
// and the converter can take the weights in any order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/platform.h"

namespace terra::trax {

struct NpyRecord {
  std::string dtype;  // numpy type string, e.g. "<f4", "<u2"
  std::vector<int64_t> shape;
  bool fortran = false;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
};

// The NPY records of a byte range, in order; an error names `name`, the record and the problem.
Result<std::vector<NpyRecord>> parse_npy_records(const uint8_t* data, size_t size, const std::string& name);

class GzipFile {
 public:
  // Decompresses `path` (gzip, one or more members) into a mapped temporary file.
  static Result<std::unique_ptr<GzipFile>> open(const std::string& path);
  // Decompresses bytes already in memory (tests, fuzzing).
  static Result<std::unique_ptr<GzipFile>> from_memory(const uint8_t* data, size_t size, const std::string& name);
  const uint8_t* data() const { return map_ ? map_->data() : nullptr; }
  size_t size() const { return map_ ? map_->size() : 0; }

 private:
  std::unique_ptr<platform::MappedFile> map_;
};

}  // namespace terra::trax
