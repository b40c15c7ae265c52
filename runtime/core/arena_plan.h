// What a session's layers ask of its one arena (core/arena.h), TFLite Micro style: when the
// session is planned, each layer declares
//   - its per-sequence state: kept between calls; copy_state() copies it from another session of
//     the same plan (beam search), reset_state() zeroes what must start from zero (recurrences);
//   - its scratch: used within one call only. Layers run one at a time, so every request for the
//     same slot (a pointer in a scratch struct the layers share) is one buffer, as large as the
//     largest request; a slot only one layer names is that layer's own buffer.
// allocate() makes the one allocation and points every slot into it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/arena.h"
#include "core/status.h"

namespace terra {

class ArenaPlan {
 public:
  // `per_position`: elements per position of a buffer filled in position order (a KV cache), so
  // copy_state() copies only the positions in use; 0: the whole buffer.
  void state(float** slot, uint64_t count, uint64_t per_position = 0, bool zero_on_reset = false) {
    requests_.push_back({slot, nullptr, count, sizeof(float), Kind::kState, per_position, zero_on_reset});
  }
  // Integer state (LSH attention's stored buckets and memory counters).
  void state(int32_t** slot, uint64_t count, bool zero_on_reset) {
    requests_.push_back({nullptr, slot, count, sizeof(int32_t), Kind::kState, 0, zero_on_reset});
  }
  void scratch(float** slot, uint64_t count) { add_scratch(slot, nullptr, count, sizeof(float)); }
  void scratch(int32_t** slot, uint64_t count) { add_scratch(nullptr, slot, count, sizeof(int32_t)); }

  // Bytes the plan needs (before allocate(), what it would allocate).
  uint64_t bytes() const;
  // The one allocation; every slot then points into `arena`.
  Status allocate(Arena& arena);
  // This plan's state from `from` (the same sequence of requests), `positions` positions in use.
  void copy_state(const ArenaPlan& from, uint64_t positions) const;
  void reset_state() const;

 private:
  enum class Kind : uint8_t { kState, kScratch };
  struct Request {
    float** f;
    int32_t** i;
    uint64_t count;
    size_t elem;
    Kind kind;
    uint64_t per_position;
    bool zero_on_reset;
  };
  void add_scratch(float** f, int32_t** i, uint64_t count, size_t elem);
  static void* data(const Request& r) { return r.f ? static_cast<void*>(*r.f) : static_cast<void*>(*r.i); }
  std::vector<Request> requests_;
};

}  // namespace terra
