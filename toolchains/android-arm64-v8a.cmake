# Android phones (arm64-v8a) with Google's NDK. NOT TESTED HERE: this machine has no NDK, and
# Debian's arm64 packages are built against glibc, not Android's bionic, so they cannot be used.
#
#   export ANDROID_NDK=/path/to/android-ndk-r26        # any NDK with CMake support (r23+)
#   # pthreadpool, cpuinfo and FlatBuffers' headers built/installed for Android into DEPS
#   # (the host's flatc generates the schema code), e.g.
#   #   cmake -S pthreadpool -B b -DCMAKE_TOOLCHAIN_FILE=$ANDROID_NDK/build/cmake/android.toolchain.cmake \
#   #         -DANDROID_ABI=arm64-v8a -DANDROID_PLATFORM=android-26 -DCMAKE_INSTALL_PREFIX=DEPS && cmake --build b --target install
#   cmake -S . -B build-android -DCMAKE_TOOLCHAIN_FILE=toolchains/android-arm64-v8a.cmake \
#         -DTERRA_ANDROID_DEPS=DEPS -DTERRA_BUILD_TOOLS=OFF -DTERRA_BUILD_TESTS=OFF \
#         -DTERRA_WITH_SENTENCEPIECE=OFF   # or ON with SentencePiece built for Android in DEPS
#   cmake --build build-android --target terra_shared terra_jni
#
# The app then packages lib/libterra.so and lib/libterra_jni.so (jniLibs/arm64-v8a) with the Java
# classes of platforms/android/java, calls System.loadLibrary("terra_jni"), and loads a model
# from a file or, stored uncompressed in the APK, with Terra.Model.load(fd, offset, length).
if(NOT DEFINED ENV{ANDROID_NDK} AND NOT ANDROID_NDK)
  message(FATAL_ERROR "Set ANDROID_NDK to the NDK's folder (https://developer.android.com/ndk)")
endif()
if(NOT ANDROID_NDK)
  set(ANDROID_NDK $ENV{ANDROID_NDK})
endif()
set(ANDROID_ABI arm64-v8a)
set(ANDROID_PLATFORM android-26 CACHE STRING "Lowest Android API level")  # 8.0: AAsset fd, sched_setaffinity
set(ANDROID_STL c++_shared)
include(${ANDROID_NDK}/build/cmake/android.toolchain.cmake)
set(TERRA_ANDROID_DEPS "" CACHE PATH "Prefix with pthreadpool, cpuinfo and FlatBuffers built for Android")
list(APPEND CMAKE_FIND_ROOT_PATH ${TERRA_ANDROID_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
