#include <cstdio>

#include "cli/info_command.h"
#include "kernels/kernel_set.h"
#include "kernels/matmul.h"
#include "model/model.h"
#include "model/model_file.h"
#include "platform/platform.h"

namespace terra::cli {

int run_info(const std::string& path) {
  auto file = ModelFile::load(path);
  if (!file.ok()) {
    std::fprintf(stderr, "terra: error: %s\n", file.status().message().c_str());
    return 1;
  }
  const ModelFile& f = *file.value();
  const ModelConfig& c = f.config();
  std::printf("%s: %.2f MiB, %zu tensors\n", path.c_str(), double(f.file_size()) / (1 << 20), f.tensors().size());
  for (const auto& [k, v] : f.metadata()) std::printf("  %s: %s\n", k.c_str(), v.c_str());
  std::printf("  vocab %d, d_model %d, d_ff %d, heads %d, decoder layers %d (%d attention each), encoder layers %d\n",
              c.vocab_size, c.d_model, c.d_ff, c.n_heads, c.n_decoder_layers, c.n_decoder_attention_layers,
              c.n_encoder_layers);
  std::printf("  ff_sparsity %d, d_lowrank %d, positions %s, %s LayerNorm, max_len %d\n", c.ff_sparsity, c.d_lowrank,
              pos_encoding_name(c.pos_encoding), c.center_layernorm ? "centered" : "RMS", c.max_len);
  uint64_t params = 0;
  for (const TensorView& t : f.tensors()) {
    params += uint64_t(t.elements());
    std::printf("  %-40s %-4s %-12s %s\n", t.name.c_str(), dtype_name(t.dtype), layout_name(t.layout),
                shape_string(t.shape).c_str());
  }
  std::printf("  parameters: %llu\n", (unsigned long long)params);
  Status s = c.check_supported();
  if (!s.ok()) std::printf("  note: %s\n", s.message().c_str());
  const platform::CpuFeatures& cpu = platform::cpu_features();
  std::printf("this machine: %s, %zu processors, kernels: %s\n", cpu.name.empty() ? "unknown CPU" : cpu.name.c_str(),
              platform::cpu_count(), kernels().name);
  std::printf("batched products (prompts, the encoder): %s\n",
              xnnpack_ready() ? "XNNPACK" : xnnpack_status());
  return 0;
}

int run_verify(const std::string& path) {
  const double start = platform::monotonic_seconds();
  auto model = Model::load(path);
  Status s = model.ok() ? model.value()->file().verify_checksums() : model.status();
  if (!s.ok()) {
    std::fprintf(stderr, "terra: error: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("%s: ok (%zu tensors, %.2f MiB checked in %.2f s)\n", path.c_str(), model.value()->file().tensors().size(),
              double(model.value()->file().file_size()) / (1 << 20), platform::monotonic_seconds() - start);
  return 0;
}

}  // namespace terra::cli
