#!/usr/bin/env bash
# Long inputs (issue 17): the scientific_papers_terraformer.gin shape (8 + 8 layers, d 1024, LSH
# attention; synthesized weights, f32) encodes inputs of 1K, 4K and 16K tokens and decodes after
# them (15360: the gin's own input length, which with the 1024 decoder positions fills the
# 16384-row LSH memory exactly); the same model with dense attention beside it (its 15360-token
# run takes ~25 minutes on 2 cores: --dense-lengths "1024 4096" skips it). Writes the
# README's long-input section and a PNG of peak memory and time to the first token against the
# input length (tests/bench/long_input.py).
#   scripts/bench_long_input.sh [--threads 2] [--dense-lengths "1024 4096"] [--dir DIR]
# Needs ~2.3 GB of disk under DIR (default /tmp/terra-bench) and ~5 GB of memory at 16K tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 dir=/tmp/terra-bench lsh_lengths="1024 4096 15360" dense_lengths="1024 4096 15360"
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --dense-lengths) dense_lengths=$2; shift 2 ;;
    --lsh-lengths) lsh_lengths=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source scripts/bench_prepare.sh
bench_prepare --chart
mkdir -p "$dir"
results="$dir/long-input-results.jsonl"
: > "$results"
for row in sci-papers-lsh sci-papers-dense; do
  model="$dir/$row.f32.terra"
  [[ -f $model ]] || ./build/bin/terra-convert --synthesize "$row" --dtype f32 -o "$model" -q
  lengths=$lsh_lengths
  [[ $row == sci-papers-dense ]] && lengths=$dense_lengths
  for n in $lengths; do
    echo "bench: $row, input $n tokens, $threads threads" >&2
    # One run per length (a 16K input takes minutes here); each run is a fresh process, so its
    # peak RSS is that input's.
    ./build/bin/terra bench -m "$model" --threads "$threads" --input-len "$n" --prompt-len 1 --gen-len 16 \
      --repeat 1 --warmup 0 --no-probe --json | sed "s/^{/{\"row\": \"$row\", /" >> "$results"
  done
done
cp "$results" docs/perf/long-input-results.jsonl
/usr/bin/python3 tests/bench/long_input.py "$results" README.md docs/long-input.png
