#!/usr/bin/env bash
# Stripped sizes of what a device carries, per target, from the builds that exist:
# build (x86-64), build-aarch64, build-armv7 (scripts/test_cross.sh makes the last two). It also
# builds the smallest board library itself (build-<arch>-lib: no tools, no SentencePiece, so
# byte-level tokenizer models only) for each target whose sysroot exists.
# Prints a Markdown table; with --readme, also puts it between the README's size markers.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stripped_kib() {  # stripper file
  cp "$2" "$tmp/f" && "$1" --strip-unneeded "$tmp/f" && echo "$(( ($(stat -c %s "$tmp/f") + 512) / 1024 ))"
}
# Shared libraries libterra.so loads on the board (followed recursively), besides the C and C++
# runtime every program there already has.
dep_kib() {  # readelf lib libdir
  local -A seen=()
  local queue=("$2") total=0
  while ((${#queue[@]})); do
    local f=${queue[0]}
    queue=("${queue[@]:1}")
    for need in $("$1" -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      case "$need" in libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*|libpthread.so*|libdl.so*) continue ;; esac
      [[ -n "${seen[$need]:-}" ]] && continue
      seen[$need]=1
      local real
      real=$(readlink -f "$3/$need")
      total=$((total + $(stat -c %s "$real")))
      queue+=("$real")
    done
  done
  echo "$(( (total + 512) / 1024 )) KiB ($(echo "${!seen[@]}" | tr ' ' '\n' | sed 's/\.so.*//' | sort | paste -sd, | sed 's/,/, /g'))"
}
table="| target | compiler | libterra.so (C API + runtime + tokenizers) | terra CLI | libterra_jni.so | Debian libraries it loads (not stripped) |
|---|---|---|---|---|---|"
row() {  # name build strip gcc libdir readelf
  [[ -f "$2/lib/libterra.so" ]] || return 0
  local jni="-"
  [[ -f "$2/lib/libterra_jni.so" ]] && jni="$(stripped_kib "$3" "$2/lib/libterra_jni.so") KiB"
  local cli="-"
  [[ -f "$2/bin/terra" ]] && cli="$(stripped_kib "$3" "$2/bin/terra") KiB"
  table+=$'\n'"| $1 | $($4 -dumpfullversion) $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$2/CMakeCache.txt") | $(stripped_kib "$3" "$2/lib/libterra.so") KiB | $cli | $jni | $(dep_kib "$6" "$2/lib/libterra.so" "$5") |"
}
for arch in aarch64:aarch64-linux-gnu armv7:arm-linux-gnueabihf; do
  a=${arch%%:*}
  [[ -d toolchains/sysroot-$a ]] || continue
  cmake -S . -B "build-$a-lib" -DCMAKE_TOOLCHAIN_FILE="toolchains/${arch#*:}.cmake" -DCMAKE_BUILD_TYPE=Release \
    -DTERRA_BUILD_TOOLS=OFF -DTERRA_BUILD_TESTS=OFF -DTERRA_WITH_SENTENCEPIECE=OFF >/dev/null
  cmake --build "build-$a-lib" -j"$(nproc)" --target terra_shared terra_jni >/dev/null
done
row "x86-64 (AVX2, AVX-512)" build strip g++ /usr/lib/x86_64-linux-gnu readelf
row "AArch64 (NEON)" build-aarch64 aarch64-linux-gnu-strip aarch64-linux-gnu-g++ toolchains/sysroot-aarch64/usr/lib/aarch64-linux-gnu readelf
row "ARMv7 hard-float (NEON)" build-armv7 arm-linux-gnueabihf-strip arm-linux-gnueabihf-g++ toolchains/sysroot-armv7/usr/lib/arm-linux-gnueabihf readelf
row "AArch64, library only, no SentencePiece" build-aarch64-lib aarch64-linux-gnu-strip aarch64-linux-gnu-g++ toolchains/sysroot-aarch64/usr/lib/aarch64-linux-gnu readelf
row "ARMv7, library only, no SentencePiece" build-armv7-lib arm-linux-gnueabihf-strip arm-linux-gnueabihf-g++ toolchains/sysroot-armv7/usr/lib/arm-linux-gnueabihf readelf
echo "$table"
if [[ "${1:-}" == "--readme" ]]; then
  python3 - "$table" <<'PY'
import re, sys
readme = open("README.md").read()
new = re.sub(r"(<!-- sizes:begin -->\n).*?(<!-- sizes:end -->)", lambda m: m.group(1) + sys.argv[1] + "\n" + m.group(2), readme, flags=re.S)
open("README.md", "w").write(new)
PY
fi
