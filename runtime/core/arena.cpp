#include "core/arena.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace terra {

void Arena::Free::operator()(uint8_t* p) const { std::free(p); }

Status Arena::allocate() {
  if (overflow_) {
    return Status::Error(ErrorCode::kOutOfMemory, "the session's buffers exceed this machine's address space");
  }
  const size_t bytes = planned_ == 0 ? kAlignment : planned_;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (p == nullptr) {
    return Status::Error(ErrorCode::kOutOfMemory,
                         "cannot allocate the session arena of " + std::to_string(bytes) + " bytes");
  }
  std::memset(p, 0, bytes);  // touch it now so decoding never page-faults on first use
  memory_.reset(static_cast<uint8_t*>(p));
  base_ = memory_.get();
  return Status::Ok();
}

}  // namespace terra
