#!/usr/bin/env bash
# The paper's Table 1, measured here: synthesizes the presets (random weights of the published
# shapes), runs `terra bench` on each with the same settings, then writes a Markdown table and a
# PNG chart into the README's performance section (tests/bench/table1.py).
#   scripts/bench_table1.sh [--threads "1 2"] [--skip-17b] [--dir DIR]
# Each row runs with every thread count listed (phones decode on one or two big cores).
# Needs ~2 GB of disk per 800M row and ~8-11 GB per 17B row (f16), under DIR (default
# /tmp/terra-bench); files are reused between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="1 2" dir=/tmp/terra-bench skip17b=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --skip-17b) skip17b=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source scripts/bench_prepare.sh
bench_prepare --chart
mkdir -p "$dir"
results="$dir/results.jsonl"
: > "$results"
rows=(800m-baseline 800m-sparse-ff 800m-sparse-qkv 800m-sparse-ff-qkv 800m-sparse-all)
if [[ $skip17b == 0 ]]; then
  rows+=(17b-slice-baseline 17b-slice-sparse-ff 17b-slice-sparse-qkv 17b-slice-sparse-ff-qkv 17b-slice-sparse-all)
fi
for row in "${rows[@]}"; do
  dtype=f32
  [[ $row == 17b-* ]] && dtype=f16  # f32 would not fit this machine's memory
  model="$dir/$row.$dtype.terra"
  [[ -f $model ]] || ./build/bin/terra-convert --synthesize "$row" --dtype "$dtype" -o "$model" -q
  for t in $threads; do
    echo "bench: $row ($dtype, $t threads)" >&2
    ./build/bin/terra bench -m "$model" --threads "$t" --prompt-len 16 --gen-len 32 --repeat 5 --json |
      sed "s/^{/{\"row\": \"$row\", \"dtype\": \"$dtype\", /" >> "$results"
  done
done
cp "$results" docs/perf/table1-results.jsonl
/usr/bin/python3 tests/bench/table1.py "$results" README.md docs/table1.png
