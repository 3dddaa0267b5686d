/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user wire format (QEMU docs/interop/vhost-user.rst, "Message
 * Specification"): the frontend transport (vhost_user.c) and the test
 * backend (tests/linux/) share it. Host byte order throughout.
 */
#ifndef VNET_VHOST_USER_H
#define VNET_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

/* Requests (section "Front-end message types"). */
enum {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
};

/* Header flags: version in bits 0-1, reply (bit 2), need_reply (bit 3). */
#define VHOST_USER_VERSION        0x1u
#define VHOST_USER_VERSION_MASK   0x3u
#define VHOST_USER_FLAG_REPLY     (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)

/* The vhost-user reuse of virtio's reserved feature bit 30. */
#define VHOST_USER_F_PROTOCOL_FEATURES (1ull << 30)
#define VHOST_F_LOG_ALL                (1ull << 26)

/* Protocol features (section "Protocol features"); vnet implements these. */
#define VHOST_USER_PROTOCOL_F_MQ        0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG    9
#define VHOST_USER_PROTOCOL_F_STATUS    16

/* SET_VRING_KICK/CALL payload: bits 0-7 the ring, bit 8 "no fd". */
#define VHOST_USER_VRING_IDX_MASK 0xffu
#define VHOST_USER_VRING_NOFD     (1u << 8)

/* SET/GET_VRING_BASE of a packed ring (section "Ring states"): bits 0-14
 * the next available index, bit 15 the available wrap counter. */
#define VHOST_USER_VRING_PACKED_IDX  0x7fffu
#define VHOST_USER_VRING_PACKED_WRAP (1u << 15)

#define VHOST_USER_MAX_REGIONS 8
#define VHOST_USER_MAX_CONFIG  256

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes */
};
_Static_assert(sizeof(struct vhost_user_hdr) == 12, "vhost-user header");

struct vhost_user_state { /* "A vring state description" */
	uint32_t index;
	uint32_t num;
};

struct vhost_user_addr { /* "A vring address description" */
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};
_Static_assert(sizeof(struct vhost_user_addr) == 40, "vhost-user vring address");

struct vhost_user_region {
	uint64_t guest_addr;
	uint64_t size;
	uint64_t user_addr;
	uint64_t mmap_offset;
};

struct vhost_user_mem { /* "Memory regions description" */
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region r[VHOST_USER_MAX_REGIONS];
};
_Static_assert(sizeof(struct vhost_user_mem) == 8 + 32 * VHOST_USER_MAX_REGIONS, "memory table");

struct vhost_user_config { /* "Virtio device config space" */
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[VHOST_USER_MAX_CONFIG];
};
#define VHOST_USER_CONFIG_HDR 12u

/* One message: header and the largest payload this driver sends or takes. */
struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union {
		uint64_t u64;
		struct vhost_user_state state;
		struct vhost_user_addr addr;
		struct vhost_user_mem mem;
		struct vhost_user_config config;
	} p;
} __attribute__((packed));

#endif
