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

  // Planning pass: records sizes only. Call reserve() for each buffer, then allocate(), then
  // take() in the same order.
  size_t reserve(size_t bytes) {
    const size_t at = planned_;
    planned_ += round_up(bytes);
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
};

}  // namespace terra
