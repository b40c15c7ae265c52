#!/usr/bin/env bash
# Prompt speed, terra's own kernels vs XNNPACK, written into the README's prefill section and
# docs/prefill.png (tests/bench/prefill.py):
#   - prefill of a 256-token prompt on the 800M rows of Table 1 in every weight dtype, 1 and 2
#     threads, each engine run right after the other (the machine drifts): tokens/s, GFLOP/s of the
#     weight products and their ratio to the FMA peak measured beside them;
#   - time to first token of a 1024-token prompt on the shipped model and the 800M f32 rows.
#   scripts/bench_prefill.sh [--dir DIR]     (~5 GB of synthesized models under DIR, default /tmp/terra-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench_prepare.sh
bench_dir_argument "$@"
bench_prepare --chart
mkdir -p "$dir"
results="$dir/prefill.jsonl"
: > "$results"

bench() {  # kind row dtype model threads prompt_len repeat engine
  echo "bench: $1 $2 $3, $5 threads, $6 tokens, $8" >&2
  ./build/bin/terra bench -m "$4" --threads "$5" --prompt-len "$6" --gen-len 1 --repeat "$7" --engine "$8" --json |
    sed "s/^{/{\"kind\": \"$1\", \"row\": \"$2\", \"dtype\": \"$3\", /" >> "$results"
}

for row in 800m-baseline 800m-sparse-ff-qkv; do
  for dtype in f32 f16 int8 int4; do
    model="$dir/$row.$dtype.terra"
    [[ -f $model ]] || ./build/bin/terra-convert --synthesize "$row" --dtype "$dtype" -o "$model" -q
    for threads in 1 2; do
      for engine in native xnnpack; do bench prefill "$row" "$dtype" "$model" "$threads" 256 3 "$engine"; done
    done
  done
done
for engine in native xnnpack; do
  bench ttft kjv-sparse int8 models/kjv-sparse.terra 2 1024 3 "$engine"
  for row in 800m-baseline 800m-sparse-ff-qkv; do bench ttft "$row" f32 "$dir/$row.f32.terra" 2 1024 1 "$engine"; done
done
cp "$results" docs/perf/prefill-results.jsonl
/usr/bin/python3 tests/bench/prefill.py "$results" README.md docs/prefill.png
