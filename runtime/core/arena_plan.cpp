#include "core/arena_plan.h"

#include <algorithm>
#include <cstring>

namespace terra {

void ArenaPlan::add_scratch(float** f, int32_t** i, uint64_t count, size_t elem) {
  for (Request& r : requests_) {
    if (r.kind == Kind::kScratch && r.f == f && r.i == i) {  // the same shared slot: one buffer
      r.count = std::max(r.count, count);
      return;
    }
  }
  requests_.push_back({f, i, count, elem, Kind::kScratch, 0, false});
}

uint64_t ArenaPlan::bytes() const {
  Arena sizing;
  for (const Request& r : requests_) sizing.reserve(r.count, r.elem);
  return sizing.size();
}

Status ArenaPlan::allocate(Arena& arena) {
  std::vector<size_t> offsets;
  offsets.reserve(requests_.size());
  for (const Request& r : requests_) offsets.push_back(arena.reserve(r.count, r.elem));
  TERRA_RETURN_IF_ERROR(arena.allocate());
  for (size_t k = 0; k < requests_.size(); ++k) {
    if (requests_[k].f) *requests_[k].f = arena.at<float>(offsets[k]);
    if (requests_[k].i) *requests_[k].i = arena.at<int32_t>(offsets[k]);
  }
  return Status::Ok();
}

void ArenaPlan::copy_state(const ArenaPlan& from, uint64_t positions) const {
  for (size_t k = 0; k < requests_.size() && k < from.requests_.size(); ++k) {
    const Request& r = requests_[k];
    if (r.kind != Kind::kState) continue;
    const uint64_t n = r.per_position != 0 ? std::min(r.count, positions * r.per_position) : r.count;
    std::memcpy(data(r), data(from.requests_[k]), size_t(n) * r.elem);
  }
}

void ArenaPlan::reset_state() const {
  for (const Request& r : requests_) {
    if (r.kind == Kind::kState && r.zero_on_reset) std::memset(data(r), 0, size_t(r.count) * r.elem);
  }
}

}  // namespace terra
