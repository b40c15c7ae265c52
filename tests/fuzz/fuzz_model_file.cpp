// Model files from bytes: loading (the FlatBuffer table, the config, the tensor table, the
// tokenizer blob), verifying every checksum, and, when the file loads, a few decoding steps of a
// session planned under a small memory limit. Seeds: small synthesized models of every layer
// type and dtype (tests/fuzz/make_seeds.sh).
#include "decoder/session.h"
#include "fuzz_input.h"
#include "model/model.h"
#include "platform/platform.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  terra::fuzz::MemFile file(data, size);
  if (!file.ok()) return 0;
  auto mapped = terra::platform::MappedFile::open_descriptor(file.fd(), 0, size, "fuzzed.terra");
  if (!mapped.ok()) return 0;
  auto model = terra::Model::load(mapped.take());
  if (!model.ok()) return 0;
  (void)model.value()->file().verify_checksums();
  // Decode only models small enough to run quickly (the fuzzer hunts crashes, not slow shapes).
  uint64_t parameters = 0;
  for (const terra::TensorView& t : model.value()->file().tensors()) parameters += uint64_t(t.elements());
  if (parameters > (uint64_t(1) << 20)) return 0;
  terra::SessionOptions options;
  options.max_context = 6;
  options.max_input = model.value()->config().n_encoder_layers > 0 ? 3 : 0;
  options.max_memory = uint64_t(64) << 20;
  auto session = terra::Session::create(*model.value(), options);
  if (!session.ok()) return 0;
  const int vocab = model.value()->config().vocab_size;
  if (options.max_input > 0) {
    const int input[] = {0, 1 % vocab, 2 % vocab};
    (void)session.value()->encode(input, 3);
  }
  for (int t = 0; t < 3; ++t) (void)session.value()->step(t % vocab);
  return 0;
}
