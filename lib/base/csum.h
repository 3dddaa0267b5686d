/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum (RFC 1071), in one place: the glue's offloads and
 * checks, lwIP's LWIP_CHKSUM, the device model and the benchmark's frames
 * all use these.
 *
 * A sum here is the ones' complement sum of 16-bit words, folded to 16 bits
 * and not complemented; the checksum field holds its complement. Bytes are
 * taken as big-endian words ("be", the value a header field holds) unless
 * the name says native. An odd last byte is padded with a zero after it.
 */
#ifndef VNET_BASE_CSUM_H
#define VNET_BASE_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* Sum of @n bytes at @p (any alignment) as native-order words: on a
 * little-endian machine the byte swap of vnet_csum_be(). 8 bytes a load. */
uint16_t vnet_csum_native(const void *p, size_t n);

/* Sum of @n bytes at @p as big-endian words. */
static inline uint16_t vnet_csum_be(const void *p, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return vnet_csum_native(p, n);
#else
	return vnet_swap16(vnet_csum_native(p, n));
#endif
}

/* Fold a wide running sum of 16-bit values to 16 bits. */
static inline uint16_t vnet_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * A sum over pieces (a buffer chain): add the big-endian sum of @n bytes at
 * @p to @sum, where *@odd says an odd number of bytes went before, so that
 * this piece starts in the middle of a word; *@odd is updated. Fold the
 * result with vnet_csum_fold().
 */
static inline uint32_t vnet_csum_add_piece(uint32_t sum, uint32_t *odd, const void *p, size_t n)
{
	uint16_t s = vnet_csum_be(p, n);

	sum += *odd ? vnet_swap16(s) : s;
	*odd ^= (uint32_t)(n & 1u);
	return sum;
}

/* The TCP/UDP pseudo-header sum (RFC 793, RFC 8200 8.1) for the IPv4 or
 * IPv6 header at @ip, protocol @proto and transport length @l4_len: folded,
 * not complemented; what a checksum left to the device starts from. */
uint16_t vnet_csum_pseudo(const uint8_t *ip, int v6, uint8_t proto, uint32_t l4_len);

#endif
