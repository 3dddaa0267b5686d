/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the netif (tx.c, rx.c, gro.c, netif.c): the layout of the
 * Ethernet frames it reads and writes - IPv4 (RFC 791), IPv6 (RFC 8200),
 * TCP (RFC 9293), UDP (RFC 768) - with byte order from base/bytes.h and
 * checksums from base/csum.h.
 */
#ifndef VNET_LWIP_FRAME_H
#define VNET_LWIP_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"

#include "base/bytes.h"
#include "base/csum.h"

#define ETH_HDR_LEN 14u
#define IP4_HLEN 20u
#define IP6_HDR_LEN 40u
#define NH_ICMP6 58u
#define TCP_HLEN_MIN 20u
#define TCP_CSUM_OFF 16u
#define UDP_CSUM_OFF 6u
#define FRAME_MAX 0xffffu         /* lwIP's pbuf tot_len is 16 bits */
#define TCPF_FIN 0x01u
#define TCPF_PSH 0x08u
#define TCPF_ACK 0x10u

static inline uint16_t eth_type(const uint8_t *f)
{
	return vnet_get_be16(f + 12);
}

/* The layout of an IPv4 or IPv6 frame, read from the first @len bytes of
 * a frame of @total bytes. false: neither, or lengths that do not add up. */
struct ip_view {
	uint32_t l4;      /* offset of the L4 header in the frame */
	uint32_t l4_len;  /* L4 bytes, by the IP (payload) length */
	uint8_t proto;    /* IPv4 protocol, IPv6 next header */
	bool frag;        /* not a whole datagram with its L4 header at l4: an
	                   * IPv4 fragment (MF or an offset), or IPv6 with an
	                   * extension header (a fragment one, maybe) */
	bool v6;
};

static inline bool ip_view(const uint8_t *f, uint32_t len, uint32_t total, struct ip_view *v)
{
	const uint8_t *ip = f + ETH_HDR_LEN;
	uint32_t ihl, tot;

	if (len < ETH_HDR_LEN + IP4_HLEN)
		return false;
	if (eth_type(f) == ETHTYPE_IPV6) {
		if (len < ETH_HDR_LEN + IP6_HDR_LEN || (ip[0] >> 4) != 6)
			return false;
		tot = vnet_get_be16(ip + 4);
		if (ETH_HDR_LEN + IP6_HDR_LEN + tot > total)
			return false;
		v->l4 = ETH_HDR_LEN + IP6_HDR_LEN;
		v->l4_len = tot;
		v->proto = ip[6];
		v->frag = v->proto != IP_PROTO_TCP && v->proto != IP_PROTO_UDP && v->proto != NH_ICMP6;
		v->v6 = true;
		return true;
	}
	if (eth_type(f) != ETHTYPE_IP || (ip[0] >> 4) != 4)
		return false;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4u;
	tot = vnet_get_be16(ip + 2);
	if (ihl < IP4_HLEN || len < ETH_HDR_LEN + ihl || tot < ihl || ETH_HDR_LEN + tot > total)
		return false;
	v->l4 = ETH_HDR_LEN + ihl;
	v->l4_len = tot - ihl;
	v->proto = ip[9];
	v->frag = ((ip[6] & 0x3f) | ip[7]) != 0;
	v->v6 = false;
	return true;
}

/* Write the header checksum of the option-less IPv4 header at @ip (after a
 * change of its total length). */
static inline void ip4_hdr_csum_set(uint8_t *ip)
{
	vnet_put_be16(ip + 10, 0);
	vnet_put_be16(ip + 10, (uint16_t)~vnet_csum_be(ip, IP4_HLEN));
}

#endif
