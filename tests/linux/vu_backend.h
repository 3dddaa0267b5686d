/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal vhost-user backend for the tests (so CI needs no DPDK): one
 * connection, up to VUB_MAX_PAIRS queue pairs (GET_QUEUE_NUM), split rings,
 * run in a child process. It listens on its socket (the frontend connects),
 * or connects to the frontend's (the frontend's server mode), retrying
 * until someone listens there, as DPDK's net_vhost with client=1.
 * It either loops TX frames back to RX, or generates RX frames and checks
 * the TX frames it sinks. What it saw goes to a shared page.
 */
#ifndef VNET_TEST_VU_BACKEND_H
#define VNET_TEST_VU_BACKEND_H

#include <stdint.h>
#include <sys/types.h>

enum vub_mode { VUB_LOOPBACK = 0, VUB_SOURCE };

#define VUB_MAX_PAIRS 4

struct vub_conf {
	char path[108];
	uint64_t features;      /* virtio features offered */
	uint64_t proto;         /* protocol features offered; 0 = no PROTOCOL_FEATURES bit */
	int no_proto_bit;       /* offer no VHOST_USER_F_PROTOCOL_FEATURES at all */
	uint64_t refuse;        /* SET_FEATURES with any of these is refused */
	int refuse_by_hangup;   /* ... by closing the connection instead of a nack */
	enum vub_mode mode;
	int want_kicks;         /* sleep on the kick fds instead of polling */
	uint64_t source_count;  /* SOURCE: frames to generate */
	uint32_t source_len;    /* SOURCE: frame length */
	uint8_t mac[6];         /* config with the CONFIG protocol feature */
	unsigned max_seconds;   /* hard bound on its life (10) */
	uint16_t queue_pairs;   /* GET_QUEUE_NUM's answer (1) */
	int connect;            /* connect to path (the frontend listens) */
};

/* Filled by the backend, read by the test (a MAP_SHARED page). */
struct vub_stats {
	volatile uint64_t msgs, set_owner, mem_tables, nregions, acked_features;
	volatile uint64_t vring_addr, vring_kick, vring_call, vring_enable_on, get_vring_base;
	volatile uint64_t tx_frames, tx_bad, rx_frames, kicks_seen, calls, get_config;
	volatile uint64_t refused;
	volatile uint64_t pair_frames[VUB_MAX_PAIRS]; /* LOOPBACK: frames looped per pair */
	volatile uint64_t enabled_rings;              /* bit per ring: last SET_VRING_ENABLE */
	volatile uint64_t status, set_status;         /* SET_STATUS: last value, count */
};

/* Fork the backend listening on @c->path; returns its pid once the socket
 * is listening (or -1). With @c->connect it connects to @c->path instead,
 * trying for 5 s, and leaves the path alone. @stats: a shared page, see
 * vub_stats_map(). */
pid_t vub_start(const struct vub_conf *c, struct vub_stats *stats);
/* SIGKILL it (when still running) and reap it; bounded. */
void vub_kill(pid_t pid);
struct vub_stats *vub_stats_map(void);
void vub_stats_unmap(struct vub_stats *s);

/* The frame pattern both sides use: byte i of frame seq. */
static inline uint8_t vub_pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7 + i * 13 + (i >> 8));
}

#endif
