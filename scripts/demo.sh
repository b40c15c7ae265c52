#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds terra and generates text with the model in models/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTERRA_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/bin/terra generate -m models/terra-tiny-random.terra -p "${1:-The sparse Terraformer}" -n 64 --seed 1
