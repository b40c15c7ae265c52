// A trax checkpoint on disk, in each layout trax has written (trax/supervised/training.py,
// trainer_lib.py, layers/base.py):
//   - model.pkl.gz (a gzip pickle of a dict) with flat_weights an int (the gzip compress level): the
//     weights are np.save records in model.weights.npy.gz beside it (training.Loop since 2021-03-10),
//     or in model.pkl.gz.npy (2021-02-23 .. 03-10);
//   - flat_weights a list of arrays inside the pickle (trainer_lib, 'Jun-18-2020'), or of
//     (uint16 array, 'bfloat16') pairs ('Oct-28-2020').
// bfloat16 weights are stored as their uint16 bits. flat_state is kept (LSH layers keep their hash
// keys there). Pickled code is never run (trax/pickle.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "trax/npy.h"
#include "trax/pickle.h"

namespace terra::trax {

struct Array {
  std::string dtype;  // numpy type string: "<f4", "<u2" (bfloat16 bits when bfloat16 is set), "<f2" ...
  bool bfloat16 = false;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  int64_t elements() const;
  // The values as f32 (f32, f64, f16, bfloat16, int types); an error names the dtype.
  Result<std::vector<float>> to_f32() const;
};

class Checkpoint {
 public:
  // `path`: model.pkl.gz, or a folder holding one.
  static Result<std::unique_ptr<Checkpoint>> open(const std::string& path);
  // From the bytes of the two files (tests, fuzzing): the pickle, and the weights stream (may be empty).
  static Result<std::unique_ptr<Checkpoint>> from_memory(const uint8_t* pickle_gz, size_t pickle_size,
                                                         const uint8_t* weights_gz, size_t weights_size);
  // From decompressed bytes, which must outlive the checkpoint (fuzzing): a pickle and an NPY stream.
  static Result<std::unique_ptr<Checkpoint>> from_bytes(const uint8_t* pickle, size_t pickle_size, const uint8_t* npy,
                                                        size_t npy_size);

  const std::string& path() const { return path_; }
  const std::string& layout() const { return layout_; }  // which of the layouts above, for messages
  const std::vector<Array>& weights() const { return weights_; }
  const std::vector<Array>& state() const { return state_; }
  int64_t step() const { return step_; }

 private:
  Status parse(const std::string& weights_path, const uint8_t* weights_gz, size_t weights_size);
  Status parse_pickle(const uint8_t* data, size_t size);
  Status read_npy(const uint8_t* data, size_t size, const std::string& name, const std::string& stamp);
  std::string path_, layout_;
  std::unique_ptr<GzipFile> pickle_file_, weights_file_;
  std::unique_ptr<PickleTree> tree_;
  PyRef root_ = nullptr;
  std::vector<Array> weights_, state_;
  int64_t step_ = 0;
};

}  // namespace terra::trax
