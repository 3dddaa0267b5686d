/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "base/bytes.h"
#include "base/csum.h"
#include "core/frame.h"

void bench_frame_build(uint8_t *f, const struct bench_frame_conf *c, uint32_t len)
{
	uint8_t *ip = f + 14, *udp = f + 34;

	memset(f, 0, len);
	memcpy(f, c->dst, 6);
	memcpy(f + 6, c->src, 6);
	vnet_put_be16(f + 12, 0x0800);
	ip[0] = 0x45;
	vnet_put_be16(ip + 2, (uint16_t)(len - 14));
	vnet_put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	vnet_put_be32(ip + 12, c->ip);
	vnet_put_be32(ip + 16, c->peer_ip);
	/* the header's checksum field is still 0 here (RFC 1071) */
	vnet_put_be16(ip + 10, (uint16_t)~vnet_csum_be(ip, 20));
	vnet_put_be16(udp, c->sport ? c->sport : BENCH_UDP_PORT);
	vnet_put_be16(udp + 2, BENCH_UDP_PORT);
	vnet_put_be16(udp + 4, (uint16_t)(len - 34));
	/* UDP checksum 0: none (IPv4 allows it) */
	memcpy(f + BENCH_OFF_MAGIC, &(uint32_t){BENCH_MAGIC}, 4);
}

void bench_macswap(uint8_t *f)
{
	uint8_t t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
}

/* The payload's fields are in the sender's byte order: both ends of a
 * run are the same machine or little-endian guests and hosts. */
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

int bench_frame_ours(const uint8_t *f, uint32_t len)
{
	return len >= BENCH_OFF_SEQ && get32(f + BENCH_OFF_MAGIC) == BENCH_MAGIC;
}

int bench_frame_is_seq(const uint8_t *f, uint32_t len, uint32_t seq)
{
	return len >= BENCH_OFF_TS + 8 && get32(f + BENCH_OFF_MAGIC) == BENCH_MAGIC && get32(f + BENCH_OFF_SEQ) == seq;
}
