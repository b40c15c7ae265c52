#!/usr/bin/env bash
# The cost and gain of each weight dtype, measured here, written into the README's dtype section
# (tests/bench/dtypes.py): held-out perplexity of the shipped KJV model converted to each dtype,
# and `terra bench` decode speed and file size of the paper's 800M rows synthesized in each dtype.
#   scripts/bench_dtypes.sh [--threads N] [--dir DIR]
# Needs the shipped model's f32 export (models/kjv/runs/sparse/export, written by
# models/train_default.sh) and ~6 GB of disk under DIR (default /tmp/terra-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 dir=/tmp/terra-bench
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
export_dir=models/kjv/runs/sparse/export
if [[ ! -f $export_dir/model.safetensors ]]; then
  echo "bench_dtypes: $export_dir/model.safetensors is missing: run models/train_default.sh first" >&2
  exit 1
fi
source scripts/bench_prepare.sh
bench_prepare
mkdir -p "$dir"
results="$dir/dtypes.jsonl"
: > "$results"
heldout=models/kjv/corpus/heldout.txt
[[ -f $heldout ]] || /usr/bin/python3 models/corpus/make_corpus.py models/kjv/corpus >/dev/null
for dtype in f32 f16 int8 int4; do
  model="$dir/kjv-sparse.$dtype.terra"
  ./build/bin/terra-convert "$export_dir" -o "$model" --dtype "$dtype" -q
  echo "perplexity: kjv-sparse $dtype" >&2
  ./build/bin/terra perplexity -m "$model" --text "$heldout" --threads "$threads" --json |
    sed "s/^{/{\"kind\": \"perplexity\", \"dtype\": \"$dtype\", \"file_bytes\": $(stat -c %s "$model"), /" >> "$results"
done
for row in 800m-baseline 800m-sparse-ff-qkv; do
  for dtype in f32 f16 int8 int4; do
    model="$dir/$row.$dtype.terra"
    [[ -f $model ]] || ./build/bin/terra-convert --synthesize "$row" --dtype "$dtype" -o "$model" -q
    echo "bench: $row ($dtype, $threads threads)" >&2
    ./build/bin/terra bench -m "$model" --threads "$threads" --prompt-len 16 --gen-len 32 --repeat 5 --json |
      sed "s/^{/{\"kind\": \"bench\", \"row\": \"$row\", \"dtype\": \"$dtype\", \"file_bytes\": $(stat -c %s "$model"), /" >> "$results"
  done
done
cp "$results" docs/perf/dtypes-results.jsonl
/usr/bin/python3 tests/bench/dtypes.py "$results" README.md
