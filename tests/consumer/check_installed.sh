#!/usr/bin/env bash
# Installs the build into a fresh prefix, then builds the consumer against it twice: through
# find_package(terra) and through pkg-config, and runs both on the shipped model.
#   check_installed.sh BUILD_DIR SOURCE_DIR WORK_DIR MODEL
set -euo pipefail
build=$1 src=$2 work=$3 model=$4
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
ls "$work"/prefix/include/terra.h "$work"/prefix/bin/terra "$work"/prefix/bin/terra-convert >/dev/null

cmake -S "$src/tests/consumer" -B "$work/find_package" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find_package" >/dev/null
"$work/find_package/consumer" "$model" "And God said"

pc_dir=$(dirname "$(find "$work/prefix" -name terra.pc)")
flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs terra)
cc "$src/tests/consumer/consumer.c" $flags -o "$work/pkg_config_consumer"
libdir=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --variable=libdir terra)
LD_LIBRARY_PATH="$libdir" "$work/pkg_config_consumer" "$model" "And God said"
echo "installed tree: find_package and pkg-config consumers ran"
