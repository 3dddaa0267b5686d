/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_DEV_H
#define VNET_DEV_H

#include "base/pool.h"
#include "ring/ring.h"

/* Features this driver implements (others are never negotiated). */
#define VNET_F_IMPLEMENTED                                                                  \
	(VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX |     \
	 VNET_F_SPEED_DUPLEX | VNET_F_GUEST_CSUM | VNET_F_CTRL_VQ | VNET_F_CTRL_RX |        \
	 VNET_F_CTRL_VLAN | VNET_F_GUEST_ANNOUNCE | VNET_F_MQ | VNET_F_CTRL_MAC_ADDR |          \
	 VNET_F_MRG_RXBUF | VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6 |               \
	 VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6 | VNET_F_IN_ORDER | VNET_F_RING_PACKED |      \
	 VNET_F_INDIRECT_DESC | VNET_F_RING_RESET | VNET_F_CTRL_GUEST_OFFLOADS | VNET_F_RSS |   \
	 VNET_F_HASH_REPORT)

/* spec 5.1.2: receiveqN = 2(N-1), transmitqN = 2(N-1)+1, controlq = 2N
 * with MQ (N = max_virtqueue_pairs), 2 without */
#define VNET_RXQ(pair) ((uint16_t)(2 * (pair)))
#define VNET_TXQ(pair) ((uint16_t)(2 * (pair) + 1))
#define VNET_MAX_PAIRS 64
/* Pools a device shares with its transport besides its RX pool
 * (vnet_dev_share_pool). */
#define VNET_DEV_SHARED_POOLS 4
/* spec 5.1.4.1: the smallest MTU a device may report (IPv4's minimum) */
#define VNET_MIN_MTU 68

/* The RSS or hash configuration the application set (ctrl.c), sent again
 * after a reset and with every change of the queue pairs in use. */
struct vnet_rss_state {
	bool set;              /* configured: re-sent after a reset */
	bool rss;              /* RSS_CONFIG (steering); else HASH_CONFIG (hash only) */
	bool default_table;    /* round-robin over the pairs in use, rebuilt with them */
	uint8_t key_len;
	uint32_t types;
	uint16_t table_len;
	uint16_t unclassified;
	uint8_t key[255];
	uint16_t table[VNET_RSS_TABLE_MAX];
};

struct vnet_dev {
	struct vnet_vq *rxq, *txq; /* [npairs] */
	uint16_t npairs;           /* pairs opened (set up at DRIVER_OK) */
	uint16_t active;           /* pairs the device uses now (MQ) */
	struct vnet_transport *t;
	struct vnet_pool *pool;
	uint64_t features;         /* negotiated */
	uint32_t hdr_len;
	struct vnet_dev_conf conf;
	struct vnet_net_config cfg;
	struct vnet_vq ctrlq;      /* size 0 without CTRL_VQ */
	struct vnet_dma ctrl_buf;  /* request and ack bytes */
	bool started;
	bool needs_reset;
	/* A reset did not complete: the device may still write into what it
	 * was given, so every buffer in flight stays on its ring and the ring
	 * memory stays allocated until a reset completes (dev.c). */
	bool held;
	bool cfg_warned;           /* a config value out of range was reported once */
	/* Receive offloads (spec 5.1.6.5.6.1): in force now, and what the
	 * application set (rx_off_set), sent again after a reset (ctrl.c) */
	bool rx_off_set;
	uint64_t rx_off;
	uint64_t rx_off_want;
	uint64_t reset_failures;
	struct vnet_rss_state rss; /* vnet_dev_set_rss / vnet_dev_set_hash (ctrl.c) */
	struct vnet_pool *shared[VNET_DEV_SHARED_POOLS]; /* vnet_dev_share_pool */
	struct vnet_dev *next_parked; /* closed while held: dev.c's parked list */
};

/* ctrl.c */
int vnet_ctrl_cmd(struct vnet_dev *d, uint8_t cls, uint8_t cmd, const void *data, uint32_t len);
/* After a reset (of the device or of its control queue): the receive
 * offloads in force are the negotiated ones again (@device_reset) or
 * unknown; the set the application chose is sent again. 0 or -errno. */
int vnet_rx_offloads_restore(struct vnet_dev *d, bool device_reset);
/* After a reset: the RSS or hash configuration set, sent again. 0 or -errno. */
int vnet_rss_restore(struct vnet_dev *d);

#endif
