#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer + UBSan) and runs each
# for a fixed time, two at a time; fails on any finding (a crash, a sanitizer report, a leak, an
# input slower than 20 s or using more than 2 GiB). CI runs it with the default 45 s per target:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Long runs keep their corpus in build-fuzz/corpus/TARGET (new inputs are added there):
#   scripts/fuzz.sh 3600 fuzz_model_file     # an hour on the model loader
# A finding is written to build-fuzz/findings/TARGET/ and named on the output.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-45}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_model_file fuzz_converter_inputs fuzz_tokenizer fuzz_c_api fuzz_trax_checkpoint)
fi
build=build-fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERRA_FUZZ=ON \
  -DTERRA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target terra_convert_cli "${targets[@]}" >/dev/null
tests/fuzz/make_seeds.sh "$build/bin/terra-convert" "$build/seeds" >/dev/null

run_one() {
  local target=$1
  mkdir -p "$build/corpus/$target" "$build/findings/$target"
  local log=$build/findings/$target.log
  # The seed folder is read; new inputs go to the corpus folder (the first one given).
  if TERRA_FUZZ_MODEL=models/kjv-sparse.terra ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
      "$build/fuzz/$target" "$build/corpus/$target" "$build/seeds/$target" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=20 -artifact_prefix="$build/findings/$target/" -print_final_stats=1 \
      >"$log" 2>&1; then
    echo "fuzz: $target: $(grep -aE '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs in ${seconds}s," \
      "$(grep -aoE 'cov: [0-9]+' "$log" | tail -1), no findings"
  else
    echo "fuzz: $target: FINDING (log: $log)" >&2
    grep -aE "ERROR|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -20 >&2
    return 1
  fi
}

status=0
pids=()
for target in "${targets[@]}"; do
  run_one "$target" &
  pids+=($!)
  if ((${#pids[@]} >= $(nproc))); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
