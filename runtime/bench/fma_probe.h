// The machine's multiply-add throughput: every pool thread runs the kernel set's FMA burst
// (registers only, no memory) for a few milliseconds. It is the ceiling `terra bench` compares
// prompt and encoder products against, as the bandwidth probe is decoding's.
#pragma once

#include "core/thread_pool.h"

namespace terra {

// Fastest of `passes`, in GFLOP/s (1e9 flops, 2 per multiply-add), with the kernel set in use.
double measure_fma_peak(const ThreadPool& pool, int passes = 5);

}  // namespace terra
