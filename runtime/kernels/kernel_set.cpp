#include "kernels/kernel_set.h"

#include <cpuinfo.h>

#include <cstdlib>
#include <cstring>

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
  if (!cpuinfo_initialize()) return sets;  // unknown CPU: the portable path only
#if defined(__x86_64__) || defined(__i386__)
  if (avx2_kernels() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c()) {
    sets.push_back(avx2_kernels());
  }
  if (avx512_kernels() && cpuinfo_has_x86_avx512f()) sets.push_back(avx512_kernels());
#endif
#if defined(__aarch64__) || defined(__arm__)
  if (neon_kernels() && cpuinfo_has_arm_neon() && cpuinfo_has_arm_neon_fp16()) sets.push_back(neon_kernels());
#endif
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
