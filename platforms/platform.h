// What differs per OS or board, behind one small interface. The runtime core includes no OS
// header: it maps files, reads clocks, asks for memory figures and CPU features, and places its
// threads only through here.
//   linux/    Linux and Android (same kernel calls; Android-only parts under __ANDROID__)
//   android/  the JNI bridge an Android app loads (over the C API)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace terra::platform {

// A read-only mapping of a whole file (or of one part of it); unmapped when destroyed.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  // `size` bytes at `offset` of an open descriptor, which the caller keeps owning: an Android
  // app's uncompressed asset (AAsset_openFileDescriptor) maps in place inside the APK this way.
  // `name` is what errors call it.
  static Result<std::unique_ptr<MappedFile>> open_descriptor(int fd, uint64_t offset, uint64_t size,
                                                             const std::string& name);
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;  // the model's first byte
  size_t size_ = 0;
  void* mapping_ = nullptr;        // page-aligned start of the mapping (data_ may be past it)
  size_t mapping_size_ = 0;
  std::string path_;
};

double monotonic_seconds();
// Peak resident set size of this process so far, in bytes (0 when the OS cannot tell).
size_t peak_rss_bytes();

// What the kernel sets need to know about the CPU, as the OS reports it (cpuid, hwcaps).
struct CpuFeatures {
  bool x86_avx2_fma3_f16c = false;
  bool x86_avx512f = false;
  bool arm_neon_fp16 = false;  // NEON with half <-> single conversion
  bool arm_dotprod = false;    // ARMv8.2 SDOT/UDOT
  std::string name;            // e.g. "Intel Xeon ..." or "Cortex-A53", empty when unknown
};
const CpuFeatures& cpu_features();

// Processors this process may run on.
size_t cpu_count();
// The processors compute threads should run on, fastest first: on big.LITTLE boards and phones
// the big cores (highest maximum frequency), else all of them.
std::vector<int> performance_cpus();
// Pins the calling thread to one processor; false when the OS refuses or cannot.
bool pin_current_thread(int cpu);

}  // namespace terra::platform
