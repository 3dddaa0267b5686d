/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's receive-side scaling and hash report (VIRTIO_NET_F_RSS,
 * VIRTIO_NET_F_HASH_REPORT; spec 5.1.6.4.3 hash calculation, 5.1.6.5.7
 * RSS): which fields of a frame the configured hash types cover, their
 * Toeplitz hash with the configured key, and the receive queue the
 * indirection table names for it. Written from the spec, apart from the
 * driver (which only sends the configuration and reads the header).
 */
#include <string.h>

#include "base/bytes.h"
#include "model/model_int.h"

/* spec 5.1.6.4.3: VIRTIO_NET_HASH_TYPE_* and VIRTIO_NET_HASH_REPORT_* */
#define T_IPV4 (1u << 0)
#define T_TCPV4 (1u << 1)
#define T_UDPV4 (1u << 2)
#define T_IPV6 (1u << 3)
#define T_TCPV6 (1u << 4)
#define T_UDPV6 (1u << 5)
enum { R_NONE, R_IPV4, R_TCPV4, R_UDPV4, R_IPV6, R_TCPV6, R_UDPV6 };

/* Bit @i of the key (bit 0: the most significant of byte 0); past the key: 0. */
static uint32_t key_bit(const uint8_t *key, uint32_t key_len, uint32_t i)
{
	return i / 8 < key_len ? (key[i / 8] >> (7 - i % 8)) & 1u : 0;
}

/* The Toeplitz hash of @n bytes: for each input bit set (most significant
 * first), the 32 key bits starting at its position are XORed in. */
uint32_t model_toeplitz(const uint8_t *key, uint32_t key_len, const uint8_t *in, uint32_t n)
{
	uint32_t window = 0, hash = 0, i;

	for (i = 0; i < 32; i++)
		window = window << 1 | key_bit(key, key_len, i);
	for (i = 0; i < 8 * n; i++) {
		if ((in[i / 8] >> (7 - i % 8)) & 1u)
			hash ^= window;
		window = window << 1 | key_bit(key, key_len, i + 32);
	}
	return hash;
}

/* IPv4 (spec 5.1.6.4.3.1): TCP or UDP ports when enabled and the datagram
 * is not a fragment, else the addresses when IPv4 is enabled. @in gets
 * the input: source address, destination address, source port,
 * destination port. @return the report (R_NONE: no hash). */
static int classify_v4(uint32_t types, const uint8_t *ip, uint32_t len, uint8_t *in, uint32_t *n)
{
	uint32_t ihl;
	bool frag;
	uint8_t proto;

	if (len < 20 || (ip[0] >> 4) != 4 || (ihl = (ip[0] & 0xfu) * 4u) < 20 || ihl > len)
		return R_NONE;
	frag = (vnet_get_be16(ip + 6) & 0x3fff) != 0; /* MF or an offset */
	proto = ip[9];
	memcpy(in, ip + 12, 8);
	*n = 8;
	if (!frag && len >= ihl + 4 && ((proto == PROTO_TCP && (types & T_TCPV4)) ||
	                                (proto == PROTO_UDP && (types & T_UDPV4)))) {
		memcpy(in + 8, ip + ihl, 4);
		*n = 12;
		return proto == PROTO_TCP ? R_TCPV4 : R_UDPV4;
	}
	return (types & T_IPV4) ? R_IPV4 : R_NONE;
}

/* IPv6: ports when TCP or UDP follows the fixed header at once (the model
 * offers no _EX type: extension headers are not walked), else the
 * addresses when IPv6 is enabled. */
static int classify_v6(uint32_t types, const uint8_t *ip, uint32_t len, uint8_t *in, uint32_t *n)
{
	uint8_t nh;

	if (len < 40 || (ip[0] >> 4) != 6)
		return R_NONE;
	nh = ip[6];
	memcpy(in, ip + 8, 32);
	*n = 32;
	if (len >= 44 && ((nh == PROTO_TCP && (types & T_TCPV6)) || (nh == PROTO_UDP && (types & T_UDPV6)))) {
		memcpy(in + 32, ip + 40, 4);
		*n = 36;
		return nh == PROTO_TCP ? R_TCPV6 : R_UDPV6;
	}
	return (types & T_IPV6) ? R_IPV6 : R_NONE;
}

/* The hash report and value of frame @f under the configured types and key
 * (one 802.1Q tag is looked through). */
static int classify(const struct vnet_model *m, const uint8_t *f, uint32_t len, uint32_t *hash)
{
	uint8_t in[36];
	uint32_t off = ETH_HLEN, n = 0;
	uint16_t et;
	int r = R_NONE;

	if (len < ETH_HLEN)
		return R_NONE;
	et = vnet_get_be16(f + 12);
	if (et == ETHERTYPE_VLAN && len >= ETH_HLEN + VLAN_HLEN) {
		et = vnet_get_be16(f + 16);
		off += VLAN_HLEN;
	}
	if (et == ETHERTYPE_IPV4)
		r = classify_v4(m->rss.types, f + off, len - off, in, &n);
	else if (et == ETHERTYPE_IPV6)
		r = classify_v6(m->rss.types, f + off, len - off, in, &n);
	*hash = r == R_NONE ? 0 : model_toeplitz(m->rss.key, m->rss.key_len, in, n);
	return r;
}

/* Spec 5.1.6.4.3 and 5.1.6.5.7: with hash report (HASH_CONFIG, or RSS with
 * HASH_REPORT negotiated) the frame's hash into @meta; with RSS the pair
 * the table names (unclassified for a frame without a hash), else @pair. */
uint32_t model_rss(struct vnet_model *m, const uint8_t *f, uint32_t len, uint32_t pair, struct rxmeta *meta)
{
	uint32_t hash = 0;
	int r;

	if (!m->rss.hash && !m->rss.steer)
		return pair;
	r = classify(m, f, len, &hash);
	if (m->rss.hash && has(m, VNET_F_HASH_REPORT)) {
		meta->hash_value = hash;
		meta->hash_report = (uint16_t)r;
		if (fault_take(m, VNET_FAULT_HASH_REPORT_BAD))
			meta->hash_report = 0x7777; /* no value the spec defines */
	}
	if (!m->rss.steer)
		return pair;
	m->st.rx_rss_steered++;
	return r == R_NONE ? m->rss.unclassified : m->rss.table[hash & (m->rss.table_len - 1u)];
}
