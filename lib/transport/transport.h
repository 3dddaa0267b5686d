/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The transport interface: what the net device needs from PCI (spec
 * 4.1, modern or legacy), MMIO (spec 4.2, version 2 or 1), vhost-user and
 * the in-process device model. Each transport is one file ending in a
 * const vnet_transport_ops.
 */
#ifndef VNET_TRANSPORT_H
#define VNET_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

struct vnet_transport;
struct vnet_dma;

/* Device status bits (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Guest-physical (bus) addresses of one split virtqueue's three parts. */
struct vnet_vq_addrs {
	uint64_t desc, avail, used;
};

struct vnet_transport_ops {
	const char *name;
	/* Write 0 to status and wait (bounded) until the device reads back 0.
	 * 0 or -ETIMEDOUT (the device may still be using its rings: the
	 * device layer keeps everything it was given); -ECONNRESET: the device
	 * is gone (a vhost-user backend that hung up) and touches nothing
	 * any more. */
	int (*reset)(struct vnet_transport *t);
	uint8_t (*get_status)(struct vnet_transport *t);
	void (*set_status)(struct vnet_transport *t, uint8_t status);
	uint64_t (*get_features)(struct vnet_transport *t);
	void (*set_features)(struct vnet_transport *t, uint64_t features);
	/* Config generation (spec 2.5.1); transports without one return 0. */
	uint32_t (*config_generation)(struct vnet_transport *t);
	/* Read @len bytes of device config at @off, with accesses no wider
	 * than the field (1, 2 or 4 bytes aligned; 8 as two 4s). */
	void (*read_config)(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len);
	/* Largest size queue @q accepts; 0 when the queue does not exist. */
	uint16_t (*queue_max)(struct vnet_transport *t, uint16_t q);
	/* Program size and addresses of queue @q and enable it. 0 or -errno. */
	int (*queue_setup)(struct vnet_transport *t, uint16_t q, uint16_t size,
	                   const struct vnet_vq_addrs *addrs);
	/* Tell the device that queue @q has new buffers. */
	void (*notify)(struct vnet_transport *t, uint16_t q);
	/* Release what the transport itself holds (mappings, fds, memory). */
	void (*close)(struct vnet_transport *t);
	/* VIRTIO_F_RING_RESET (spec 2.6.1): reset queue @q alone, wait
	 * (bounded) until the device says the reset is over, and check that
	 * the queue reads disabled; queue_setup() then re-enables it. 0,
	 * -ETIMEDOUT (still resetting), -EIO (the queue stayed enabled: the
	 * device did not reset it), -EINVAL. NULL: the transport cannot, and
	 * the feature is never negotiated over it. */
	int (*queue_reset)(struct vnet_transport *t, uint16_t q);
	/* Let the device reach memory (@on) or stop it (PCI: Bus Master
	 * Enable in the command register). The device layer turns it off
	 * when a reset does not complete (the device may still be writing
	 * into buffers and rings) and on again after a reset that completes.
	 * NULL: the transport cannot (MMIO, vhost-user, the fuzz transport). */
	void (*bus_master)(struct vnet_transport *t, bool on);
	/* The DMA memory of the one device driven over this transport: its
	 * rings, indirect tables, control buffer and pools, @n regions (0:
	 * none). Set before the first queue_setup after each reset and when a
	 * pool is shared later (vnet_dev_share_pool). For a transport that
	 * hands memory to its device by region (vhost-user's memory table):
	 * only these go, never another device's. The array is copied. 0 or
	 * -errno (-E2BIG: more regions than the device can map). NULL: the
	 * device reaches all memory anyway (PCI, MMIO). */
	int (*set_dma_regions)(struct vnet_transport *t, const struct vnet_dma *r, unsigned n);
	/* The legacy interface (virtio 0.9.5; spec 4.1.4.8 PCI, 4.2.4 MMIO
	 * version 1): 32 feature bits and no VERSION_1, so no packed ring,
	 * IN_ORDER or RING_RESET; no FEATURES_OK (3.1.2); split rings in the
	 * legacy layout given by page frame number (virtio_spec.h), at the
	 * device's queue size; the 10-byte header without MRG_RXBUF
	 * (5.1.6.1). queue_setup gets that layout's three addresses. */
	bool legacy;
};

/* Every transport embeds this first. */
struct vnet_transport {
	const struct vnet_transport_ops *ops;
};

#endif
