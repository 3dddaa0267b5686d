/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_DEV_H
#define VNET_DEV_H

#include "net/pool.h"
#include "virtio/vring.h"

/* Features this driver implements (others are never negotiated). */
#define VNET_F_IMPLEMENTED                                                                  \
	(VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX |     \
	 VNET_F_SPEED_DUPLEX | VNET_F_GUEST_CSUM)

#define VNET_RXQ(pair) ((uint16_t)(2 * (pair)))
#define VNET_TXQ(pair) ((uint16_t)(2 * (pair) + 1))

struct vnet_dev {
	struct vnet_vq rxq, txq;   /* one queue pair */
	struct vnet_transport *t;
	struct vnet_pool *pool;
	uint64_t features;         /* negotiated */
	uint32_t hdr_len;
	struct vnet_dev_conf conf;
	struct vnet_net_config cfg;
	bool started;
	bool needs_reset;
};

#endif
