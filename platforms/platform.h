// What differs per OS or board, behind one small interface. The runtime core includes no OS
// header: it maps files, reads clocks and asks for memory figures only through here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace terra::platform {

// A read-only mapping of a whole file; unmapped when destroyed.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

double monotonic_seconds();
// Peak resident set size of this process so far, in bytes (0 when the OS cannot tell).
size_t peak_rss_bytes();

}  // namespace terra::platform
