// A fast 64-bit checksum of tensor bytes, recorded by the converter and checked by
// `terra verify`: loading does not read the weights (they are mapped lazily), so damage in
// the data region is found on request, not on every start.
#pragma once

#include <cstddef>
#include <cstdint>

namespace terra {

uint64_t checksum64(const void* data, size_t bytes);

}  // namespace terra
