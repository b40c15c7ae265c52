#include "kernels/matmul.h"

#include <xnnpack.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "kernels/kernel_set.h"
#include "kernels/vector_ops.h"

namespace terra {

namespace {

// One product, split into `parts` contiguous ranges of output rows (one per task), on either engine.
struct Product {
  const MatrixRef* w;
  const float* x;
  int tokens;
  const float* bias;
  float* y;
  const MatmulScratch* s;
  size_t parts;
  std::atomic<bool> failed{false};  // XNNPACK refused a slice
};

// ---- native ----

// Output rows [begin, end) with scratch slot `slot`.
void native_rows(const Product& j, size_t begin, size_t end, size_t slot) {
  const KernelSet& k = kernels();
  const size_t rows = size_t(j.w->rows), cols = size_t(j.w->cols);
  // No native scratch is planned on the XNNPACK path: its slices hold threads × cols.
  float* widened = (j.s->widened ? j.s->widened : j.s->slice) + slot * cols;
  for (size_t r = begin; r < end; ++r) {
    const float* row = j.w->f32_row(int64_t(r));
    if (j.w->dtype != DType::kF32) {  // widened once, then shared by every token of the block
      copy_row(*j.w, int64_t(r), widened);
      row = widened;
    }
    const float b = j.bias ? j.bias[r] : 0.0f;
    int t = 0;
    for (; t + 4 <= j.tokens; t += 4) {  // the row is the shared operand: four tokens per load of it
      float out[4];
      k.dot4_f32(j.x + size_t(t) * cols, cols, row, cols, out);
      for (int i = 0; i < 4; ++i) j.y[size_t(t + i) * rows + r] = out[i] + b;
    }
    for (; t < j.tokens; ++t) j.y[size_t(t) * rows + r] = k.dot_f32(row, j.x + size_t(t) * cols, cols) + b;
  }
}

// Part i of `parts` owns a contiguous range of rows and scratch slot i.
void rows_part(void* p, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<Product*>(p);
  const size_t rows = size_t(j.w->rows);
  native_rows(j, rows * part / j.parts, rows * (part + 1) / j.parts, part);
}

void native_matmul(Product& job, const ThreadPool& pool) {
  job.parts = pool.threads();
  pool.parallel_for(job.parts, 1, rows_part, &job);
}

// ---- XNNPACK ----

// Output rows per slice: about 512 KiB of f32 weights. XNNPACK sweeps the whole packed slice once
// per 7 tokens, so it must stay in the core's L2 (2 MiB here, often 512 KiB-1 MiB on phones): 2 MiB
// slices measured ~10% slower than 512 KiB on the 800M baseline. The memory stays small whatever
// the matrix.
constexpr uint64_t kSliceBytes = uint64_t(512) << 10;
constexpr uint64_t kSmallProduct = uint64_t(1) << 20;  // multiply-adds
uint64_t slice_rows(uint64_t cols) { return std::max<uint64_t>(16, kSliceBytes / (cols * sizeof(float))); }
// XNNPACK's packed copy of a slice (rows and columns rounded up to its tile sizes, the bias beside
// them) and the operator itself.
uint64_t pack_bytes(uint64_t rows, uint64_t cols) {
  const uint64_t padded_rows = std::min(rows, slice_rows(cols)) + 64, padded_cols = (cols + 16) / 16 * 16;
  return padded_rows * (padded_cols + 1) * sizeof(float) + (uint64_t(64) << 10);
}

// XNNPACK's allocator: while a slice's operator exists, its memory comes from a region the session
// planned (bump allocation; freeing is a no-op, the region is reused for the next slice). A region
// too small makes the allocation fail, never fall back to malloc. Outside a product (XNNPACK's
// own initialisation) it is malloc.
struct Region {
  uint8_t* base = nullptr;
  size_t size = 0;
  size_t used = 0;
};
thread_local Region* active_region = nullptr;

bool in_region(const void* p) {
  const Region* r = active_region;
  return r && p >= r->base && p < r->base + r->size;
}
void* region_allocate(size_t alignment, size_t size) {
  Region& r = *active_region;
  alignment = std::max<size_t>(alignment, 16);
  // Each block is preceded by its size, for reallocate.
  size_t at = (r.used + sizeof(size_t) + alignment - 1) / alignment * alignment;
  if (at > r.size || size > r.size - at) return nullptr;
  std::memcpy(r.base + at - sizeof(size_t), &size, sizeof(size_t));
  r.used = at + size;
  return r.base + at;
}
void* xnn_alloc(void*, size_t size) { return active_region ? region_allocate(16, size) : std::malloc(size); }
void* xnn_aligned_alloc(void*, size_t alignment, size_t size) {
  if (active_region) return region_allocate(alignment, size);
  size = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, size);
}
void xnn_free(void*, void* p) {
  if (!in_region(p)) std::free(p);
}
void* xnn_realloc(void* ctx, void* p, size_t size) {
  if (!active_region) return std::realloc(p, size);
  void* q = region_allocate(16, size);
  if (q && p) {
    size_t old = 0;
    if (in_region(p)) {
      std::memcpy(&old, static_cast<uint8_t*>(p) - sizeof(size_t), sizeof(size_t));
      std::memcpy(q, p, std::min(old, size));
    } else {
      xnn_free(ctx, p);  // not ours: cannot know its size (XNNPACK does not do this while we run)
      return nullptr;
    }
  }
  return q;
}

const xnn_allocator kAllocator{nullptr, xnn_alloc, xnn_realloc, xnn_free, xnn_aligned_alloc, xnn_free};

struct XnnState {
  bool ready = false;
  const char* status = "not initialised";
};
const XnnState& xnn_state() {
  static const XnnState state = [] {
    XnnState s;
    const xnn_status st = xnn_initialize(&kAllocator);
    s.ready = st == xnn_status_success;
    s.status = s.ready ? "ready"
               : st == xnn_status_unsupported_hardware ? "this CPU is not supported by XNNPACK: terra's own kernels run the batched products"
                                                       : "XNNPACK failed to initialise: terra's own kernels run the batched products";
    return s;
  }();
  return state;
}

std::atomic<uint64_t> slices_run{0};

// Each thread runs its own share of the output rows, slice by slice, on the calling thread of
// XNNPACK (no pool): packing, XNNPACK's serial step, is then parallel too, and every pool
// dispatch is ours.
// Output rows [begin, end) with scratch slot `slot`; false when XNNPACK refused.
bool xnn_rows(Product& j, uint64_t begin, uint64_t end, size_t slot) {
  const MatrixRef& w = *j.w;
  const uint64_t rows = uint64_t(w.rows), cols = uint64_t(w.cols), step = slice_rows(cols);
  const float inf = std::numeric_limits<float>::infinity();
  float* slice = j.s->slice + slot * std::min(rows, step) * cols;
  uint8_t* pack = reinterpret_cast<uint8_t*>(j.s->pack) + slot * j.s->pack_bytes;
  for (uint64_t r0 = begin; r0 < end; r0 += step) {
    const uint64_t m = std::min(step, end - r0);
    const float* kernel = w.f32_row(int64_t(r0));
    if (w.dtype != DType::kF32) {
      for (uint64_t r = 0; r < m; ++r) copy_row(w, int64_t(r0 + r), slice + r * cols);
      kernel = slice;
    }
    Region region{pack, size_t(j.s->pack_bytes), 0};
    active_region = &region;
    xnn_operator_t op = nullptr;
    xnn_status st = xnn_create_fully_connected_nc_f32(size_t(cols), size_t(m), size_t(cols), size_t(rows), kernel,
                                                      j.bias ? j.bias + r0 : nullptr, -inf, inf, 0, &op);
    if (st == xnn_status_success) st = xnn_setup_fully_connected_nc_f32(op, size_t(j.tokens), j.x, j.y + r0, nullptr);
    if (st == xnn_status_success) st = xnn_run_operator(op, nullptr);
    if (op) xnn_delete_operator(op);
    active_region = nullptr;
    if (st != xnn_status_success) return false;
    slices_run.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void xnn_part(void* p, size_t part, size_t /*end*/) {
  auto& j = *static_cast<Product*>(p);
  const uint64_t rows = uint64_t(j.w->rows);
  if (!xnn_rows(j, rows * part / j.parts, rows * (part + 1) / j.parts, part)) j.failed.store(true);
}

// False when XNNPACK refused (the caller then runs the native path).
bool xnnpack_matmul(Product& job, const ThreadPool& pool) {
  const MatrixRef& w = *job.w;
  // A small product runs on the calling thread: waking the pool costs more than it saves.
  job.parts = uint64_t(w.rows) * uint64_t(w.cols) * uint64_t(job.tokens) < kSmallProduct ? 1 : job.s->parts;
  job.parts = std::min<size_t>(job.parts, size_t(w.rows));
  pool.parallel_for(job.parts, 1, xnn_part, &job);
  return !job.failed.load();
}

// XNNPACK packs every slice it multiplies (about 450 ms for the 800M baseline's 1.34 GB on 2
// threads of the AMD EPYC below), which only a long block repays. 800M baseline f32, prompt tokens/s
// native vs XNNPACK on 2 threads (`terra bench --prompt-len N --gen-len 1 --engine E`):
//   AMD EPYC (AVX2), 2026-12-01: N=16 83.0 vs 24.6, 64 79.3 vs 58.3, 128 77.9 vs 70.6, 256 74.4 vs 80.8;
//   Intel Xeon (AVX-512), issue 15: a 256-token prompt ran at 108.6 native, 124-148 with XNNPACK in
//   passes of 64 tokens, 286 in one pass of 256.
// Below 64 tokens XNNPACK lost on both machines.
constexpr int kMinXnnpackTokens = 64;
bool xnnpack_planned(const MatmulScratch& s) { return s.engine == MatmulEngine::kXnnpack && s.pack != nullptr; }
bool use_xnnpack(const MatmulScratch& s, int tokens) { return xnnpack_planned(s) && tokens >= s.xnnpack_min_tokens; }

}  // namespace

const char* engine_name(MatmulEngine e) {
  switch (e) {
    case MatmulEngine::kAuto: return "auto";
    case MatmulEngine::kNative: return "native";
    case MatmulEngine::kXnnpack: return "xnnpack";
  }
  return "?";
}

bool xnnpack_ready() { return xnn_state().ready; }
const char* xnnpack_status() { return xnn_state().status; }

void choose_engine(MatmulScratch& s, MatmulEngine requested) {
  s.xnnpack_min_tokens = 1;
  if (requested == MatmulEngine::kAuto) {
    const char* env = std::getenv("TERRA_ENGINE");
    if (env && std::strcmp(env, "native") == 0) {
      requested = MatmulEngine::kNative;
    } else {
      if (!(env && std::strcmp(env, "xnnpack") == 0)) s.xnnpack_min_tokens = kMinXnnpackTokens;
      requested = MatmulEngine::kXnnpack;
    }
  }
  s.engine = requested == MatmulEngine::kXnnpack && !xnnpack_ready() ? MatmulEngine::kNative : requested;
}

void plan_matmul(ArenaPlan& plan, MatmulScratch& s, uint64_t rows, uint64_t cols, int threads) {
  if (s.engine != MatmulEngine::kXnnpack) {
    plan.scratch(&s.widened, uint64_t(threads) * cols);
    return;
  }
  // One slice and one packing region per thread; the slices are also the native fallback's rows.
  const uint64_t t = uint64_t(threads);
  s.parts = size_t(threads);
  plan.scratch(&s.slice, t * std::max<uint64_t>(std::min(rows, slice_rows(cols)), 1) * cols);
  s.pack_bytes = std::max(s.pack_bytes, (pack_bytes(rows, cols) + 63) / 64 * 64);
  plan.scratch(&s.pack, t * s.pack_bytes / sizeof(float));
}

void matmul_tokens(const MatrixRef& w, const float* x, int tokens, const float* bias, float* y, const MatmulScratch& s,
                   const ThreadPool& pool) {
  Product job{&w, x, tokens, bias, y, &s, 1};
  if (use_xnnpack(s, tokens) && xnnpack_matmul(job, pool)) return;
  native_matmul(job, pool);
}

void matmul_tokens_serial(const MatrixRef& w, const float* x, int tokens, const float* bias, float* y,
                          const MatmulScratch& s, size_t slot) {
  Product job{&w, x, tokens, bias, y, &s, 1};
  // Attention's per-head products (keys, values) at any block size: measured with issue 15's head path.
  if (xnnpack_planned(s) && xnn_rows(job, 0, uint64_t(w.rows), slot)) return;
  native_rows(job, 0, size_t(w.rows), slot);
}

// XNNPACK: 256 tokens per pass packs each slice once per 256 tokens (800M baseline, 256-token
// prompt, 2 threads: 222-240 tokens/s against 150-187 at 128 and 124-148 at 64).
int tokens_per_pass(MatmulEngine e) { return e == MatmulEngine::kXnnpack ? 256 : 16; }

uint64_t xnnpack_slices_run() { return slices_run.load(std::memory_order_relaxed); }

}  // namespace terra
