# SPDX-License-Identifier: BSD-3-Clause
# The benchmark's core, one copy for vnet-bench (Linux, bench/) and
# vnet-bench-bm (bare metal, bench/baremetal/): the modes, the frames, the
# latency histogram, option checks and the output. Included by both; each
# compiles these with its own toolchain.
set(VNET_BENCH_CORE_DIR ${CMAKE_CURRENT_LIST_DIR})
# what the host peer (bench/peer/vmb-peer.c) needs too: no device
set(VNET_BENCH_FRAME_SRCS
  ${VNET_BENCH_CORE_DIR}/frame.c
  ${VNET_BENCH_CORE_DIR}/hist.c
  ${VNET_BENCH_CORE_DIR}/out.c
)
set(VNET_BENCH_CORE_SRCS
  ${VNET_BENCH_FRAME_SRCS}
  ${VNET_BENCH_CORE_DIR}/modes.c
  ${VNET_BENCH_CORE_DIR}/opts.c
  ${VNET_BENCH_CORE_DIR}/stages.c
)
