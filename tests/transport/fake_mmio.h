/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake virtio-mmio register window (spec 4.2.2) whose registers behave
 * on trapped accesses (trap.h): feature and queue select, QueueReady,
 * reset, notify, InterruptStatus/InterruptACK, config at +0x100; with
 * version 1 the legacy GuestPageSize, QueueAlign and QueuePFN (4.2.4). It also
 * records what a driver must not do: wrong widths, reads of write-only and
 * writes of read-only registers; and every control register access in order.
 */
#ifndef VNET_TEST_FAKE_MMIO_H
#define VNET_TEST_FAKE_MMIO_H

#include <stdint.h>

#include "trap.h"

#define FMMIO_QUEUES  3
#define FMMIO_MAX_LOG 64

struct fake_mmio_vq {
	uint32_t max, num, ready, resetting;
	uint32_t align, pfn;     /* version 1: QueueAlign, QueuePFN */
	unsigned pfn_writes;
	uint32_t desc[2], driver[2], device[2];
	unsigned addr_writes;
};

struct fake_mmio {
	struct trap_region win; /* the window is the first 0x200 bytes */
	uint32_t magic, version, devid, vendor;
	uint64_t dev_features, drv_features;
	uint32_t dfs, drfs, qsel, status, generation;
	struct fake_mmio_vq q[FMMIO_QUEUES];
	int reset_stuck;
	int pfn_stuck;           /* version 1: QueuePFN ignores writes (reads 0) */
	uint32_t page_size;      /* version 1: GuestPageSize as written */
	/* QueueReset (RING_RESET): 0 resets the queue, 1 never completes
	 * (reads 1), 2 not implemented (reads 0, the queue stays ready: QEMU
	 * 7.2's virtio-mmio) */
	int qreset_mode;
	unsigned qresets;
	/* InterruptStatus: the bits the device has raised (bit 0 used buffer,
	 * bit 1 configuration change); a write to InterruptACK clears those
	 * written, as QEMU's virtio-mmio does */
	uint32_t int_status;
	uint32_t raise_after_read; /* raised once InterruptStatus has been read */
	unsigned accesses, status_reads, resets;
	unsigned bad_width, wo_reads, ro_writes, after_empty_id, ready_early, notifies;
	uint32_t last_notify;
	unsigned ncfg;
	struct { uint32_t off; unsigned width; } cfg_log[FMMIO_MAX_LOG];
	/* control registers (below 0x100) as accessed: the value read or
	 * written; a test sets nreg to 0 to look at what follows */
	unsigned nreg;
	struct { uint32_t off; int write; uint32_t val; } reg_log[FMMIO_MAX_LOG];
};

/* A window with magic, @version and @devid. 0 or -1. */
int fake_mmio_init(struct fake_mmio *m, uint32_t version, uint32_t devid);
void fake_mmio_fini(struct fake_mmio *m);
/* After changing ID registers in @m: without traps (valgrind) the window
 * is plain memory and needs the new values written into it. */
void fake_mmio_sync(struct fake_mmio *m);

#endif
