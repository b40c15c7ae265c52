// The trax checkpoint reader (terra-convert --from-trax): the first byte chooses what the rest is
//   0: a pickle (decompressed model.pkl.gz) then, after a 4-byte length, an NPY weights stream,
//      read as a checkpoint and matched with each model class a small gin config describes;
//   1: a config.gin text, described as every model class terra imports;
//   2: a gzip stream, decompressed (bounded).
// Seeds: tests/fuzz/make_seeds.sh (the checkpoints and configs of tests/data/trax, decompressed).
#include <cstring>

#include "fuzz_input.h"
#include "trax/trax_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0] % 3;
  ++data;
  --size;
  if (mode == 0) {
    uint32_t pickle_size = 0;
    if (size < 4) return 0;
    std::memcpy(&pickle_size, data, 4);
    data += 4;
    size -= 4;
    if (pickle_size > size) pickle_size = uint32_t(size);
    auto c = terra::trax::Checkpoint::from_bytes(data, pickle_size, data + pickle_size, size - pickle_size);
    if (!c.ok()) return 0;
    for (const terra::trax::Array& a : c.value()->weights()) {
      if (a.bytes <= (uint64_t(1) << 22)) (void)a.to_f32();
    }
    if (c.value()->weights().empty()) return 0;
    auto gin = terra::trax::GinConfig::parse("TransformerLM.d_model = 32\nTransformerLM.d_ff = 64\n"
                                             "TransformerLM.n_heads = 4\nTransformerLM.n_layers = 2\n"
                                             "TransformerLM.max_len = 64\n", "fuzz.gin");
    auto m = terra::trax::describe_model(gin.value(), "TransformerLM", c.value()->weights()[0].shape.empty() ? 0 : c.value()->weights()[0].shape[0]);
    if (m.ok()) (void)terra::trax::match_leaves(m.value(), c.value()->weights(), "fuzz");
    return 0;
  }
  if (mode == 1) {
    auto gin = terra::trax::GinConfig::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.gin");
    if (!gin.ok()) return 0;
    (void)terra::trax::find_model_class(gin.value());
    for (const std::string& cls : terra::trax::supported_model_classes()) {
      (void)terra::trax::describe_model(gin.value(), cls, 32);
    }
    return 0;
  }
  (void)terra::trax::GzipFile::from_memory(data, size, "fuzz.gz");
  return 0;
}
