/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-stage cycle accounting of the fast path, on with CMake
 * -DVNET_STAGE_CYCLES=ON (which defines VNET_STAGE_CYCLES=1); off, every
 * macro compiles to nothing. Plain counters: one polling thread (vnet-bench).
 */
#ifndef VNET_STAGE_H
#define VNET_STAGE_H

#include <stdint.h>

enum vnet_stage {
	VNET_STAGE_HARVEST, /* used-ring harvest: RX burst and TX reclaim */
	VNET_STAGE_REFILL,  /* RX buffers posted */
	VNET_STAGE_POST,    /* TX descriptors filled */
	VNET_STAGE_PUBLISH, /* avail index store, barrier, need-kick test */
	VNET_STAGE_KICK,    /* the notify itself */
	VNET_STAGE__COUNT
};

#if VNET_STAGE_CYCLES
#include "base/platform.h"
extern uint64_t vnet_stage_cycles[VNET_STAGE__COUNT];
extern uint64_t vnet_stage_calls[VNET_STAGE__COUNT];
#define VNET_STAGE_BEGIN(t) uint64_t t = vnet_cycles()
#define VNET_STAGE_END(s, t)                                   \
	do {                                                   \
		vnet_stage_cycles[s] += vnet_cycles() - (t);   \
		vnet_stage_calls[s]++;                         \
	} while (0)
#else
#define VNET_STAGE_BEGIN(t) do { } while (0)
#define VNET_STAGE_END(s, t) do { } while (0)
#endif

#endif
