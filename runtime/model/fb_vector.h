// Reading a FlatBuffers vector of the model file into a std::vector.
#pragma once

#include <cstring>
#include <vector>

#include <flatbuffers/flatbuffers.h>

namespace terra {

// Element by element through memcpy: the Verifier checks the alignment of a vector's length
// only, so an 8-byte element of a damaged file may sit at any address.
template <typename T>
std::vector<T> to_vector(const flatbuffers::Vector<T>* v) {
  std::vector<T> out(v ? v->size() : 0);
  for (size_t i = 0; i < out.size(); ++i) {
    std::memcpy(&out[i], v->Data() + i * sizeof(T), sizeof(T));
    out[i] = flatbuffers::EndianScalar(out[i]);
  }
  return out;
}

}  // namespace terra
