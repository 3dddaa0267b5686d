/* SPDX-License-Identifier: BSD-3-Clause */
/* Structures that mirror the virtio 1.2 specification, little-endian. */
#ifndef VNET_VIRTIO_SPEC_H
#define VNET_VIRTIO_SPEC_H

#include <stddef.h>
#include <stdint.h>

/* Split virtqueue (spec 2.7.5 - 2.7.8). */
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

struct vring_desc { /* 2.7.5 */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "spec 2.7.5");
_Static_assert(offsetof(struct vring_desc, flags) == 12, "spec 2.7.5");

struct vring_avail { /* 2.7.6; used_event follows ring[size] */
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};
_Static_assert(sizeof(struct vring_avail) == 4, "spec 2.7.6");

struct vring_used_elem { /* 2.7.8 */
	uint32_t id;
	uint32_t len;
};
_Static_assert(sizeof(struct vring_used_elem) == 8, "spec 2.7.8");

struct vring_used { /* 2.7.8; avail_event follows ring[size] */
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};
_Static_assert(offsetof(struct vring_used, ring) == 4, "spec 2.7.8");

/* Alignment (spec 2.7, table "Virtqueue Part Alignment"). */
#define VRING_DESC_ALIGN  16
#define VRING_AVAIL_ALIGN 2
#define VRING_USED_ALIGN  4

/*
 * Legacy interface (spec 2.7, "Legacy Interfaces: A Note on Virtqueue
 * Layout"; 4.1.4.8, 4.2.4): the device is given one page frame number, so
 * the split ring is one contiguous, page-aligned block: the descriptor
 * table, the avail ring right behind it (with used_event), then the used
 * ring (with avail_event) at the next 4096-byte boundary.
 */
#define VRING_LEGACY_ALIGN 4096u
#define VRING_LEGACY_PFN_SHIFT 12

static inline size_t vring_legacy_avail_off(uint16_t size)
{
	return (size_t)16 * size;
}

static inline size_t vring_legacy_used_off(uint16_t size)
{
	size_t end = vring_legacy_avail_off(size) + 6 + (size_t)2 * size;

	return (end + VRING_LEGACY_ALIGN - 1) & ~(size_t)(VRING_LEGACY_ALIGN - 1);
}

static inline size_t vring_legacy_size(uint16_t size)
{
	size_t used = 6 + (size_t)8 * size;

	return vring_legacy_used_off(size) + ((used + VRING_LEGACY_ALIGN - 1) & ~(size_t)(VRING_LEGACY_ALIGN - 1));
}

/* 2.7.10: the event-index test: should a notification be sent, given the
 * other side asked for one at @event and the index moved old -> new? */
static inline int vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* virtio_net_hdr (spec 5.1.6). 10 bytes legacy without MRG_RXBUF;
 * 12 bytes with VERSION_1 or MRG_RXBUF (num_buffers). Legacy fields are
 * in the guest's byte order (5.1.6.1): little-endian on every target. */
#define VIRTIO_NET_HDR_LEGACY_LEN 10
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "legacy fields are guest-endian (5.1.6.1, 2.7): "
               "read as little-endian here");
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "spec 5.1.6");
_Static_assert(offsetof(struct virtio_net_hdr, num_buffers) == 10, "spec 5.1.6");

/* spec 5.1.6: with VIRTIO_NET_F_HASH_REPORT the header (both directions)
 * grows by le32 hash_value, le16 hash_report and le16 padding_reserved;
 * hash_report is one of VIRTIO_NET_HASH_REPORT_* (5.1.6.4.3). */
#define VIRTIO_NET_HDR_HASH_LEN 20
#define VIRTIO_NET_HDR_HASH_VALUE_OFF 12
#define VIRTIO_NET_HDR_HASH_REPORT_OFF 16
#define VIRTIO_NET_HASH_REPORT_NONE 0
#define VIRTIO_NET_HASH_REPORT_UDPV6_EX 9 /* the last value the spec defines */

/* virtio-net device configuration layout (spec 5.1.4). */
#define VIRTIO_NET_CFG_MAC       0
#define VIRTIO_NET_CFG_STATUS    6
#define VIRTIO_NET_CFG_MAX_PAIRS 8
#define VIRTIO_NET_CFG_MTU       10
#define VIRTIO_NET_CFG_SPEED     12
#define VIRTIO_NET_CFG_DUPLEX    16
/* spec 5.1.4: with VIRTIO_NET_F_RSS or VIRTIO_NET_F_HASH_REPORT */
#define VIRTIO_NET_CFG_RSS_MAX_KEY   17 /* u8 rss_max_key_size */
#define VIRTIO_NET_CFG_RSS_MAX_TABLE 18 /* le16 rss_max_indirection_table_length */
#define VIRTIO_NET_CFG_HASH_TYPES    20 /* le32 supported_hash_types */
/* spec 5.1.4.1: a device offering RSS or HASH_REPORT has a key of at least
 * 40 bytes; with RSS an indirection table of at least 128 entries */
#define VIRTIO_NET_RSS_MIN_KEY   40
#define VIRTIO_NET_RSS_MIN_TABLE 128
#define VIRTIO_NET_S_LINK_UP  1
#define VIRTIO_NET_S_ANNOUNCE 2

#define VIRTIO_ID_NET 1

/* Control virtqueue (spec 5.1.6.5): class, command, data, then the ack
 * byte the device writes. */
#define VIRTIO_NET_OK  0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1
#define VIRTIO_NET_CTRL_VLAN 2
#define VIRTIO_NET_CTRL_VLAN_ADD 0
#define VIRTIO_NET_CTRL_VLAN_DEL 1
#define VIRTIO_NET_CTRL_ANNOUNCE 3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK 0
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000
/* spec 5.1.6.5.7, receive-side scaling (RSS_CONFIG: le32 hash_types, le16
 * indirection_table_mask, le16 unclassified_queue, le16
 * indirection_table[mask + 1], le16 max_tx_vq, u8 hash_key_length, key),
 * and 5.1.6.5.5's hash calculation command (HASH_CONFIG: le32 hash_types,
 * le16 reserved[4], u8 hash_key_length, key). Of the MQ commands, the last
 * one sent decides the steering in force (5.1.6.5.5). */
#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG 1
#define VIRTIO_NET_CTRL_MQ_HASH_CONFIG 2
/* spec 5.1.6.5.6.1: data is one le64, the feature bits of the offloads wanted */
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS 5
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

#endif
