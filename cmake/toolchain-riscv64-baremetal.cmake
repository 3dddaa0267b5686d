# SPDX-License-Identifier: BSD-3-Clause
# Bare-metal riscv64 (QEMU -machine virt, S-mode after OpenSBI) with
# Debian's cross gcc (gcc-riscv64-linux-gnu) used freestanding, and vnet's
# own C library.
#
#   cmake -S . -B build/bm-riscv64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-riscv64-baremetal.cmake
#
# Headers: lib/libc/include first, then gcc's freestanding ones; never the
# cross sysroot's glibc. rv64gc/lp64d, the ABI Debian's libgcc is built
# for (boot.S turns the FPU on). medany: the image is linked at
# 0x80200000, beyond medlow's +-2 GiB around 0.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv64)

set(VNET_CROSS riscv64-linux-gnu-)
set(CMAKE_C_COMPILER ${VNET_CROSS}gcc)
set(CMAKE_ASM_COMPILER ${VNET_CROSS}gcc)
set(CMAKE_OBJCOPY ${VNET_CROSS}objcopy CACHE FILEPATH "objcopy for the target")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE VNET_GCC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
get_filename_component(VNET_LIBC_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/../lib/libc/include" ABSOLUTE)

set(_vnet_bm_flags "-ffreestanding -nostdinc -isystem ${VNET_LIBC_INCLUDE} -isystem ${VNET_GCC_INCLUDE} \
-fno-pie -fno-pic -fno-stack-protector -march=rv64gc -mabi=lp64d -mcmodel=medany \
-fno-asynchronous-unwind-tables -fno-unwind-tables -O2 -g")
set(CMAKE_C_FLAGS_INIT "${_vnet_bm_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_vnet_bm_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 \
-Wl,--build-id=none -Wl,--no-warn-rwx-segments")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
