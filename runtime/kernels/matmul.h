// Y = X Wᵀ (+ bias) for a block of tokens at once (prefill, the encoder): the one batched product
// of the runtime, called only from the layers' tokens() path. Two engines:
//   native:  each weight row is read in place and dotted with up to four token vectors per pass
//            (quantized and f16 rows are widened into per-thread scratch first);
//   xnnpack: XNNPACK's f32 fully-connected operator (register-tiled GEMM on packed weights), one
//            slice of output rows at a time: the slice is packed into session-planned memory (a
//            non-f32 slice is first widened to f32 there), run for all tokens, and the memory
//            reused for the next slice, so no second copy of the model is ever held.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/arena_plan.h"
#include "core/matrix.h"
#include "core/thread_pool.h"

namespace terra {

enum class MatmulEngine : uint8_t { kAuto = 0, kNative = 1, kXnnpack = 2 };
const char* engine_name(MatmulEngine e);

// Initialises XNNPACK once per process (its allocations then come from the session's memory while
// a product runs). False when the CPU is not supported; xnnpack_status() says why.
bool xnnpack_ready();
const char* xnnpack_status();

struct MatmulScratch {
  MatmulEngine engine = MatmulEngine::kNative;
  // XNNPACK engine: a product of a weight matrix with fewer tokens runs natively (XNNPACK packs the
  // weights it multiplies, at a cost a short block does not repay). 1 when XNNPACK was asked for.
  int xnnpack_min_tokens = 1;
  float* widened = nullptr;  // native: [threads, cols]
  float* slice = nullptr;    // xnnpack: [slice rows, cols]: a non-f32 slice widened to f32
  float* pack = nullptr;     // xnnpack: per thread, what XNNPACK allocates for one slice's operator
  uint64_t pack_bytes = 0;   // per thread
  size_t parts = 1;          // threads the slices are shared among
};

// Sets s.engine and s.xnnpack_min_tokens for a request. kAuto: TERRA_ENGINE=native|xnnpack when
// set (tests, comparisons), else XNNPACK for blocks of 64 tokens or more (matmul.cpp says why) where it
// runs on this CPU. kXnnpack: XNNPACK for every block; on a CPU XNNPACK does not support, native.
void choose_engine(MatmulScratch& s, MatmulEngine requested);

// Requests the scratch for products with a [rows, cols] matrix (called for each shape a layer uses;
// the requests share one buffer).
void plan_matmul(ArenaPlan& plan, MatmulScratch& s, uint64_t rows, uint64_t cols, int threads);

// y[t * w.rows + r] = w[r] · x[t * w.cols ..] + bias[r], for t < tokens.
void matmul_tokens(const MatrixRef& w, const float* x, int tokens, const float* bias, float* y, const MatmulScratch& s,
                   const ThreadPool& pool);

// The same product on the calling thread alone, with the scratch of thread `slot` (< the threads
// it was planned for): for callers whose tasks already run one per thread (attention's heads).
void matmul_tokens_serial(const MatrixRef& w, const float* x, int tokens, const float* bias, float* y,
                          const MatmulScratch& s, size_t slot);

// Rows a caller should give one product when it can choose (a prompt's block, the FF's hidden
// rows): enough that XNNPACK's packing of each slice is a small part of the work.
int tokens_per_pass(MatmulEngine e);

// Products the XNNPACK engine ran (slices), for tests that must know which path ran.
uint64_t xnnpack_slices_run();

}  // namespace terra
