// The converter's readers of users' files: the first byte chooses config.json or a safetensors
// file; the rest is the file. A safetensors file that opens has every tensor read as f32.
#include "config_json.h"
#include "fuzz_input.h"
#include "safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  terra::fuzz::MemFile file(data + 1, size - 1);
  if (!file.ok()) return 0;
  if (data[0] & 1) {
    (void)terra::read_config_json(file.path());
    return 0;
  }
  auto st = terra::SafetensorsFile::open(file.path());
  if (!st.ok()) return 0;
  for (const auto& [name, entry] : st.value()->entries()) {
    if (entry.bytes <= (uint64_t(1) << 24)) (void)st.value()->read_f32(name);
  }
  return 0;
}
