# Sourced by the bench scripts (scripts/bench_*.sh): installs what they need and builds the
# Release `terra` and `terra-convert`. `bench_prepare --chart` also installs matplotlib (Debian's).
bench_prepare() {
  ./scripts/setup.sh
  if [[ ${1:-} == --chart ]]; then
    dpkg-query -W -f='${Status}' python3-matplotlib 2>/dev/null | grep -q "ok installed" ||
      apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null
  fi
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target terra_cli terra_convert_cli >/dev/null
}

# Sets $dir from the only argument some bench scripts take: [--dir DIR] (default /tmp/terra-bench).
bench_dir_argument() {
  dir=/tmp/terra-bench
  while [[ $# -gt 0 ]]; do
    case $1 in
      --dir) dir=$2; shift 2 ;;
      *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
  done
}
