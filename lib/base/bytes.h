/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte order, in one place: reading and writing 16- and 32-bit fields at
 * any alignment. Network headers are big-endian (be); virtio's own
 * structures are little-endian (le, spec 1.4). The names say which.
 */
#ifndef VNET_BASE_BYTES_H
#define VNET_BASE_BYTES_H

#include <stdint.h>

static inline uint16_t vnet_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vnet_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void vnet_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vnet_put_be32(uint8_t *p, uint32_t v)
{
	vnet_put_be16(p, (uint16_t)(v >> 16));
	vnet_put_be16(p + 2, (uint16_t)v);
}

static inline uint16_t vnet_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t vnet_get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void vnet_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void vnet_put_le32(uint8_t *p, uint32_t v)
{
	vnet_put_le16(p, (uint16_t)v);
	vnet_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline uint16_t vnet_swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

#endif
