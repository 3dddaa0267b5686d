/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's offloads (spec 5.1.6.2, 5.1.6.4): the TX header
 * checked against the features, the checksum completed (CSUM) or left to a
 * PARTIAL receiver, TSO frames cut into segments (HOST_TSO) or handed whole
 * to a GUEST_TSO receiver; on the receive side, the checksum verification
 * behind DATA_VALID (GUEST_CSUM) and BAD_CSUM's corruption. Sums are
 * base/csum.h's.
 */
#include <string.h>

#include "base/bytes.h"
#include "base/csum.h"
#include "model/model_int.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* The TX header, as the driver wrote it (spec 5.1.6). */
struct txmeta {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

/* A TSO frame, parsed. */
struct tso {
	uint32_t l2, l3, l4, hdrs, payload; /* lengths; hdrs = l2 + l3 + l4 */
	uint32_t total;                      /* l2 + IP datagram */
	bool v6;
};

/* The sum of a TCP/UDP segment of @l4len bytes at @l4 with its
 * pseudo-header (the IP header at @ip): folded, not complemented. */
static uint16_t l4_sum(const uint8_t *ip, bool v6, uint8_t proto, const uint8_t *l4, uint32_t l4len)
{
	return vnet_csum_fold((uint32_t)vnet_csum_pseudo(ip, v6, proto, l4len) + vnet_csum_be(l4, l4len));
}

/* CSUM (spec 5.1.6.2): the ones' complement of csum_start..end, stored at
 * csum_start + csum_offset (the field holds the pseudo-header sum). */
static void csum_complete(uint8_t *f, uint32_t len, uint32_t start, uint32_t off)
{
	uint16_t c = (uint16_t)~vnet_csum_be(f + start, len - start);

	vnet_put_be16(f + start + off, c);
}

/* Layer 2 length and ethertype (one 802.1Q tag allowed). */
static uint32_t l2_parse(const uint8_t *f, uint32_t len, uint16_t *type)
{
	if (len < ETH_HLEN)
		return 0;
	*type = vnet_get_be16(f + 12);
	if (*type == ETHERTYPE_VLAN) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return 0;
		*type = vnet_get_be16(f + 16);
		return ETH_HLEN + VLAN_HLEN;
	}
	return ETH_HLEN;
}

/* GUEST_CSUM: is this a TCP/UDP frame whose checksum is right? IPv4 with a
 * right header checksum and no fragment, or IPv6 without extension
 * headers. A UDP checksum of 0 was not computed: not verified. */
bool model_csum_verify(const uint8_t *f, uint32_t len)
{
	uint16_t type = 0;
	uint32_t l2 = l2_parse(f, len, &type), l3, l4len;
	const uint8_t *ip = f + l2, *l4;
	uint8_t proto;
	bool v6;

	if (!l2)
		return false;
	if (type == ETHERTYPE_IPV4) {
		uint32_t tot;

		if (len < l2 + 20 || (ip[0] >> 4) != 4)
			return false;
		l3 = (uint32_t)(ip[0] & 0xf) * 4;
		tot = vnet_get_be16(ip + 2);
		if (l3 < 20 || tot < l3 || l2 + tot > len || (vnet_get_be16(ip + 6) & 0x3fff))
			return false;
		if (vnet_csum_be(ip, l3) != 0xffff)
			return false;
		proto = ip[9];
		l4len = tot - l3;
		v6 = false;
	} else if (type == ETHERTYPE_IPV6) {
		if (len < l2 + 40 || (ip[0] >> 4) != 6)
			return false;
		l3 = 40;
		l4len = vnet_get_be16(ip + 4);
		if (l2 + l3 + l4len > len)
			return false;
		proto = ip[6];
		v6 = true;
	} else {
		return false;
	}
	l4 = ip + l3;
	if (proto == PROTO_TCP) {
		if (l4len < 20)
			return false;
	} else if (proto == PROTO_UDP) {
		if (l4len < 8 || vnet_get_be16(l4 + 6) == 0)
			return false;
	} else {
		return false;
	}
	return l4_sum(ip, v6, proto, l4, l4len) == 0xffff;
}

/*
 * BAD_CSUM: flip (xor 0xff) one byte covered by the L4 checksum but not by
 * the IP header: for IPv4, the last byte of the IP datagram (not Ethernet
 * padding); otherwise the frame's last byte. Any single-byte change breaks
 * a ones' complement sum.
 */
void model_corrupt(uint8_t *f, uint32_t len)
{
	uint32_t off = len - 1;

	if (len >= ETH_HLEN + 20 && vnet_get_be16(f + 12) == ETHERTYPE_IPV4 && (f[14] >> 4) == 4) {
		uint32_t ihl = (uint32_t)(f[14] & 0xf) * 4;
		uint32_t tot = vnet_get_be16(f + 16);

		if (tot > ihl && ETH_HLEN + tot <= len)
			off = ETH_HLEN + tot - 1;
	}
	f[off] ^= 0xff;
}

/* Parse a TSO frame (spec 5.1.6.2): TCP over IPv4 without fragments, or
 * over IPv6 without extension headers, matching @gso_type. */
static bool tso_parse(const uint8_t *f, uint32_t len, uint8_t gso_type, struct tso *t)
{
	uint16_t type = 0;
	const uint8_t *ip;

	memset(t, 0, sizeof(*t));
	t->l2 = l2_parse(f, len, &type);
	if (!t->l2)
		return false;
	ip = f + t->l2;
	if (gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
		uint32_t tot;

		if (type != ETHERTYPE_IPV4 || len < t->l2 + 20 || (ip[0] >> 4) != 4 || ip[9] != PROTO_TCP)
			return false;
		t->l3 = (uint32_t)(ip[0] & 0xf) * 4;
		tot = vnet_get_be16(ip + 2);
		if (t->l3 < 20 || tot < t->l3 || t->l2 + tot > len || (vnet_get_be16(ip + 6) & 0x3fff))
			return false;
		t->total = t->l2 + tot;
	} else {
		if (type != ETHERTYPE_IPV6 || len < t->l2 + 40 || (ip[0] >> 4) != 6 || ip[6] != PROTO_TCP)
			return false;
		t->l3 = 40;
		t->total = t->l2 + 40 + vnet_get_be16(ip + 4);
		if (t->total > len)
			return false;
		t->v6 = true;
	}
	if (t->total < t->l2 + t->l3 + 20)
		return false;
	t->l4 = (uint32_t)(f[t->l2 + t->l3 + 12] >> 4) * 4;
	if (t->l4 < 20 || t->l2 + t->l3 + t->l4 > t->total)
		return false;
	t->hdrs = t->l2 + t->l3 + t->l4;
	t->payload = t->total - t->hdrs;
	return true;
}

/* HOST_TSO: cut m->frame into gso_size segments (see the top of model.c),
 * each tapped and routed. */
static void tso_segment(struct vnet_model *m, uint32_t pair, const struct tso *t, uint32_t mss)
{
	static const struct rxmeta none;
	const uint8_t *f = m->frame;
	uint32_t nseg = t->payload ? (t->payload + mss - 1) / mss : 1;
	uint32_t seq = vnet_get_be32(f + t->l2 + t->l3 + 4);
	uint16_t ipid = t->v6 ? 0 : vnet_get_be16(f + t->l2 + 4);

	for (uint32_t i = 0; i < nseg; i++) {
		uint8_t *s = m->segbuf, *ip = s + t->l2, *tcp = ip + t->l3;
		uint32_t plen = min_u32(mss, t->payload - i * mss), l4len = t->l4 + plen;
		memcpy(s, f, t->hdrs);
		memcpy(s + t->hdrs, f + t->hdrs + (size_t)i * mss, plen);
		if (t->v6) {
			vnet_put_be16(ip + 4, (uint16_t)l4len);
		} else {
			vnet_put_be16(ip + 2, (uint16_t)(t->l3 + l4len));
			vnet_put_be16(ip + 4, (uint16_t)(ipid + i));
			vnet_put_be16(ip + 10, 0);
			vnet_put_be16(ip + 10, (uint16_t)~vnet_csum_be(ip, t->l3));
		}
		vnet_put_be32(tcp + 4, seq + i * mss);
		if (i + 1 < nseg)
			tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			tcp[13] &= (uint8_t)~TCP_CWR;
		vnet_put_be16(tcp + 16, 0);
		vnet_put_be16(tcp + 16, (uint16_t)~l4_sum(ip, t->v6, PROTO_TCP, tcp, l4len));
		m->st.tx_tso_segs++;
		if (m->tap)
			m->tap(s, t->hdrs + plen, m->tap_arg);
		model_route(m, pair, s, t->hdrs + plen, &none);
	}
}

/*
 * One TX frame in m->frame with its header in m->txhdr: check the header
 * against the features (spec 5.1.6.2), then complete the checksum, cut TSO
 * frames or hand them whole to a GUEST_TSO receiver, tap and route.
 * @return false if the header (or size) is refused.
 */
bool model_tx_offload(struct vnet_model *m, struct mq *q, uint32_t len)
{
	struct vnet_model *rcv = model_receiver(m);
	struct rxmeta r = {0};
	struct txmeta h;
	struct tso t;
	uint8_t gso;

	h.flags = m->txhdr[0];
	h.gso_type = m->txhdr[1];
	h.hdr_len = vnet_get_le16(m->txhdr + 2);
	h.gso_size = vnet_get_le16(m->txhdr + 4);
	h.csum_start = vnet_get_le16(m->txhdr + 6);
	h.csum_offset = vnet_get_le16(m->txhdr + 8);
	gso = h.gso_type;
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(m, VNET_F_CSUM) || (uint32_t)h.csum_start + h.csum_offset + 2 > len)
			goto bad_hdr;
	}
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		uint64_t need = gso == VIRTIO_NET_HDR_GSO_TCPV4 ? VNET_F_HOST_TSO4
		              : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VNET_F_HOST_TSO6 : 0;

		if (!need || !has(m, need) || !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h.gso_size ||
		    !tso_parse(m->frame, len, gso, &t) ||
		    t.l3 + t.l4 + min_u32(h.gso_size, t.payload) > m->conf.mtu)
			goto bad_hdr;
		len = t.total; /* anything after the IP datagram is not sent */
	} else if (len > (uint32_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN) {
		m->st.bad_desc++;
		return false;
	}
	m->st.tx_frames++;
	m->st.tx_bytes += len;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		uint64_t want = gso == VIRTIO_NET_HDR_GSO_TCPV4 ? VNET_F_GUEST_TSO4 : VNET_F_GUEST_TSO6;

		m->st.tx_tso++;
		/* turned off at run time (CTRL_GUEST_OFFLOADS): cut, as without it */
		if (rcv && rx_on(rcv, want | VNET_F_GUEST_CSUM)) {
			/* spec 5.1.6.4: whole, with NEEDS_CSUM and the GSO fields;
			 * the TCP checksum field keeps the sender's pseudo-header sum */
			r.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			r.gso_type = gso;
			r.gso_size = h.gso_size;
			r.hdr_len = (uint16_t)t.hdrs;
			r.csum_start = (uint16_t)(t.l2 + t.l3);
			r.csum_offset = 16;
			if (m->tap)
				m->tap(m->frame, len, m->tap_arg);
			model_route(m, q->pair, m->frame, len, &r);
		} else {
			tso_segment(m, q->pair, &t, h.gso_size);
		}
		return true;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (rcv && rx_on(rcv, VNET_F_GUEST_CSUM) && rcv->conf.rx_csum == VNET_MODEL_RX_CSUM_PARTIAL) {
			r.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			r.csum_start = h.csum_start;
			r.csum_offset = h.csum_offset;
		} else {
			csum_complete(m->frame, len, h.csum_start, h.csum_offset);
			m->st.tx_csum++;
		}
	}
	if (m->tap)
		m->tap(m->frame, len, m->tap_arg);
	model_route(m, q->pair, m->frame, len, &r);
	return true;

bad_hdr:
	m->st.tx_bad_hdr++;
	return false;
}
