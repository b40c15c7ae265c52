#!/usr/bin/env bash
# Decoding while other programs keep the cores busy, as on a phone: `terra bench` on 1 and 2
# threads, quiet and then with one CPU-bound process per core (a shell busy loop at nice 19 in a
# session of its own, as another app would be: Linux schedules each session's group fairly, so its
# nice does not give way to terra). Writes the README's under-load section (tests/bench/under_load.py).
#   scripts/bench_under_load.sh [--dir DIR]     (synthesized 800M models under DIR, default /tmp/terra-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench_prepare.sh
bench_dir_argument "$@"
bench_prepare
mkdir -p "$dir"
results="$dir/under-load.jsonl"
: > "$results"
hogs=()
stop_hogs() {
  ((${#hogs[@]})) && kill "${hogs[@]}" 2>/dev/null || true
  hogs=()
}
trap stop_hogs EXIT

bench() {  # load row model threads
  echo "bench: $2, $4 threads, $1" >&2
  ./build/bin/terra bench -m "$3" --threads "$4" --prompt-len 16 --gen-len 32 --repeat 3 --no-probe --json |
    sed "s/^{/{\"load\": \"$1\", \"row\": \"$2\", /" >> "$results"
}

rows=(800m-baseline 800m-sparse-ff-qkv)
for row in "${rows[@]}"; do
  [[ -f $dir/$row.f32.terra ]] || ./build/bin/terra-convert --synthesize "$row" -o "$dir/$row.f32.terra" -q
done
for row in "${rows[@]}"; do
  for threads in 1 2; do bench quiet "$row" "$dir/$row.f32.terra" "$threads"; done
done
for ((i = 0; i < $(nproc); ++i)); do
  setsid nice -n 19 sh -c 'while :; do :; done' &
  hogs+=($!)
done
sleep 1
for row in "${rows[@]}"; do
  for threads in 1 2; do bench busy "$row" "$dir/$row.f32.terra" "$threads"; done
done
stop_hogs
cp "$results" docs/perf/under-load-results.jsonl
/usr/bin/python3 tests/bench/under_load.py "$results" README.md
