# SPDX-License-Identifier: BSD-3-Clause
# The bare-metal environment, common to the three architectures. Included by
# lib/arch/<cpu>/CMakeLists.txt (the toolchain file sets the cpu) after it set:
#   VNET_ARCH_SRCS      the architecture's entry, console, traps, clock (and
#                       for aarch64 and riscv64 the virt-machine code of
#                       lib/arch/virt)
#   VNET_LINKER_SCRIPT  its linker script (CACHE INTERNAL)
#   VNET_IMAGE_BINARY   ON to also write <name>.img (objcopy -O binary) next
#                       to <name>.elf (CACHE INTERNAL; aarch64's Linux Image)
# It defines, with the same names on every architecture: vnet_libc (the
# freestanding C library), vnet_arch (the environment), vnet (the driver),
# vnet_baremetal_image() and the boot_test image.

set(VNET_LIBC_DIR ${PROJECT_SOURCE_DIR}/lib/libc)

# ---- vnet_libc ------------------------------------------------------------
add_library(vnet_libc STATIC
  ${VNET_LIBC_DIR}/src/string.c
  ${VNET_LIBC_DIR}/src/stdlib.c
  ${VNET_LIBC_DIR}/src/stdio.c
  ${VNET_LIBC_DIR}/src/malloc.c
)
target_include_directories(vnet_libc SYSTEM PUBLIC ${VNET_LIBC_DIR}/include)
target_include_directories(vnet_libc PRIVATE ${PROJECT_SOURCE_DIR}/include)
# Without -fno-tree-loop-distribute-patterns gcc turns memcpy's own loop
# into a call to memcpy.
target_compile_options(vnet_libc PRIVATE ${VNET_WARN} -fno-tree-loop-distribute-patterns)

# ---- vnet_arch: entry, console, traps, clock, platform.h, command line ---
add_library(vnet_arch STATIC
  ${VNET_ARCH_SRCS}
  ${PROJECT_SOURCE_DIR}/lib/arch/common/cmdline.c
  ${PROJECT_SOURCE_DIR}/lib/arch/common/platform.c
  ${PROJECT_SOURCE_DIR}/lib/arch/common/irq.c
)
target_include_directories(vnet_arch
  PUBLIC ${PROJECT_SOURCE_DIR}/include
  PRIVATE ${PROJECT_SOURCE_DIR}/lib ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(vnet_arch PRIVATE $<$<COMPILE_LANGUAGE:C>:${VNET_WARN}>)
# libc's printf/abort need the console and vnet_exit, and the arch needs
# libc: a cycle between two static libraries, which CMake repeats on the
# link line. libgcc provides compiler helpers (e.g. 128-bit division).
target_link_libraries(vnet_arch PUBLIC vnet_libc)
target_link_libraries(vnet_libc PUBLIC vnet_arch gcc)

# ---- vnet: the driver for bare metal --------------------------------------
set(_vnet_srcs)
foreach(s ${VNET_CORE_SRCS} ${VNET_BAREMETAL_TRANSPORT_SRCS})
  if(NOT IS_ABSOLUTE ${s})
    set(s ${PROJECT_SOURCE_DIR}/${s})
  endif()
  list(APPEND _vnet_srcs ${s})
endforeach()
add_library(vnet STATIC ${_vnet_srcs})
target_include_directories(vnet
  PUBLIC ${PROJECT_SOURCE_DIR}/include
  PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_compile_options(vnet PRIVATE ${VNET_WARN})
target_link_libraries(vnet PUBLIC vnet_arch)

# vnet_baremetal_image(<target> SOURCES <srcs...> [LIBS <libs...>])
#
# Links <target>.elf (and <target>.img when VNET_IMAGE_BINARY is on), for
# qemu-system-<cpu> -kernel. The sources define
# int vnet_main(const char *cmdline). The linker script's EXTERN(_start)
# pulls the entry out of vnet_arch, so nothing needs --whole-archive. Pass
# vnet (and the lwIP libraries) in LIBS when used.
function(vnet_baremetal_image name)
  cmake_parse_arguments(IMG "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT IMG_SOURCES)
    message(FATAL_ERROR "vnet_baremetal_image(${name}): SOURCES is required")
  endif()
  add_executable(${name} ${IMG_SOURCES})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${VNET_LINKER_SCRIPT})
  target_compile_options(${name} PRIVATE ${VNET_WARN})
  target_link_options(${name} PRIVATE -Wl,-T,${VNET_LINKER_SCRIPT})
  target_link_libraries(${name} PRIVATE ${IMG_LIBS} vnet_arch vnet_libc)
  if(VNET_IMAGE_BINARY)
    set(img ${CMAKE_CURRENT_BINARY_DIR}/${name}.img)
    add_custom_command(TARGET ${name} POST_BUILD
      COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${name}> ${img}
      BYPRODUCTS ${img}
      VERBATIM)
  endif()
endfunction()

# ---- the environment's own boot test (tests/e2e/boot/boot_test.c) --------
# Run from the host build: tests/e2e/boot/run.sh (x86_64) and
# tests/e2e/virt/run_boot.sh (aarch64, riscv64).
vnet_baremetal_image(boot_test SOURCES ${PROJECT_SOURCE_DIR}/tests/e2e/boot/boot_test.c)
target_include_directories(boot_test PRIVATE ${PROJECT_SOURCE_DIR}/lib)
