# 32-bit ARMv7 Linux boards with NEON (Raspberry Pi 2, BeagleBone, i.MX6 ...), hard-float ABI:
#   toolchains/make_sysroot.sh armv7
#   cmake -S . -B build-armv7 -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
set(TERRA_TARGET armv7)
set(TERRA_TRIPLE arm-linux-gnueabihf)
set(TERRA_PROCESSOR armv7)
set(TERRA_QEMU qemu-arm-static)
set(TERRA_DEFAULT_QEMU_CPU cortex-a7)
# GCC notes on every std::vector of structs about an ABI change in GCC 7.1: not ours to act on.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
# Debian's armhf baseline is ARMv7 + VFPv3-D16 without NEON: the NEON kernel files add
# -mfpu=neon-fp16 themselves and run only when the CPU reports NEON.
