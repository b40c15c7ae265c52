#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds terra and generates text with the model in models/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTERRA_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
# The shipped model: a sparse Terraformer trained here on the King James Bible (models/kjv/README.md).
./build/bin/terra generate -m models/kjv-sparse.terra -p "${1:-And God said}" -n 64 --seed 1
# The man-page summarizer: an encoder-decoder Terraformer with LSH attention, trained here, reads
# the start of a manual page and writes its one-line description; imperfectly (its model card,
# models/summarizer/README.md, has the held-out numbers).
./build/bin/terra generate -m models/manpage-summarizer.terra --input models/summarizer/examples/gzip.1.head.txt --temperature 0
