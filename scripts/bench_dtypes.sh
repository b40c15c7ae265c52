#!/usr/bin/env bash
# The cost and gain of each weight dtype, measured here, written into the README's dtype section
# (tests/bench/dtypes.py): held-out perplexity of the shipped KJV model converted to each dtype,
# and `terra bench` decode speed and file size of the paper's 800M rows synthesized in each dtype,
# on each thread count of --threads (default "1 2").
#   scripts/bench_dtypes.sh [--threads "1 2"] [--dir DIR]
# The shipped model's f32 weights come from its training export (models/kjv/runs/sparse/export,
# written by models/train_default.sh) or, when that is absent, from models/kjv-sparse.f32.terra
# (models/reference/terra_file.py writes them out). Needs ~6 GB of disk under DIR (default
# /tmp/terra-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="1 2" dir=/tmp/terra-bench
while [[ $# -gt 0 ]]; do
  case $1 in
    --threads) threads_list=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source scripts/bench_prepare.sh
bench_prepare
mkdir -p "$dir"
export_dir=models/kjv/runs/sparse/export
if [[ ! -f $export_dir/model.safetensors ]]; then
  ./scripts/setup.sh --test >/dev/null  # PyTorch and the FlatBuffers Python module for the reader
  export_dir="$dir/kjv-sparse-export"
  flatc --python -o "$dir/python" runtime/schema/terra.fbs
  PYTHONPATH="$dir/python:models/reference" /usr/bin/python3 models/reference/terra_file.py models/kjv-sparse.f32.terra "$export_dir"
fi
results="$dir/dtypes.jsonl"
: > "$results"
heldout=models/kjv/corpus/heldout.txt
if [[ ! -f $heldout ]]; then  # the corpus is regenerated from Debian's KJV text (models/corpus)
  command -v bible >/dev/null || (source scripts/apt.sh && apt_update bible-kjv && apt_install bible-kjv)
  /usr/bin/python3 models/corpus/make_corpus.py models/kjv/corpus >/dev/null
fi
for dtype in f32 f16 int8 int4; do
  model="$dir/kjv-sparse.$dtype.terra"
  ./build/bin/terra-convert "$export_dir" -o "$model" --dtype "$dtype" -q
  # Scored in blocks (as `terra perplexity` does), then token by token (the decoding path, where
  # int4 rows meet integer activations).
  for how in scored stepwise; do
    echo "perplexity: kjv-sparse $dtype ($how)" >&2
    flag=()
    [[ $how == stepwise ]] && flag=(--stepwise)
    ./build/bin/terra perplexity -m "$model" --text "$heldout" --threads 2 "${flag[@]}" --json |
      sed "s/^{/{\"kind\": \"perplexity\", \"how\": \"$how\", \"dtype\": \"$dtype\", \"file_bytes\": $(stat -c %s "$model"), /" >> "$results"
  done
done
for row in 800m-baseline 800m-sparse-ff-qkv; do
  for dtype in f32 f16 int8 int4; do
    model="$dir/$row.$dtype.terra"
    [[ -f $model ]] || ./build/bin/terra-convert --synthesize "$row" --dtype "$dtype" -o "$model" -q
    for threads in $threads_list; do
      echo "bench: $row ($dtype, $threads threads)" >&2
      ./build/bin/terra bench -m "$model" --threads "$threads" --prompt-len 16 --gen-len 32 --repeat 5 --json |
        sed "s/^{/{\"kind\": \"bench\", \"row\": \"$row\", \"dtype\": \"$dtype\", \"file_bytes\": $(stat -c %s "$model"), /" >> "$results"
    done
  done
done
cp "$results" docs/perf/dtypes-results.jsonl
/usr/bin/python3 tests/bench/dtypes.py "$results" README.md
