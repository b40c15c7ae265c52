// What the fuzz targets share: the fuzzer's bytes as a file (a memfd, so the code under test maps
// or reads it exactly as it would a file on disk), and a reader of small values from the bytes.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace terra::fuzz {

class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) {
    fd_ = memfd_create("terra-fuzz", MFD_CLOEXEC);
    if (fd_ >= 0 && size > 0 && ::write(fd_, data, size) != ssize_t(size)) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~MemFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_ = -1;
};

// Takes fixed-size values from the front of the input, then the rest as bytes.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  template <typename T>
  T take() {
    T v{};
    const size_t k = n_ < sizeof(T) ? n_ : sizeof(T);
    std::memcpy(&v, p_, k);
    p_ += k;
    n_ -= k;
    return v;
  }
  std::string rest() { return std::string(reinterpret_cast<const char*>(p_), n_); }

 private:
  const uint8_t* p_;
  size_t n_;
};

}  // namespace terra::fuzz
