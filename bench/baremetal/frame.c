/* SPDX-License-Identifier: BSD-3-Clause */
/* The bench's frames: Ethernet + IPv4 + UDP to port 9, the same shape as
 * Linux pktgen's, so that the host sink counts both alike. */
#include <string.h>

#include "bm.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* RFC 1071 one's-complement sum over the 20-byte IPv4 header. */
static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void bm_frame_build(uint8_t *f, const struct bm_opts *o, uint32_t len)
{
	uint8_t *ip = f + 14, *udp = f + 34;

	memset(f, 0, len);
	memcpy(f, o->peer, 6);
	memcpy(f + 6, o->mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, o->ip);
	put32(ip + 16, o->peer_ip);
	put16(ip + 10, ip_csum(ip));
	put16(udp, o->sport ? o->sport : BM_UDP_PORT);
	put16(udp + 2, BM_UDP_PORT);
	put16(udp + 4, (uint16_t)(len - 34));
	/* UDP checksum 0: none (IPv4 allows it) */
	memcpy(f + BM_OFF_MAGIC, &(uint32_t){BM_MAGIC}, 4);
}

void bm_macswap(uint8_t *f)
{
	uint8_t t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
}
