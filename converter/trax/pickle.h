// A restricted unpickler for trax checkpoints: reads Python's pickle format (protocols 2-5) into a
// tree of plain values and never runs code from the file. Only the classes a trax checkpoint
// needs are recognised (numpy arrays and dtypes, numpy scalars, jax arrays, trax's ShapeDtype and
// History, defaultdict, OrderedDict); any other class is an error naming it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace terra::trax {

struct PyObject;
// Objects refer to each other by plain pointers: a pickle may build cycles (a list holding itself),
// so one PickleTree owns every object it read.
using PyRef = PyObject*;

// A numpy array; its bytes stay in the buffer the pickle was read from.
struct NdArray {
  std::string dtype;  // numpy type string with byte order: "<f4", "<u2", "|u1", "<i4", ...
  std::vector<int64_t> shape;
  bool fortran = false;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  int64_t elements() const;
};

struct PyObject {
  enum class Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kList, kTuple, kDict, kSet, kGlobal, kObject, kArray, kDType };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;                 // kStr; kGlobal "module.name"; kDType its type string; kObject its class
  const uint8_t* bytes = nullptr;   // kBytes (into the input buffer)
  uint64_t size = 0;
  std::vector<PyRef> items;         // kList, kTuple, kSet; kDict: key, value, key, value ...
  PyRef args, state;                // kObject: what it was created from and what BUILD set
  NdArray array;                    // kArray

  // For dicts: the value of a string key, or null.
  PyRef get(const std::string& key) const;
  std::string describe() const;     // "a list of 12", "an int", ... for error messages
};

struct PickleTree {
  PyRef root = nullptr;
  std::vector<std::unique_ptr<PyObject>> objects;
};

// `name` is what errors call the input. The tree refers to `data`, which must outlive it.
Result<std::unique_ptr<PickleTree>> unpickle(const uint8_t* data, size_t size, const std::string& name);

}  // namespace terra::trax
