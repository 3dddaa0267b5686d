/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny transport for fuzzing: the device's registers (status, features,
 * config space and generation, queue sizes) come from the fuzzer, and the
 * rings are left to the fuzz target, which plays the device by writing
 * used entries and used indices directly (tests/fuzz/fuzz_used_ring.c).
 *
 * With a script (ft->in set), every register access may consume input
 * bytes to decide how the device misbehaves at that moment; without one it
 * is a well-behaved device with the fields below.
 */
#ifndef VNET_FUZZ_TRANSPORT_H
#define VNET_FUZZ_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "virtio/transport.h"
#include "virtio/virtio_spec.h"

struct ft_queue {
	uint16_t size;          /* 0: not set up */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;    /* next avail entry the device takes */
	uint16_t used_idx;      /* next used slot the device writes */
	bool packed;            /* RING_PACKED negotiated: this device plays
	                         * split rings only, so it leaves it alone */
};

struct ftrans {
	struct vnet_transport t;    /* first */
	struct fin *in;             /* script: NULL for a well-behaved device */
	uint8_t status;
	uint64_t offer;
	uint64_t drv_features;
	uint32_t generation;
	uint8_t cfg[24];
	uint16_t qmax[2];
	struct ft_queue q[2];
	uint64_t notifies, resets, config_reads;
};

/* A well-behaved device: VERSION_1|MAC|MTU|STATUS|EVENT_IDX, link up,
 * MTU 1500, queues of up to @qmax. */
void ft_init(struct ftrans *ft, uint16_t qmax);

/* Device side of the rings: complete the next available buffer. RX: the
 * input picks a well-formed frame (header + data within the buffer), a
 * raw length, or a short one; TX: len 0. No-op when nothing is available. */
void ft_rx_complete(struct ft_queue *q, struct fin *in);
void ft_tx_complete(struct ft_queue *q);
/* Publish everything completed so far. */
void ft_publish(struct ft_queue *q);

#endif
