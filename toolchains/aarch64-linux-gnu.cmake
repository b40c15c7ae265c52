# 64-bit ARM Linux boards (Raspberry Pi 3/4/5, Jetson, RK3588 ...), with Debian's cross compiler:
#   toolchains/make_sysroot.sh aarch64
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
set(TERRA_TARGET aarch64)
set(TERRA_TRIPLE aarch64-linux-gnu)
set(TERRA_PROCESSOR aarch64)
set(TERRA_QEMU qemu-aarch64-static)
set(TERRA_DEFAULT_QEMU_CPU cortex-a53)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
