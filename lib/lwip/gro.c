/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software receive coalescing, as Linux's GRO does for a device without
 * GUEST_TSO4: consecutive in-order data segments of one TCP/IPv4 flow in
 * an RX burst become one large segment for lwIP, which then runs its input
 * path and sends its ACK once per burst instead of once per two segments.
 * Under QEMU each ACK the guest sends costs the host a TX packet and its
 * TCP stack an ACK to process: a Linux guest sent 1 ACK per ~100 segments
 * of an iperf stream with offloads off, lwIP alone 1 per 2.
 * A segment joins when: IPv4 without options, not a fragment, TCP without
 * options, flags ACK (PSH allowed: it closes the segment), payload > 0,
 * IP total length equal to the frame's, checksums sound as lwIP would
 * check them (the IPv4 header's always, here: the device's DATA_VALID or
 * partial checksum vouches for the TCP checksum only, and the header of a
 * joined segment is thrown away, that of the first rewritten; the TCP
 * checksum here unless the device vouched for it), and against the open
 * segment: same addresses, ports, ACK number, window, TOS and TTL,
 * sequence number following on. Anything else closes the open segment
 * first, so lwIP sees every frame in arrival order.
 * Bounds: the whole frame stays within FRAME_MAX (lwIP's 16-bit pbuf
 * tot_len, which pbuf_cat adds to unchecked, and so the IPv4 total length
 * vnet_gro_flush writes), and within GRO_SEGS_MAX segments. A segment that
 * follows on but would pass either starts the next coalesced segment
 * (counted in rx_gro_capped). Jumbo frames reach the byte bound first: 7
 * segments of 8960 bytes make a 62,774-byte frame, 8 would make 71,734.
 */
#include <string.h>

#include "lwip/opt.h"
#include "lwip/pbuf.h"

#include "frame.h"
#include "glue.h"

#define GRO_HLEN (ETH_HDR_LEN + IP4_HLEN + TCP_HLEN_MIN)
/*
 * Segments per coalesced segment at most. Linux bounds GRO by 64 KiB and,
 * for the page fragments an skb holds, by MAX_SKB_FRAGS (17) before it
 * chains further skbs; at MTU 1500 its coalesced segments hold about 44.
 * Here each join is a pbuf_cat, which walks the whole chain (one pbuf per
 * receive buffer: O(n^2) per coalesced segment), and lwIP acknowledges a
 * coalesced segment once: 16 segments (23 KB at MTU 1500) keep the walk
 * short and an ACK at least every 16 segments for the sender's clock.
 * The byte bound is the one that matters with jumbo frames.
 */
#define GRO_SEGS_MAX 16u

/* The ones' complement sum of @len bytes of a pbuf chain from @off, as
 * big-endian 16-bit words (a piece of odd length carries over), folded. */
static uint32_t pbuf_sum(const struct pbuf *p, uint32_t off, uint32_t len)
{
	uint32_t sum = 0, odd = 0;

	for (; p != NULL && len > 0; p = p->next) {
		uint32_t n;

		if (off >= p->len) {
			off -= p->len;
			continue;
		}
		n = p->len - off < len ? p->len - off : len;
		sum = vnet_csum_add_piece(sum, &odd, (const uint8_t *)p->payload + off, n);
		len -= n;
		off = 0;
	}
	return vnet_csum_fold(sum);
}

/* Can @p join a coalesced segment at all? Its headers lie in its first
 * pbuf (the zero-copy buffer or lwIP's copy). */
static bool gro_candidate(const struct vnet_netif *vn, const struct pbuf *p, bool trusted)
{
	const uint8_t *f = (const uint8_t *)p->payload, *ip = f + ETH_HDR_LEN, *th = ip + IP4_HLEN;
	uint32_t tot;

	if (p->len < GRO_HLEN || ip[0] != 0x45 || ip[9] != IP_PROTO_TCP || ((ip[6] & 0x3f) | ip[7]))
		return false;
	tot = vnet_get_be16(ip + 2);
	if (ETH_HDR_LEN + tot != p->tot_len || tot <= IP4_HLEN + TCP_HLEN_MIN)
		return false;
	if ((th[12] >> 4) != 5 || (th[13] & ~TCPF_PSH) != TCPF_ACK)
		return false;
	if (!vn->rx_csum_check)
		return true; /* lwIP checks nothing either */
	/* lwIP would check both: a bad one is left for lwIP to count. The
	 * device (DATA_VALID, or a partial checksum) vouches for TCP's only. */
	if (vnet_csum_be(ip, IP4_HLEN) != 0xffffu)
		return false;
	return trusted ||
	       ((pbuf_sum(p, ETH_HDR_LEN + IP4_HLEN, tot - IP4_HLEN) +
	         vnet_csum_pseudo(ip, false, IP_PROTO_TCP, tot - IP4_HLEN)) % 0xffffu) == 0;
}

/* Does @q follow on from the open segment @h (same flow, next in
 * sequence, the open one not closed by PSH)? */
static bool gro_follows(const struct vnet_netif *vn, const uint8_t *h, const uint8_t *q)
{
	const uint8_t *hip = h + ETH_HDR_LEN, *qip = q + ETH_HDR_LEN;

	return memcmp(hip + 12, qip + 12, 8) == 0 &&                 /* addresses */
	       memcmp(hip + IP4_HLEN, qip + IP4_HLEN, 4) == 0 &&     /* ports */
	       memcmp(hip + IP4_HLEN + 8, qip + IP4_HLEN + 8, 4) == 0 && /* ACK number */
	       memcmp(hip + IP4_HLEN + 14, qip + IP4_HLEN + 14, 2) == 0 && /* window */
	       hip[1] == qip[1] && hip[8] == qip[8] &&                /* TOS, TTL */
	       !(hip[IP4_HLEN + 13] & TCPF_PSH) &&
	       vnet_get_be32(qip + IP4_HLEN + 4) == vn->gro_open.next_seq;
}

/* Is there room in the open segment for @plen more payload bytes? The
 * running total is the open chain's tot_len (Ethernet, IP and TCP headers
 * and every payload so far): kept within FRAME_MAX, it never wraps, and the
 * IPv4 total length vnet_gro_flush writes (tot_len - 14) stays within 65535. */
static bool gro_room(const struct vnet_gro *g, uint32_t plen)
{
	return g->segs < GRO_SEGS_MAX && (uint32_t)g->p->tot_len + plen <= FRAME_MAX;
}

void vnet_gro_flush(struct vnet_netif *vn)
{
	struct vnet_gro *g = &vn->gro_open;
	struct pbuf *p = g->p;

	if (p == NULL)
		return;
	g->p = NULL;
	if (g->segs > 1) {
		uint8_t *ip = (uint8_t *)p->payload + ETH_HDR_LEN;

		vnet_put_be16(ip + 2, (uint16_t)(p->tot_len - ETH_HDR_LEN));
		ip4_hdr_csum_set(ip);
		vn->c.rx_gro++;
		vn->c.rx_gro_segs += g->segs;
	}
	/* each segment's checksum was sound; the TCP one no longer covers the
	 * whole, so lwIP must not check it */
	vnet_netif_input(vn, p, true, g->segs > 1);
}

bool vnet_gro_take(struct vnet_netif *vn, struct pbuf *p, bool trusted)
{
	struct vnet_gro *g = &vn->gro_open;
	const uint8_t *f = (const uint8_t *)p->payload;
	uint32_t plen;

	if (!gro_candidate(vn, p, trusted))
		return false;
	plen = (uint32_t)p->tot_len - GRO_HLEN;
	if (g->p != NULL && gro_follows(vn, (const uint8_t *)g->p->payload, f)) {
		uint8_t *hth = (uint8_t *)g->p->payload + ETH_HDR_LEN + IP4_HLEN;

		if (gro_room(g, plen)) {
			hth[13] |= f[ETH_HDR_LEN + IP4_HLEN + 13] & TCPF_PSH;
			pbuf_remove_header(p, GRO_HLEN); /* cannot fail: p->len >= GRO_HLEN */
			pbuf_cat(g->p, p);
			g->segs++;
			g->next_seq += plen;
			if (hth[13] & TCPF_PSH)
				vnet_gro_flush(vn);
			return true;
		}
		vn->c.rx_gro_capped++; /* full: @p starts the next one */
	}
	vnet_gro_flush(vn);
	g->p = p;
	g->segs = 1;
	g->next_seq = vnet_get_be32(f + ETH_HDR_LEN + IP4_HLEN + 4) + plen;
	return true;
}

