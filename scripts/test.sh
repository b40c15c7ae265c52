#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds terra with its tests and runs every test: in a Release
# build; cross-compiled for AArch64 (on an emulated Cortex-A53) and ARMv7 (Cortex-A7) under
# qemu-user; under AddressSanitizer + UndefinedBehaviorSanitizer; the threaded tests under
# ThreadSanitizer; then each libFuzzer target for 45 s (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTERRA_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure --no-tests=error -j"$jobs")

./scripts/test_cross.sh aarch64 cortex-a53
./scripts/test_cross.sh armv7 cortex-a7

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERRA_SANITIZE=ON -DTERRA_BUILD_TESTS=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure --no-tests=error -j"$jobs")

# ThreadSanitizer: the thread pool, pinning, sessions sharing a model on several threads, the stop
# flag set from another thread (any report fails the run).
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERRA_SANITIZE_THREAD=ON -DTERRA_BUILD_TESTS=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target test_threads test_platform test_c_api_threads
export TSAN_OPTIONS=halt_on_error=1
build-tsan/tests/test_threads
build-tsan/tests/test_platform
build-tsan/tests/test_c_api_threads models/kjv-sparse.terra
unset TSAN_OPTIONS

./scripts/fuzz.sh 45
