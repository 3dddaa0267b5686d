# SPDX-License-Identifier: BSD-3-Clause
# lwIP 2.1.3 (from ${LWIP_DIR}, fetched by tools/setup; never copied here)
# built with vnet's options, and the vnet lwIP glue:
#
#   vnet_lwip   lwIP core (IPv4, ARP/Ethernet, ICMP, IPv6, ND, ICMPv6, raw,
#               UDP, TCP) and the lwiperf app, plus lib/lwip/port.c (sys_now,
#               LWIP_RAND, assertions, routing hooks). Public include dirs: lwIP's and
#               lib/lwip/include (lwipopts.h, arch/cc.h).
#   vnet_iface  the netif over a vnet device (lib/lwip/netif.c, its TX in
#               tx.c, RX in rx.c, software GRO in gro.c) and the Interface
#               API (include/vnet/iface.h: iface.c, tcp.c, udp.c). Links
#               vnet_lwip; the address parsing it uses (lib/base/addr.c,
#               no lwIP in it) is the driver library's.
#
# Consumers link vnet_iface and the driver library (vnet on the host).
# Works for the host build and for bare metal (CMAKE_SYSTEM_NAME Generic),
# where lwIP sees the freestanding libc in lib/libc/include.
#
# The sources are listed here rather than taken from lwIP's
# src/Filelists.cmake, whose inclusion would configure_file() into the lwIP
# tree and add targets that build every lwIP app.

set(VNET_LWIP_SRCS
  ${LWIP_DIR}/src/core/init.c
  ${LWIP_DIR}/src/core/def.c
  ${LWIP_DIR}/src/core/inet_chksum.c
  ${LWIP_DIR}/src/core/ip.c
  ${LWIP_DIR}/src/core/mem.c
  ${LWIP_DIR}/src/core/memp.c
  ${LWIP_DIR}/src/core/netif.c
  ${LWIP_DIR}/src/core/pbuf.c
  ${LWIP_DIR}/src/core/raw.c
  ${LWIP_DIR}/src/core/stats.c
  ${LWIP_DIR}/src/core/sys.c
  ${LWIP_DIR}/src/core/tcp.c
  ${LWIP_DIR}/src/core/tcp_in.c
  ${LWIP_DIR}/src/core/tcp_out.c
  ${LWIP_DIR}/src/core/timeouts.c
  ${LWIP_DIR}/src/core/udp.c
  ${LWIP_DIR}/src/core/ipv4/etharp.c
  ${LWIP_DIR}/src/core/ipv4/icmp.c
  ${LWIP_DIR}/src/core/ipv4/ip4.c
  ${LWIP_DIR}/src/core/ipv4/ip4_addr.c
  ${LWIP_DIR}/src/core/ipv4/ip4_frag.c
  ${LWIP_DIR}/src/core/ipv6/ethip6.c
  ${LWIP_DIR}/src/core/ipv6/icmp6.c
  ${LWIP_DIR}/src/core/ipv6/ip6.c
  ${LWIP_DIR}/src/core/ipv6/ip6_addr.c
  ${LWIP_DIR}/src/core/ipv6/ip6_frag.c
  ${LWIP_DIR}/src/core/ipv6/nd6.c
  ${LWIP_DIR}/src/netif/ethernet.c
  ${LWIP_DIR}/src/apps/lwiperf/lwiperf.c
)
foreach(f ${VNET_LWIP_SRCS})
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "lwIP source ${f} missing: is ${LWIP_DIR} lwIP 2.1.3? (tools/setup)")
  endif()
endforeach()

set(VNET_LWIP_PORT_SRCS ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/port.c)
set(VNET_IFACE_SRCS
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/netif.c
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/tx.c
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/rx.c
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/gro.c
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/iface.c
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/tcp.c
  ${CMAKE_CURRENT_LIST_DIR}/../lib/lwip/udp.c
)

# Build-time default for copy-always RX (run time: vnet_iface_conf.rx_copy).
option(VNET_LWIP_RX_COPY "lwIP glue: copy every received frame (no zero-copy RX) by default" OFF)
# Route LWIP_PLATFORM_DIAG to vnet_log (DEBUG level); silent otherwise.
option(VNET_LWIP_DIAG "lwIP glue: forward lwIP diagnostics to vnet_log" OFF)

add_library(vnet_lwip STATIC ${VNET_LWIP_SRCS} ${VNET_LWIP_PORT_SRCS})
target_include_directories(vnet_lwip
  PUBLIC
    ${PROJECT_SOURCE_DIR}/lib/lwip/include
    ${LWIP_DIR}/src/include
  PRIVATE
    ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_SOURCE_DIR}/lib)
target_compile_options(vnet_lwip PRIVATE -O2)
if(VNET_LWIP_DIAG)
  target_compile_definitions(vnet_lwip PUBLIC VNET_LWIP_DIAG=1)
endif()
# lwIP's own files: warnings relaxed, never -Werror (third-party code).
set_source_files_properties(${VNET_LWIP_SRCS} PROPERTIES
  COMPILE_OPTIONS "-Wno-unused-parameter;-Wno-address;-Wno-unused-but-set-variable;-Wno-unused-variable")
# Our port file keeps the project's warnings.
set_source_files_properties(${VNET_LWIP_PORT_SRCS} PROPERTIES
  COMPILE_OPTIONS "${VNET_WARN}")

add_library(vnet_iface STATIC ${VNET_IFACE_SRCS})
target_include_directories(vnet_iface
  PUBLIC
    ${PROJECT_SOURCE_DIR}/include
  PRIVATE
    ${PROJECT_SOURCE_DIR}/lib)
target_compile_options(vnet_iface PRIVATE ${VNET_WARN} -O2)
if(VNET_LWIP_RX_COPY)
  target_compile_definitions(vnet_iface PRIVATE VNET_LWIP_RX_COPY=1)
endif()
target_link_libraries(vnet_iface PUBLIC vnet_lwip)

if(VNET_BAREMETAL OR CMAKE_SYSTEM_NAME STREQUAL "Generic")
  # lwIP compiles against the freestanding libc (lib/libc, another part of
  # the tree); its headers come before the compiler's own.
  foreach(t vnet_lwip vnet_iface)
    target_include_directories(${t} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/lib/libc/include)
    target_compile_options(${t} PRIVATE -ffreestanding)
  endforeach()
  target_include_directories(vnet_lwip BEFORE INTERFACE ${PROJECT_SOURCE_DIR}/lib/libc/include)
  # vnet_libc is defined later (lib/arch/x86_64): resolve at generate time.
  target_link_libraries(vnet_lwip PUBLIC $<TARGET_NAME_IF_EXISTS:vnet_libc>)
endif()
# The driver (vnet_now_us, vnet_log, the pool and bursts) is whatever target
# the build defines: vnet on the host. Linked if it exists, so the order of
# definition in the top-level CMakeLists.txt does not matter.
target_link_libraries(vnet_lwip PUBLIC $<TARGET_NAME_IF_EXISTS:vnet>)
