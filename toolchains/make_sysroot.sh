#!/usr/bin/env bash
# Assembles a private sysroot with Debian's arm64 or armhf builds of the libraries terra links:
#   toolchains/make_sysroot.sh aarch64|armv7 [DIR]     (default DIR: toolchains/sysroot-<arch>)
# Why not `apt-get install libxnnpack-dev:arm64`: XNNPACK and pthreadpool are not multi-arch, so
# that would remove the amd64 ones; the packages are downloaded and unpacked here instead.
# Also installs the cross compiler and qemu-user (idempotent, quiet when already there).
set -euo pipefail
arch=${1:?usage: make_sysroot.sh aarch64|armv7 [DIR]}
case "$arch" in
  aarch64) deb_arch=arm64; triple=aarch64-linux-gnu ;;
  armv7) deb_arch=armhf; triple=arm-linux-gnueabihf ;;
  *) echo "make_sysroot.sh: unknown target '$arch' (aarch64 or armv7)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
dir=${2:-$here/sysroot-$arch}

# Target libraries: runtime (pthreadpool, cpuinfo), model file (flatbuffers), tokenizer
# (sentencepiece), converter (zlib: trax checkpoints), tests (Catch2), benchmarks (XNNPACK).
# flatbuffers-compiler-dev is left out: its CMake file wants a target flatc; the host's flatc
# generates the code.
PKGS=(libxnnpack0 libxnnpack-dev libpthreadpool0 libpthreadpool-dev libcpuinfo0 libcpuinfo-dev
  libflatbuffers2 libflatbuffers-dev libsentencepiece0 libsentencepiece-dev catch2 zlib1g zlib1g-dev)
# Header-only, architecture-independent: unpacked too, so the sysroot is the only place CMake looks
# (the host's /usr/include has amd64 headers the cross compiler must not see).
ALL_PKGS=(nlohmann-json3-dev libcli11-dev)
HOST_PKGS=("g++-$triple" qemu-user-static)

source "$here/../scripts/apt.sh"
missing=()
for p in "${HOST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
need_update=0
if ! dpkg --print-foreign-architectures | grep -qx "$deb_arch"; then
  $APT_SUDO dpkg --add-architecture "$deb_arch"
  need_update=1
fi
stamp="$dir/.terra-sysroot"
if [[ -f "$stamp" && "$(cat "$stamp")" == "${PKGS[*]} ${ALL_PKGS[*]}" && ${#missing[@]} -eq 0 ]]; then exit 0; fi
if ((need_update)) || ! apt-cache show "libpthreadpool0:$deb_arch" >/dev/null 2>&1; then
  apt_update "${missing[@]}" "${PKGS[@]/%/:$deb_arch}" "${ALL_PKGS[@]}"
fi
if ((${#missing[@]})); then
  echo "make_sysroot: installing ${missing[*]}"
  apt_install "${missing[@]}" >/dev/null
fi

echo "make_sysroot: unpacking ${#PKGS[@]} $deb_arch packages into $dir"
rm -rf "$dir"
mkdir -p "$dir/debs"
(cd "$dir/debs" && apt_download "${PKGS[@]/%/:$deb_arch}" "${ALL_PKGS[@]}")
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir"; done
rm -rf "$dir/debs"
# Debian's dev symlinks are absolute (/usr/lib/..., /lib/...): point them inside the sysroot, and
# give the libraries that live in /lib (zlib) a link in /usr/lib, the one folder the tools search.
libdir="$dir/usr/lib/$triple"
if [[ -d "$dir/lib/$triple" ]]; then
  for lib in "$dir/lib/$triple"/*; do ln -sf "../../../lib/$triple/$(basename "$lib")" "$libdir/$(basename "$lib")"; done
fi
for link in "$libdir"/*.so; do
  target=$(readlink "$link" || true)
  if [[ "$target" == /* ]]; then ln -sf "$(basename "$target")" "$link"; fi
done
echo "${PKGS[*]} ${ALL_PKGS[*]}" > "$stamp"
