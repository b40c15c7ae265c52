# Shared part of the Linux cross toolchains. The including file sets TERRA_TRIPLE,
# TERRA_PROCESSOR, TERRA_QEMU (the qemu-user binary) and TERRA_DEFAULT_QEMU_CPU.
# Libraries come from a sysroot assembled by toolchains/make_sysroot.sh (Debian's packages
# for the target, unpacked); tests run under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${TERRA_PROCESSOR})
set(CMAKE_C_COMPILER ${TERRA_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${TERRA_TRIPLE}-g++)

set(TERRA_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/sysroot-${TERRA_TARGET}" CACHE PATH
  "Target libraries, from toolchains/make_sysroot.sh ${TERRA_TARGET}")
if(NOT EXISTS "${TERRA_SYSROOT}/usr/include/pthreadpool.h")
  message(FATAL_ERROR "No sysroot at ${TERRA_SYSROOT}: run toolchains/make_sysroot.sh ${TERRA_TARGET}")
endif()
# Only the sysroot is searched for libraries, headers and packages; programs (flatc, python)
# come from the host.
set(CMAKE_FIND_ROOT_PATH "${TERRA_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config (SentencePiece) reads the target's .pc files, with paths inside the sysroot.
set(ENV{PKG_CONFIG_LIBDIR} "${TERRA_SYSROOT}/usr/lib/${TERRA_TRIPLE}/pkgconfig:${TERRA_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${TERRA_SYSROOT}")
# The sysroot's shared libraries resolve at link time without being installed system-wide.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${TERRA_SYSROOT}/usr/lib/${TERRA_TRIPLE}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${TERRA_SYSROOT}/usr/lib/${TERRA_TRIPLE}")

# The CPU qemu emulates: pick a real board's core (cortex-a53 is ARMv8.0, as on a Raspberry Pi 3).
set(TERRA_QEMU_CPU "${TERRA_DEFAULT_QEMU_CPU}" CACHE STRING "CPU model for qemu-user (qemu -cpu help)")
find_program(TERRA_QEMU_PATH ${TERRA_QEMU})
if(TERRA_QEMU_PATH)
  # -L: the cross toolchain's C library; LD_LIBRARY_PATH: the sysroot's libraries.
  set(CMAKE_CROSSCOMPILING_EMULATOR "${TERRA_QEMU_PATH};-cpu;${TERRA_QEMU_CPU};-L;/usr/${TERRA_TRIPLE};-E;LD_LIBRARY_PATH=${TERRA_SYSROOT}/usr/lib/${TERRA_TRIPLE}")
endif()
