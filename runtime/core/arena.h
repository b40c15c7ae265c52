// One allocation per session. Buffers are carved out of it when the session is planned; the
// decode loop then only reads and writes them (TFLite Micro's arena, without the reuse tricks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/status.h"

namespace terra {

class Arena {
 public:
  static constexpr size_t kAlignment = 64;

  // Planning pass: records sizes only. reserve(count, size) for each buffer, then allocate().
  // Sizes that overflow size_t (32-bit boards) make allocate() fail instead of wrapping.
  size_t reserve(uint64_t count, size_t elem_size) {
    size_t bytes = 0, total = 0;
    if (count > SIZE_MAX || __builtin_mul_overflow(size_t(count), elem_size, &bytes) || bytes > SIZE_MAX - kAlignment ||
        __builtin_add_overflow(planned_, round_up(bytes), &total)) {
      overflow_ = true;
      return 0;
    }
    const size_t at = planned_;
    planned_ = total;
    return at;
  }
  Status allocate();
  template <typename T>
  T* at(size_t offset) { return reinterpret_cast<T*>(base_ + offset); }
  size_t size() const { return planned_; }

  static size_t round_up(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

 private:
  struct Free { void operator()(uint8_t* p) const; };
  std::unique_ptr<uint8_t, Free> memory_;
  uint8_t* base_ = nullptr;
  size_t planned_ = 0;
  bool overflow_ = false;
};

}  // namespace terra
