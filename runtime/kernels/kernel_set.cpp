#include "kernels/kernel_set.h"

#include <cstdlib>
#include <cstring>

#include "platform/platform.h"

namespace terra {

#if !defined(TERRA_HAVE_AVX2)
const KernelSet* avx2_kernels() { return nullptr; }
#endif
#if !defined(TERRA_HAVE_AVX512)
const KernelSet* avx512_kernels() { return nullptr; }
#endif
#if !defined(TERRA_HAVE_NEON)
const KernelSet* neon_kernels() { return nullptr; }
#endif

std::vector<const KernelSet*> available_kernel_sets() {
  std::vector<const KernelSet*> sets{scalar_kernels()};
  const platform::CpuFeatures& cpu = platform::cpu_features();
  if (avx2_kernels() && cpu.x86_avx2_fma3_f16c) sets.push_back(avx2_kernels());
  if (avx512_kernels() && cpu.x86_avx512f) sets.push_back(avx512_kernels());
  if (neon_kernels() && cpu.arm_neon_fp16) sets.push_back(neon_kernels());
  return sets;
}

namespace {
const KernelSet* choose() {
  const std::vector<const KernelSet*> sets = available_kernel_sets();
  if (const char* want = std::getenv("TERRA_KERNELS")) {
    for (const KernelSet* s : sets) {
      if (std::strcmp(s->name, want) == 0) return s;
    }
  }
  return sets.back();  // the widest this CPU runs
}
}  // namespace

const KernelSet& kernels() {
  static const KernelSet* chosen = choose();
  return *chosen;
}

}  // namespace terra
