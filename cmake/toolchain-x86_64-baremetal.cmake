# SPDX-License-Identifier: BSD-3-Clause
# Bare-metal x86_64 (QEMU PVH) with the host gcc, no host libc.
#
#   cmake -S . -B build-bm -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-x86_64-baremetal.cmake
#
# Headers: our lib/libc/include first, then gcc's freestanding ones
# (stdint.h, stddef.h, stdarg.h, stdbool.h, cpuid.h); never /usr/include.
# boot.S enables SSE, so ordinary -O2 code generation is fine (no
# -mgeneral-regs-only). -mno-red-zone is kept although interrupts are off:
# the exception handlers run on the interrupted stack.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
# No libc to link a test program against: check the compiler by compiling.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE VNET_GCC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
get_filename_component(VNET_LIBC_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/../lib/libc/include" ABSOLUTE)

set(_vnet_bm_flags "-ffreestanding -nostdinc -isystem ${VNET_LIBC_INCLUDE} -isystem ${VNET_GCC_INCLUDE} \
-fno-pie -fno-pic -fno-stack-protector -mno-red-zone -mcmodel=small \
-fno-asynchronous-unwind-tables -fno-unwind-tables -O2 -g")
set(CMAKE_C_FLAGS_INIT "${_vnet_bm_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_vnet_bm_flags}")
# The linker script (-T) is added per image by vnet_baremetal_image().
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 \
-Wl,--build-id=none -Wl,--no-warn-rwx-segments")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
