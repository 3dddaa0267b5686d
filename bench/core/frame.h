/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bench's frames: Ethernet + IPv4 + UDP to port 9, the same shape as
 * Linux pktgen's, so that a host sink counts both alike. vnet-bench,
 * vnet-bench-bm and the host peer (bench/peer/vmb-peer.c) all build them
 * here; the payload after the UDP header carries a magic number, a
 * sequence number and a timestamp, which latency probes use.
 */
#ifndef VNET_BENCH_FRAME_H
#define VNET_BENCH_FRAME_H

#include <stdint.h>

/* Payload layout after Ethernet(14) + IPv4(20) + UDP(8): it fits the
 * smallest 60-byte frame. */
#define BENCH_OFF_MAGIC 42 /* u32 BENCH_MAGIC */
#define BENCH_OFF_SEQ   46 /* u32 sequence number */
#define BENCH_OFF_TS    50 /* u64 sender's timestamp (cycles or ns) */
#define BENCH_MAGIC     0x564e4554u /* "VNET" */
#define BENCH_UDP_PORT  9           /* discard: what the host sink counts */
#define BENCH_MIN_FRAME 60
#define BENCH_MAX_FRAME 1518

/* Who sends to whom; addresses in host byte order. */
struct bench_frame_conf {
	uint8_t src[6], dst[6];
	uint32_t ip, peer_ip;
	uint16_t sport; /* UDP source port (0: BENCH_UDP_PORT) */
};

/* A frame of @len bytes at @dst, zeros after the magic. */
void bench_frame_build(uint8_t *dst, const struct bench_frame_conf *c, uint32_t len);
/* Swap the destination and source MACs: what a reflector does. */
void bench_macswap(uint8_t *frame);
/* Does this frame carry the bench's magic? */
int bench_frame_ours(const uint8_t *f, uint32_t len);
/* Is it the bench's frame with sequence number @seq, timestamp included? */
int bench_frame_is_seq(const uint8_t *f, uint32_t len, uint32_t seq);

#endif
