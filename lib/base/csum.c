/* SPDX-License-Identifier: BSD-3-Clause */
/* The Internet checksum (RFC 1071); see csum.h. */
#include <string.h>

#include "base/csum.h"

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The ones' complement sum does not care how the words are grouped
 * (2^16 = 1 mod 0xffff), so 32-bit halves of 8-byte loads accumulate in 64
 * bits and fold once at the end: a quarter of the loads of a 16-bit loop.
 */
uint16_t vnet_csum_native(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = 0, v;
	uint16_t w;
	uint8_t two[2];

	for (; len >= 32; len -= 32, p += 32) {
		v = load64(p);
		sum += (v & 0xffffffffu) + (v >> 32);
		v = load64(p + 8);
		sum += (v & 0xffffffffu) + (v >> 32);
		v = load64(p + 16);
		sum += (v & 0xffffffffu) + (v >> 32);
		v = load64(p + 24);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	for (; len >= 8; len -= 8, p += 8) {
		v = load64(p);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	for (; len >= 2; len -= 2, p += 2) {
		memcpy(&w, p, 2);
		sum += w;
	}
	if (len) {
		two[0] = *p;
		two[1] = 0;
		memcpy(&w, two, 2);
		sum += w;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return vnet_csum_fold(sum);
}

uint16_t vnet_csum_pseudo(const uint8_t *ip, int v6, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum = v6 ? vnet_csum_be(ip + 8, 32) : vnet_csum_be(ip + 12, 8);

	return vnet_csum_fold((uint64_t)sum + proto + (l4_len >> 16) + (l4_len & 0xffffu));
}
