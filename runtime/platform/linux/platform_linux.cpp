// Linux implementation of platform/platform.h; Android builds it too (same kernel, bionic libc),
// with its few differences under __ANDROID__.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cpuinfo.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "platform/platform.h"

namespace terra::platform {

MappedFile::~MappedFile() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
  std::free(copy_);
}

namespace {
// Opens a regular file for reading. O_NONBLOCK: opening a FIFO must not wait for a writer before
// fstat can tell it is not a regular file.
Result<int> open_regular(const std::string& path, struct stat* st) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::Error(ErrorCode::kIo, path + ": cannot open: " + std::strerror(errno));
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    ::close(fd);
    return Status::Error(ErrorCode::kIo, path + ": not a regular file");
  }
  return fd;
}

// Reads exactly n bytes at the descriptor's current position.
Status read_all(int fd, void* dst, size_t n, const std::string& path) {
  auto* p = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const ssize_t got = ::read(fd, p, std::min<size_t>(n, size_t(1) << 30));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return Status::Error(ErrorCode::kIo, path + ": read failed: " + (got < 0 ? std::strerror(errno) : "the file shrank"));
    }
    p += got;
    n -= size_t(got);
  }
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path, bool copy) {
  struct stat st {};
  TERRA_ASSIGN_OR_RETURN(auto fd, open_regular(path, &st));
  if (!copy) {
    auto result = open_descriptor(fd, 0, uint64_t(st.st_size), path);
    ::close(fd);  // the mapping stays valid without the descriptor
    return result;
  }
  const uint64_t size = uint64_t(st.st_size);
  if (size > uint64_t(SIZE_MAX) / 2) {
    ::close(fd);
    return Status::Error(ErrorCode::kIo, path + ": too large to load on this machine");
  }
  auto file = std::make_unique<MappedFile>();
  file->path_ = path;
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  file->copy_ = size == 0 ? nullptr : std::aligned_alloc(page, (size_t(size) + page - 1) / page * page);
  if (size > 0 && file->copy_ == nullptr) {
    ::close(fd);
    return Status::Error(ErrorCode::kOutOfMemory, path + ": cannot allocate " + std::to_string(size) +
                                                      " bytes to load it into memory");
  }
  Status read = read_all(fd, file->copy_, size_t(size), path);
  ::close(fd);
  if (!read.ok()) return read;
  file->data_ = static_cast<const uint8_t*>(file->copy_);
  file->size_ = size_t(size);
  return file;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> read_file(const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  TERRA_ASSIGN_OR_RETURN(auto fd, open_regular(path, &st));
  if (uint64_t(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::Error(ErrorCode::kIo, path + ": " + std::to_string(st.st_size) + " bytes, more than the " +
                                             std::to_string(max_bytes) + " this reads");
  }
  std::string text(size_t(st.st_size), '\0');
  Status read = read_all(fd, text.data(), text.size(), path);
  ::close(fd);
  if (!read.ok()) return read;
  return text;
}

Result<std::unique_ptr<MappedFile>> MappedFile::open_descriptor(int fd, uint64_t offset, uint64_t size,
                                                                const std::string& name) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Status::Error(ErrorCode::kIo, name + ": not an open file");
  if (offset > uint64_t(st.st_size) || size > uint64_t(st.st_size) - offset) {
    return Status::Error(ErrorCode::kIo, name + ": range " + std::to_string(offset) + "+" + std::to_string(size) +
                                             " lies outside the file (" + std::to_string(st.st_size) + " bytes)");
  }
  if (size > uint64_t(SIZE_MAX) / 2) return Status::Error(ErrorCode::kIo, name + ": too large to map on this machine");
  auto file = std::make_unique<MappedFile>();
  file->path_ = name;
  if (size == 0) return file;
  // mmap offsets must be page-aligned: map from the page holding `offset`.
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  const uint64_t start = offset / page * page;
  const size_t length = size_t(offset - start + size);
  void* p = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, off_t(start));
  if (p == MAP_FAILED) return Status::Error(ErrorCode::kIo, name + ": cannot map: " + std::strerror(errno));
  file->mapping_ = p;
  file->mapping_size_ = length;
  file->data_ = static_cast<const uint8_t*>(p) + (offset - start);
  file->size_ = size_t(size);
  return file;
}

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double thread_wait_seconds() {
  // /proc/thread-self/schedstat: "<run ns> <runqueue wait ns> <timeslices>" (CONFIG_SCHED_INFO).
  // Read into the stack: the decode loop calls this and allocates nothing.
  const int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[96];
  const ssize_t got = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (got <= 0) return -1;
  buf[got] = 0;
  char* end = nullptr;
  std::strtoull(buf, &end, 10);
  if (end == buf) return -1;
  char* end2 = nullptr;
  const unsigned long long wait_ns = std::strtoull(end, &end2, 10);
  return end2 == end ? -1 : double(wait_ns) * 1e-9;
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

size_t peak_rss_bytes() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return size_t(ru.ru_maxrss) * 1024;  // kilobytes on Linux and Android
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
    if (!cpuinfo_initialize()) return f;  // unknown CPU: the portable kernels only
#if defined(__x86_64__) || defined(__i386__)
    f.x86_avx2_fma3_f16c = cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c();
    f.x86_avx512f = cpuinfo_has_x86_avx512f();
#elif defined(__aarch64__) || defined(__arm__)
    f.arm_neon_fp16 = cpuinfo_has_arm_neon() && cpuinfo_has_arm_neon_fp16();
    f.arm_dotprod = cpuinfo_has_arm_neon_dot();
#endif
    const cpuinfo_package* package = cpuinfo_get_package(0);
    if (package != nullptr && std::strcmp(package->name, "Unknown") != 0) f.name = package->name;
#if defined(__aarch64__) || defined(__arm__)
    // No marketing name known: the part number from MIDR (0 under qemu-user, which hides it).
    const cpuinfo_core* core = cpuinfo_get_cores_count() > 0 ? cpuinfo_get_core(0) : nullptr;
    if (f.name.empty() && core != nullptr && core->midr != 0) {
      char id[48];
      std::snprintf(id, sizeof id, "ARM implementer 0x%02x part 0x%03x", unsigned(core->midr >> 24),
                    unsigned((core->midr >> 4) & 0xfff));
      f.name = id;
    }
#endif
    return f;
  }();
  return features;
}

size_t cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return size_t(std::max(1, CPU_COUNT(&set)));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? size_t(n) : 1;
}

namespace {
// cpufreq's maximum for one processor in kHz, 0 when the kernel does not say (VMs, qemu).
long max_frequency_khz(int cpu) {
  char path[96];
  std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/cpuinfo_max_freq", cpu);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return 0;
  long khz = 0;
  if (std::fscanf(f, "%ld", &khz) != 1) khz = 0;
  std::fclose(f);
  return khz;
}
}  // namespace

std::vector<int> performance_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<std::pair<long, int>> cpus;  // (max frequency, id)
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back({max_frequency_khz(c), c});
    }
  }
  if (cpus.empty()) return {0};
  // Fastest first; the little cores of a big.LITTLE chip go last (stable: lower ids first).
  std::stable_sort(cpus.begin(), cpus.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int> ids;
  for (const auto& c : cpus) ids.push_back(c.second);
  return ids;
}

bool pin_current_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
#if defined(__ANDROID__)
  // Bionic's sched_setaffinity takes a pid; the calling thread's id comes from gettid.
  return syscall(__NR_sched_setaffinity, gettid(), sizeof set, &set) == 0;
#else
  return sched_setaffinity(0, sizeof set, &set) == 0;  // 0: the calling thread
#endif
}

}  // namespace terra::platform
