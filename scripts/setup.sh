#!/usr/bin/env bash
# Installs the Debian packages terra builds, tests and runs with. Idempotent: quiet and
# fast when everything is already installed.
set -euo pipefail

# Runtime and build: compilers, CMake, and the libraries the C++ code links.
BUILD_PKGS=(g++ cmake make pkg-config
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libflatbuffers-dev flatbuffers-compiler
  nlohmann-json3-dev libcli11-dev libsentencepiece-dev zlib1g-dev)
# Tests: Catch2 v2, the PyTorch reference that produces golden data, a JDK for the Java binding,
# (The ARM cross builds install their compilers, qemu-user and target libraries themselves:
# toolchains/make_sysroot.sh.)
# clang and its runtimes: the libFuzzer targets (scripts/fuzz.sh).
TEST_PKGS=(catch2 python3 python3-torch python3-numpy libopenblas0-pthread python3-sentencepiece
  python3-flatbuffers sentencepiece openjdk-17-jdk-headless clang libclang-rt-14-dev)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then exit 0; fi

source "$(dirname "$0")/apt.sh"
echo "setup: installing ${missing[*]}"
apt_update "${missing[@]}"
apt_install "${missing[@]}" >/dev/null
