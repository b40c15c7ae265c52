#!/usr/bin/env bash
# Until the ARM builds run the whole suite under emulation (issue 7): cross-compiles the NEON
# kernel set with the scalar one and compares every entry under qemu-user, on AArch64 and ARMv7.
# Needs g++-aarch64-linux-gnu, g++-arm-linux-gnueabihf and qemu-user-static (apt-get).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/terra-neon-check
mkdir -p "$out"
srcs=("$root/tests/cross/neon_vs_scalar.cpp" "$root/runtime/kernels/scalar.cpp" "$root/runtime/kernels/arm/neon.cpp")
aarch64-linux-gnu-g++ -std=c++17 -O2 -static -I"$root/runtime" "${srcs[@]}" -o "$out/aarch64"
arm-linux-gnueabihf-g++ -std=c++17 -O2 -static -mfpu=neon-fp16 -mfp16-format=ieee -I"$root/runtime" "${srcs[@]}" -o "$out/armv7"
qemu-aarch64-static -cpu cortex-a53 "$out/aarch64"
qemu-arm-static -cpu cortex-a7 "$out/armv7"
