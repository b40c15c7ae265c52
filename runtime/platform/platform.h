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

  // copy: read the file into private memory instead of mapping it. A mapped file that another
  // process truncates kills this one with SIGBUS at the next read of a lost page; a copy cannot
  // change (for files on shared or network storage that may be rewritten in place).
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path, bool copy = false);
  // `size` bytes at `offset` of an open descriptor, which the caller keeps owning: an Android
  // app's uncompressed asset (AAsset_openFileDescriptor) maps in place inside the APK this way.
  // `name` is what errors call it.
  static Result<std::unique_ptr<MappedFile>> open_descriptor(int fd, uint64_t offset, uint64_t size,
                                                             const std::string& name);
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  bool copied() const { return copy_ != nullptr; }

 private:
  const uint8_t* data_ = nullptr;  // the model's first byte
  size_t size_ = 0;
  void* mapping_ = nullptr;        // page-aligned start of the mapping (data_ may be past it)
  size_t mapping_size_ = 0;
  void* copy_ = nullptr;           // or: page-aligned private memory holding the bytes
  std::string path_;
};

// Whether something (file, folder, device ...) exists at path.
bool path_exists(const std::string& path);
// The contents of a regular file of at most max_bytes (a FIFO, a device such as /dev/zero or a
// folder is refused by name, without reading it).
Result<std::string> read_file(const std::string& path, uint64_t max_bytes);

double monotonic_seconds();
// Time the calling thread has spent ready to run but waiting for a processor (other programs
// holding the cores), in seconds since it started; negative when the OS cannot tell.
double thread_wait_seconds();
// Peak resident set size of this process so far, in bytes (0 when the OS cannot tell).
size_t peak_rss_bytes();
// Physical memory of this machine in bytes (0 when the OS cannot tell).
uint64_t physical_memory_bytes();

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
