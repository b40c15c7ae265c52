#!/usr/bin/env bash
# Cross-compiles terra for an ARM board and runs the whole CTest suite under qemu-user:
#   scripts/test_cross.sh aarch64|armv7 [QEMU_CPU]
# aarch64 runs on a Cortex-A53 (ARMv8.0, as on a Raspberry Pi 3) and armv7 on a Cortex-A7 (with
# NEON) unless QEMU_CPU names another (qemu-aarch64-static -cpu help). Installs the cross
# compiler, qemu-user and the target's libraries (toolchains/make_sysroot.sh) first.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: test_cross.sh aarch64|armv7 [QEMU_CPU]}
case "$target" in
  aarch64) toolchain=toolchains/aarch64-linux-gnu.cmake ;;
  armv7) toolchain=toolchains/arm-linux-gnueabihf.cmake ;;
  *) echo "test_cross.sh: unknown target '$target' (aarch64 or armv7)" >&2; exit 2 ;;
esac
./toolchains/make_sysroot.sh "$target"
build=build-$target
cpu_flag=()
if [[ -n "${2:-}" ]]; then cpu_flag=(-DTERRA_QEMU_CPU="$2"); fi
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release -DTERRA_BUILD_TESTS=ON \
  "${cpu_flag[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "test_cross: $target, ctest under qemu-user -cpu $(sed -n 's/^TERRA_QEMU_CPU:STRING=//p' "$build/CMakeCache.txt")"
(cd "$build" && ctest --output-on-failure --no-tests=error -j"$(nproc)")
