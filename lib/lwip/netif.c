/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An lwIP netif over a vnet device (lwIP's doc/NO_SYS_SampleCode.c shows
 * the shape; doc/ZeroCopyRx.c the custom-pbuf RX).
 *
 * RX: each frame of a burst becomes a pbuf_custom (PBUF_REF over the pool
 * buffer, no copy) from a slot table indexed by the buffer's pool index;
 * when lwIP frees the pbuf the buffer goes back to the pool. A frame that
 * spans several buffers (VNET_F_MRG_RXBUF, spec 5.1.6.4) becomes a chain
 * of such pbufs, one per buffer. lwIP may hold received frames for a long
 * time (TCP out-of-order queue, reassembly), so when the pool's free
 * buffers fall under a reserve the frame is copied into PBUF_POOL pbufs
 * and the pool buffers freed at once.
 *
 * TX: linkoutput copies the frame into one pool buffer (or one of the
 * jumbo pool, for frames past the pool's data room: the driver sends a
 * frame from one descriptor) and queues it in a small batch; the batch
 * goes to the ring in one vnet_tx_burst per poll step (or earlier when it
 * fills). Frames the ring refuses stay queued.
 *
 * Offloads (each used only when negotiated, spec 5.1.6.2 and 5.1.6.4), the
 * same for IPv4 and IPv6 (an IPv6 frame qualifies when TCP or UDP follows
 * the fixed header directly: no extension headers):
 *  - VNET_F_CSUM: lwIP leaves TCP and UDP checksums to the device (its
 *    per-netif CHECKSUM_GEN flags off, so it writes 0 there); linkoutput
 *    puts the pseudo-header sum in the field and asks for NEEDS_CSUM with
 *    csum_start at the L4 header. IP fragments keep what lwIP wrote (a
 *    partial sum cannot span fragments): the Interface API computes UDP
 *    checksums in software for datagrams that will be fragmented.
 *  - VNET_F_GUEST_CSUM: a frame the device marked DATA_VALID, or NEEDS_CSUM
 *    with the layout of a TCP/UDP partial checksum (the spec says the
 *    device validated everything before the field; the sum is missing only
 *    because the sender was local), is handed to lwIP with its L4 check
 *    skipped - per frame: input is synchronous in NO_SYS. Any other
 *    NEEDS_CSUM layout is finished here (bounds-checked: the header is
 *    device-written) and lwIP checks it as usual. The IPv4 header checksum
 *    is always checked, as Linux does.
 *  - VNET_F_GUEST_TSO4/6: large TCP segments arrive whole (as MRG_RXBUF
 *    chains) and go to lwIP as one segment; lwIP's TCP takes segments past
 *    its MSS as long as they fit the window. lwIP's pbuf length is 16
 *    bits: a frame past 65535 bytes is dropped (rx_too_big). A gso_type
 *    the frame does not match (TCPV6 on anything but TCP right after an
 *    IPv6 header, TCPV4 likewise), one not negotiated, ECN, UDP or a zero
 *    gso_size is a broken device header: dropped (rx_bad_gso).
 *  - VNET_F_HOST_TSO4/6: lwIP still builds MSS-sized segments (its MSS
 *    follows the peer's option and the MTU); consecutive segments of one
 *    flow queued back to back are coalesced here into one TSO frame with
 *    gso_size = the first segment's payload, in a jumbo-pool buffer. The
 *    device cuts it back into the very segments lwIP built (TCP header of
 *    the first, sequence numbers advanced, PSH/FIN on the last only), so
 *    lwIP's congestion control and retransmission are unaffected, and no
 *    segment ever exceeds what the peer announced.
 *
 * IPv6 (unless the conf turns it off): lwIP's ethip6_output, a link-local
 * address made from the MAC (modified EUI-64) and an optional static one.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/inet_chksum.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ieee.h"
#include "lwip/prot/ip.h"
#include "netif/ethernet.h"

#include "base/platform.h"
#include "glue.h"

#define ETH_HDR_LEN 14u
#define IP4_HLEN 20u
#define IP6_HDR_LEN 40u
#define NH_ICMP6 58u
#define ICMP6_ECHO_REQUEST 128u
#define TCP_HLEN_MIN 20u
#define TCP_CSUM_OFF 16u
#define UDP_CSUM_OFF 6u
#define FRAME_MAX 0xffffu         /* lwIP's pbuf tot_len is 16 bits */
#define IP_LEN_MAX 0xffffu        /* IPv4 total length, IPv6 payload length */
#define GSO_HDR_MAX (ETH_HDR_LEN + IP6_HDR_LEN + 60u)
#define GSO_SEGS_MAX 64u          /* segments per TSO frame (Linux's default gso_max_segs is far larger) */
#define TCPF_PSH 0x08u
#define TCPF_ACK 0x10u

#define CSUM_GEN_L4 (NETIF_CHECKSUM_GEN_UDP | NETIF_CHECKSUM_GEN_TCP)
#define CSUM_CHECK_ALL (NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_TCP | \
                        NETIF_CHECKSUM_CHECK_ICMP | NETIF_CHECKSUM_CHECK_ICMP6)
#define CSUM_CHECK_L4 (NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_ICMP | \
                       NETIF_CHECKSUM_CHECK_ICMP6)

static struct vnet_netif *to_vn(struct netif *nif)
{
	return (struct vnet_netif *)(void *)((char *)nif - offsetof(struct vnet_netif, nif));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t eth_type(const uint8_t *f)
{
	return get16(f + 12);
}

/* ------------------------------------------------------------ checksums -- */

uint16_t vnet_netif_csum_flags(const struct vnet_netif *vn)
{
	uint16_t f = NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_ICMP | NETIF_CHECKSUM_GEN_ICMP6;

	if (!vn->tx_csum)
		f |= CSUM_GEN_L4;
	if (vn->rx_csum_check)
		f |= CSUM_CHECK_ALL;
	return f;
}

void vnet_netif_csum_apply(struct vnet_netif *vn)
{
	NETIF_SET_CHECKSUM_CTRL(&vn->nif, vnet_netif_csum_flags(vn));
}

/* The TCP/UDP pseudo-header sum (RFC 793/768; RFC 8200 8.1 for IPv6)
 * over the IP header at @ip, folded but not complemented: what the L4
 * checksum field holds for NEEDS_CSUM (spec 5.1.6.2). */
static uint16_t pseudo_sum(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4_len)
{
	const uint8_t *a = ip + (v6 ? 8 : 12);
	uint32_t i, n = v6 ? 32u : 8u, s = proto + (l4_len >> 16) + (l4_len & 0xffffu);

	for (i = 0; i < n; i += 2)
		s += get16(a + i);
	s = (s >> 16) + (s & 0xffffu);
	s = (s >> 16) + (s & 0xffffu);
	return (uint16_t)s;
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

static bool ip_view(const uint8_t *f, uint32_t len, uint32_t total, struct ip_view *v)
{
	const uint8_t *ip = f + ETH_HDR_LEN;
	uint32_t ihl, tot;

	if (len < ETH_HDR_LEN + IP4_HLEN)
		return false;
	if (eth_type(f) == ETHTYPE_IPV6) {
		if (len < ETH_HDR_LEN + IP6_HDR_LEN || (ip[0] >> 4) != 6)
			return false;
		tot = get16(ip + 4);
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
	tot = get16(ip + 2);
	if (ihl < IP4_HLEN || len < ETH_HDR_LEN + ihl || tot < ihl || ETH_HDR_LEN + tot > total)
		return false;
	v->l4 = ETH_HDR_LEN + ihl;
	v->l4_len = tot - ihl;
	v->proto = ip[9];
	v->frag = ((ip[6] & 0x3f) | ip[7]) != 0;
	v->v6 = false;
	return true;
}

/* ------------------------------------------------------------------ TX -- */

/* A buffer for a frame of @len bytes (from the jumbo pool past the main
 * pool's data room), or NULL with the refusal counted and @err set to
 * what lwIP should hear. */
static struct vnet_buf *tx_get(struct vnet_netif *vn, uint32_t len, err_t *err)
{
	struct vnet_pool *pool = vn->pool;
	struct vnet_buf *b;

	if (vnet_unlikely(!vn->link_up)) {
		vn->c.tx_link_down++;
		LINK_STATS_INC(link.drop);
		*err = ERR_IF;
		return NULL;
	}
	if (vnet_unlikely(len > vn->data_room)) {
		if (len > vn->jumbo_room) {
			vn->c.tx_too_big++;
			LINK_STATS_INC(link.lenerr);
			*err = ERR_BUF;
			return NULL;
		}
		pool = vn->jumbo;
	}
	if (vn->tx_n == VNET_NETIF_TX_BATCH) {
		vnet_netif_tx_flush(vn);
		if (vn->tx_n == VNET_NETIF_TX_BATCH) {
			vn->c.tx_ring_full++;
			LINK_STATS_INC(link.memerr);
			*err = ERR_MEM;
			return NULL;
		}
	}
	b = vnet_buf_alloc(pool);
	if (vnet_unlikely(b == NULL)) {
		vn->c.tx_nobuf++;
		LINK_STATS_INC(link.memerr);
		*err = ERR_MEM;
		return NULL;
	}
	if (pool != vn->pool)
		vn->c.tx_jumbo++;
	*err = ERR_OK;
	return b;
}

static void tx_queue(struct vnet_netif *vn, struct vnet_buf *b, uint32_t len)
{
	b->len = len;
	vn->tx_batch[vn->tx_n++] = b;
	LINK_STATS_INC(link.xmit);
}

/* A zeroed virtio_net_hdr in front of @b's data, marked as the
 * application's (VNET_BUF_F_TX_HDR): the driver leaves it as written. */
static struct vnet_net_hdr *tx_hdr(struct vnet_netif *vn, struct vnet_buf *b)
{
	struct vnet_net_hdr *h = vnet_buf_hdr(b, vn->hdr_len);

	if (!(b->flags & VNET_BUF_F_TX_HDR)) {
		memset(h, 0, vn->hdr_len);
		b->flags |= VNET_BUF_F_TX_HDR;
	}
	return h;
}

/* VNET_F_CSUM (spec 5.1.6.2): leave a TCP or UDP checksum of an IP frame
 * that is not a fragment (IPv6: no extension header) to the device. lwIP
 * wrote 0 there (or a full sum: replacing it is as good); the field gets
 * the pseudo-header sum. */
static void tx_csum_offload(struct vnet_netif *vn, struct vnet_buf *b)
{
	struct ip_view v;
	struct vnet_net_hdr *h;
	uint32_t off;

	if (!ip_view(b->data, b->len, b->len, &v) || v.frag)
		return;
	if (v.proto == IP_PROTO_TCP)
		off = TCP_CSUM_OFF;
	else if (v.proto == IP_PROTO_UDP)
		off = UDP_CSUM_OFF;
	else
		return;
	if (v.l4_len < off + 2u)
		return;
	put16(b->data + v.l4 + off, pseudo_sum(b->data + ETH_HDR_LEN, v.v6, v.proto, v.l4_len));
	h = tx_hdr(vn, b);
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)v.l4;
	h->csum_offset = (uint16_t)off;
	vn->c.tx_csum_offload++;
}

/* A TCP segment that may start or join a TSO frame: IPv4 without options
 * or fragments, or IPv6 without extension headers; ACK (and maybe PSH)
 * only, some payload, no padding. */
struct seg_view {
	uint32_t seq;
	uint32_t payload;
	uint32_t hlen;    /* Ethernet + IP + TCP headers */
	uint8_t flags;
	bool v6;
};

static bool tcp_seg_view(const uint8_t *f, uint32_t len, uint32_t total, struct seg_view *s)
{
	struct ip_view v;
	const uint8_t *tcp;
	uint32_t doff;

	if (!ip_view(f, len, total, &v) || v.frag || v.proto != IP_PROTO_TCP ||
	    v.l4 != ETH_HDR_LEN + (v.v6 ? IP6_HDR_LEN : IP4_HLEN) || v.l4_len < TCP_HLEN_MIN ||
	    v.l4 + v.l4_len != total || len < v.l4 + TCP_HLEN_MIN)
		return false;
	tcp = f + v.l4;
	doff = (uint32_t)(tcp[12] >> 4) * 4u;
	if (doff < TCP_HLEN_MIN || doff >= v.l4_len || v.l4 + doff > len)
		return false;
	if ((tcp[13] & (uint8_t)~TCPF_PSH) != TCPF_ACK)
		return false; /* SYN, FIN, RST, URG, ECE, CWR: never coalesced */
	s->seq = get32(tcp + 4);
	s->payload = v.l4_len - doff;
	s->hlen = v.l4 + doff;
	s->flags = tcp[13];
	s->v6 = v.v6;
	return true;
}

/* Same flow, same everything a TSO device copies from the first header
 * into every segment: MACs and ethertype; IPv4 TOS, DF, TTL, addresses;
 * IPv6 traffic class, flow label, hop limit, addresses; ports, ack,
 * window, TCP options. */
static bool gso_same_headers(const uint8_t *t, const uint8_t *f, uint32_t hlen, bool v6)
{
	const uint8_t *ti = t + ETH_HDR_LEN, *fi = f + ETH_HDR_LEN;
	uint32_t l3 = v6 ? IP6_HDR_LEN : IP4_HLEN;
	const uint8_t *tt = ti + l3, *ft = fi + l3;

	if (memcmp(t, f, ETH_HDR_LEN) != 0)
		return false;
	if (v6) {
		if (memcmp(ti, fi, 4) != 0 || ti[7] != fi[7] || memcmp(ti + 8, fi + 8, 32) != 0)
			return false;
	} else if (ti[1] != fi[1] || ti[6] != fi[6] || ti[8] != fi[8] || memcmp(ti + 12, fi + 12, 8) != 0) {
		return false;
	}
	return memcmp(tt, ft, 4) == 0 && memcmp(tt + 8, ft + 8, 5) == 0 && memcmp(tt + 14, ft + 14, 2) == 0 &&
	       memcmp(tt + TCP_HLEN_MIN, ft + TCP_HLEN_MIN, hlen - ETH_HDR_LEN - l3 - TCP_HLEN_MIN) == 0;
}

/* Move a one-segment frame into a jumbo buffer, so that more fit after it. */
static struct vnet_buf *gso_promote(struct vnet_netif *vn, struct vnet_buf *b)
{
	struct vnet_buf *jb;

	if (b->pool == vn->jumbo)
		return b;
	jb = vnet_buf_alloc(vn->jumbo);
	if (jb == NULL)
		return NULL;
	memcpy(jb->data, b->data, b->len);
	jb->len = b->len;
	vnet_buf_free(b);
	vn->c.tx_jumbo++;
	return jb;
}

/*
 * VNET_F_HOST_TSO4/6: append @p to the open TSO frame if it is the next
 * segment of the same flow, no larger than the first, and everything
 * still fits (the jumbo buffer, the 16-bit IPv4 total length or IPv6
 * payload length). The frame's headers are then those of a TSO frame
 * (spec 5.1.6.2): the IP length for the whole (and the IPv4 header
 * checksum), PSH if any segment had it (the device puts it on the last),
 * the TCP checksum field holding the pseudo-header sum over the whole
 * length (as Linux does; a device recomputes it per segment), gso_type
 * TCPV4 or TCPV6, gso_size = the first segment's payload (lwIP's segment
 * size: never above the MSS the peer announced), hdr_len = all headers.
 * @return true if @p was taken.
 */
static bool tx_coalesce(struct vnet_netif *vn, struct pbuf *p)
{
	struct vnet_gso_open *g = &vn->gso;
	uint8_t copy[GSO_HDR_MAX];
	const uint8_t *f;
	struct seg_view s;
	struct vnet_buf *b;
	struct vnet_net_hdr *h;
	uint8_t *ip, *tcp;
	uint32_t need = p->tot_len < GSO_HDR_MAX ? p->tot_len : GSO_HDR_MAX;
	uint32_t tot, l3;
	u16_t ipsum;

	if (g->slot < 0 || (uint32_t)g->slot + 1u != vn->tx_n)
		return false;
	if (p->len >= need) {
		f = p->payload;
	} else {
		if (pbuf_copy_partial(p, copy, (u16_t)need, 0) != need)
			return false;
		f = copy;
	}
	if (!tcp_seg_view(f, need, p->tot_len, &s) || s.v6 != g->v6 || s.hlen != g->hlen ||
	    s.seq != g->next_seq || s.payload > g->mss || g->segs >= GSO_SEGS_MAX)
		return false;
	b = vn->tx_batch[g->slot];
	if (!gso_same_headers(b->data, f, s.hlen, s.v6))
		return false;
	l3 = s.v6 ? IP6_HDR_LEN : IP4_HLEN;
	ip = b->data + ETH_HDR_LEN;
	tot = (uint32_t)get16(ip + (s.v6 ? 4 : 2)) + s.payload;
	if (tot > IP_LEN_MAX || b->len + s.payload > vn->jumbo_room)
		return false;
	b = gso_promote(vn, b);
	if (b == NULL)
		return false;
	vn->tx_batch[g->slot] = b;
	if (pbuf_copy_partial(p, b->data + b->len, (u16_t)s.payload, (u16_t)s.hlen) != s.payload)
		return false; /* cannot happen: lengths checked above; b->len is unchanged */
	b->len += s.payload;
	ip = b->data + ETH_HDR_LEN;
	tcp = ip + l3;
	if (s.v6) {
		put16(ip + 4, tot);
	} else {
		put16(ip + 2, tot);
		put16(ip + 10, 0);
		ipsum = inet_chksum(ip, IP4_HLEN);
		memcpy(ip + 10, &ipsum, sizeof(ipsum)); /* inet_chksum's result is in network order */
		tot -= IP4_HLEN;
	}
	tcp[13] = (uint8_t)(tcp[13] | (s.flags & TCPF_PSH));
	put16(tcp + TCP_CSUM_OFF, pseudo_sum(ip, s.v6, IP_PROTO_TCP, tot));
	h = tx_hdr(vn, b);
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->gso_type = s.v6 ? VNET_HDR_GSO_TCPV6 : VNET_HDR_GSO_TCPV4;
	h->hdr_len = (uint16_t)s.hlen;
	h->gso_size = g->mss;
	h->csum_start = (uint16_t)(ETH_HDR_LEN + l3);
	h->csum_offset = TCP_CSUM_OFF;
	if (g->segs == 1) {
		vn->c.tx_gso++;
		vn->c.tx_gso_segs++;
		if (s.v6) {
			vn->c.tx_gso6++;
			vn->c.tx_gso6_segs++;
		}
	}
	g->segs++;
	vn->c.tx_gso_segs++;
	if (s.v6)
		vn->c.tx_gso6_segs++;
	g->next_seq += s.payload;
	if (s.payload < g->mss)
		g->slot = -1; /* a short segment ends the frame */
	LINK_STATS_INC(link.xmit);
	return true;
}

/* After queueing @b (the last frame of the batch): open a TSO frame with
 * it if it is a TCP segment that others may join. */
static void gso_open(struct vnet_netif *vn, const struct vnet_buf *b)
{
	struct seg_view s;

	vn->gso.slot = -1;
	if (!tcp_seg_view(b->data, b->len, b->len, &s) || s.payload > 0xffffu ||
	    !(s.v6 ? vn->tx_tso6 : vn->tx_tso4))
		return;
	vn->gso.slot = (int32_t)vn->tx_n - 1;
	vn->gso.next_seq = s.seq + s.payload;
	vn->gso.mss = (uint16_t)s.payload;
	vn->gso.hlen = (uint16_t)s.hlen;
	vn->gso.segs = 1;
	vn->gso.v6 = s.v6;
}

static err_t netif_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct vnet_netif *vn = to_vn(nif);
	struct vnet_buf *b;
	bool tso = vn->tx_tso4 || vn->tx_tso6;
	err_t err;

	if (tso && vn->link_up && tx_coalesce(vn, p))
		return ERR_OK;
	b = tx_get(vn, p->tot_len, &err);
	if (b == NULL)
		return err;
	if (pbuf_copy_partial(p, b->data, p->tot_len, 0) != p->tot_len) {
		vnet_buf_free(b);
		LINK_STATS_INC(link.err);
		return ERR_BUF;
	}
	b->len = p->tot_len;
	if (vn->tx_csum)
		tx_csum_offload(vn, b);
	tx_queue(vn, b, p->tot_len);
	if (tso)
		gso_open(vn, b);
	return ERR_OK;
}

int vnet_netif_send_raw(struct vnet_netif *vn, const void *frame, uint32_t len)
{
	struct vnet_buf *b;
	err_t err;

	if (len < ETH_HDR_LEN)
		return -EINVAL;
	b = tx_get(vn, len, &err);
	if (b == NULL)
		return err == ERR_IF ? -ENETDOWN : err == ERR_BUF ? -EMSGSIZE : -EAGAIN;
	memcpy(b->data, frame, len);
	tx_queue(vn, b, len);
	return 0;
}

uint32_t vnet_netif_tx_flush(struct vnet_netif *vn)
{
	uint16_t sent;

	vn->gso.slot = -1; /* what is queued from here on starts afresh */
	if (vn->tx_n == 0)
		return 0;
	sent = vnet_tx_burst(vn->dev, 0, vn->tx_batch, vn->tx_n);
	if (sent < vn->tx_n)
		memmove(&vn->tx_batch[0], &vn->tx_batch[sent],
		        (size_t)(vn->tx_n - sent) * sizeof(vn->tx_batch[0]));
	vn->tx_n = (uint16_t)(vn->tx_n - sent);
	vn->c.tx_frames += sent;
	return sent;
}

/* ------------------------------------------------------------------ RX -- */

static void rx_pbuf_free(struct pbuf *p)
{
	struct vnet_rx_slot *s = (struct vnet_rx_slot *)(void *)
		((char *)p - offsetof(struct vnet_rx_slot, pc.pbuf));
	struct vnet_buf *b = s->buf;

	s->buf = NULL;
	if (s->vn != NULL)
		s->vn->rx_held--;
	if (b != NULL)
		vnet_buf_free(b);
}

static bool ip4_is_fragment(const uint8_t *f, uint32_t len)
{
	if (len < ETH_HDR_LEN + 20u)
		return false;
	return ((f[ETH_HDR_LEN + 6] & 0x3f) | f[ETH_HDR_LEN + 7]) != 0;
}

/* IPv6 with an extension header (a fragment header among them, maybe). */
static bool ip6_has_ext(const uint8_t *f, uint32_t len)
{
	uint8_t nh;

	if (len < ETH_HDR_LEN + IP6_HDR_LEN)
		return false;
	nh = f[ETH_HDR_LEN + 6];
	return nh != IP_PROTO_TCP && nh != IP_PROTO_UDP && nh != NH_ICMP6;
}

/* An ICMPv6 echo request right after the IPv6 header (one behind
 * extension headers is rare and not filtered). */
static bool ip6_is_echo_request(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_HDR_LEN;

	if (len < ETH_HDR_LEN + IP6_HDR_LEN + 1u || (ip[0] >> 4) != 6 || ip[6] != NH_ICMP6)
		return false;
	return ip[IP6_HDR_LEN] == ICMP6_ECHO_REQUEST;
}

static bool ip4_is_echo_request(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_HDR_LEN;
	uint32_t ihl;

	if (len < ETH_HDR_LEN + 20u || (ip[0] >> 4) != 4 || ip[9] != IP_PROTO_ICMP)
		return false;
	if (((ip[6] & 0x1f) | ip[7]) != 0)
		return false; /* only the first fragment carries the ICMP type */
	ihl = (uint32_t)(ip[0] & 0x0f) * 4u;
	if (ihl < 20u || len < ETH_HDR_LEN + ihl + 1u)
		return false;
	return ip[ihl] == 8; /* ICMP_ECHO */
}

/* A received frame: its head buffer, segment count and length. */
struct rx_frame {
	struct vnet_buf *b;
	uint32_t nseg;
	uint32_t total;
};

static void rx_drop(struct rx_frame *fr, uint64_t *counter)
{
	(*counter)++;
	LINK_STATS_INC(link.drop);
	vnet_buf_free_chain(fr->b);
}

/* Walk a chain once (bounded by nb_segs): its segment count and bytes.
 * A chain shorter than nb_segs says (the driver never builds one) ends
 * where its links do. */
static void rx_frame_init(struct rx_frame *fr, struct vnet_buf *b, bool mrg)
{
	uint32_t n = (mrg && b->nb_segs > 1) ? b->nb_segs : 1, i, total = 0;
	const struct vnet_buf *s = b;

	for (i = 0; i < n && s != NULL; i++) {
		total += s->len;
		s = s->next;
	}
	fr->b = b;
	fr->nseg = i;
	fr->total = total;
}

/* Ones' complement sum of @n contiguous bytes as big-endian 16-bit words,
 * folded: 32-bit loads into a 64-bit accumulator (the byte order of the
 * words only swaps the folded result). */
static uint32_t sum_be(const uint8_t *d, uint32_t n)
{
	uint64_t s = 0;
	uint32_t w;
	uint16_t h;

	for (; n >= 4; n -= 4, d += 4) {
		memcpy(&w, d, 4);
		s += w;
	}
	if (n >= 2) {
		memcpy(&h, d, 2);
		s += h;
		d += 2;
		n -= 2;
	}
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if (n)
		s += (uint32_t)*d << 8; /* the odd byte leads a word */
	while (s >> 16)
		s = (s >> 16) + (s & 0xffffu);
	return (uint32_t)s;
#else
	if (n)
		s += *d; /* the odd byte leads a word: its low byte here */
	while (s >> 16)
		s = (s >> 16) + (s & 0xffffu);
	return (uint32_t)(((s >> 8) | (s << 8)) & 0xffffu);
#endif
}

/* Add the sum of @n bytes at @d to a running @sum that has taken an odd
 * number of bytes so far when *@odd: such a piece starts in the middle of
 * a word, and its own sum counts byte-swapped. */
static uint32_t sum_piece(uint32_t sum, uint32_t *odd, const uint8_t *d, uint32_t n)
{
	uint32_t s = sum_be(d, n);

	sum += *odd ? ((s >> 8) | (s << 8)) & 0xffffu : s;
	*odd ^= n & 1u;
	return sum;
}

static uint32_t sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum >> 16) + (sum & 0xffffu);
	return sum;
}

/* Ones' complement sum of frame bytes [start, end) across the chain, as
 * big-endian 16-bit words (an odd segment carries over). */
static uint32_t chain_sum(const struct rx_frame *fr, uint32_t start, uint32_t end)
{
	const struct vnet_buf *s = fr->b;
	uint32_t sum = 0, pos = 0, i, odd = 0;

	for (i = 0; i < fr->nseg && s != NULL && pos < end; i++, s = s->next) {
		uint32_t lo = start > pos ? start - pos : 0;
		uint32_t hi = end - pos < s->len ? end - pos : s->len;

		if (lo < hi)
			sum = sum_piece(sum, &odd, s->data + lo, hi - lo);
		pos += s->len;
	}
	return sum_fold(sum);
}

enum rx_csum { RX_CHECK, RX_TRUST, RX_DROP };

/* A le16 field of the device-written virtio_net_hdr at @off (spec 5.1.6):
 * read once (volatile: the compiler may neither read it again later nor
 * split the use from the check), bytewise (a header-length override may
 * leave the header unaligned). Callers keep it in a local, check it, and
 * use only the local. */
static uint16_t hdr_le16(const volatile uint8_t *h, size_t off)
{
	uint8_t lo = h[off], hi = h[off + 1];

	return (uint16_t)(lo | hi << 8);
}

static const volatile uint8_t *rx_hdr(const struct vnet_netif *vn, struct vnet_buf *b)
{
	return (const volatile uint8_t *)vnet_buf_hdr(b, vn->hdr_len);
}

/*
 * What to do about a frame's checksums (VNET_F_GUEST_CSUM, spec 5.1.6.4):
 * RX_TRUST: the device validated the L4 checksum (DATA_VALID), or left a
 * partial TCP/UDP-over-IPv4/6 checksum it vouches for (NEEDS_CSUM with
 * csum_start at the L4 header and csum_offset at its checksum field);
 * RX_CHECK: lwIP checks (a partial sum of any other layout was finished
 * here first); RX_DROP: csum_start/csum_offset point outside the frame.
 */
static enum rx_csum rx_csum(struct vnet_netif *vn, struct rx_frame *fr, uint16_t flags)
{
	struct vnet_buf *b = fr->b;
	const volatile uint8_t *h;
	struct ip_view v;
	uint32_t start, off, sum;

	if (!(flags & VNET_BUF_F_NEEDS_CSUM))
		return (flags & VNET_BUF_F_DATA_VALID) ? RX_TRUST : RX_CHECK;
	h = rx_hdr(vn, b);
	start = hdr_le16(h, offsetof(struct vnet_net_hdr, csum_start));
	off = hdr_le16(h, offsetof(struct vnet_net_hdr, csum_offset));
	if (ip_view(b->data, b->len, fr->total, &v) && !v.frag && start == v.l4 &&
	    ((v.proto == IP_PROTO_TCP && off == TCP_CSUM_OFF) || (v.proto == IP_PROTO_UDP && off == UDP_CSUM_OFF)) &&
	    v.l4_len >= off + 2u) {
		vn->c.rx_csum_partial++;
		return RX_TRUST;
	}
	/* The field must lie in the frame, in the first buffer. */
	if (start >= fr->total || fr->total - start < 2u || off > fr->total - start - 2u ||
	    start + off + 2u > b->len) {
		vn->c.rx_bad_hdr++;
		return RX_DROP;
	}
	sum = chain_sum(fr, start, fr->total);
	put16(b->data + start + off, ~sum & 0xffffu);
	vn->c.rx_csum_finished++;
	return RX_CHECK;
}

static bool rx_want_copy(const struct vnet_netif *vn, const struct rx_frame *fr)
{
	const struct vnet_buf *s = fr->b;
	uint32_t i;

	if (vn->rx_copy)
		return true;
	if (vnet_pool_count(vn->pool) - vnet_pool_in_use(vn->pool) < vn->rx_reserve)
		return true;
	for (i = 0; i < fr->nseg; i++, s = s->next)
		if (s->pool != vn->pool || s->idx >= vn->nslots || vn->slots[s->idx].buf != NULL)
			return true;
	/* Fragments are copied: lwIP's reassembly may keep them past the
	 * interface's life (IPv6: any extension header, which is rare). */
	if (eth_type(fr->b->data) == ETHTYPE_IPV6)
		return ip6_has_ext(fr->b->data, fr->b->len);
	return eth_type(fr->b->data) == ETHTYPE_IP && ip4_is_fragment(fr->b->data, fr->b->len);
}

/*
 * A large segment's header (VNET_F_GUEST_TSO4/6, spec 5.1.6.4): the
 * device-written gso_type and gso_size must describe what the frame is -
 * TCP right after an IPv4 (no fragment) or IPv6 (no extension header)
 * header, the feature for that family in use, no ECN (GUEST_ECN is never
 * negotiated), a non-zero segment size. @v6 says which family it was.
 */
static bool rx_gso_ok(const struct vnet_netif *vn, const struct rx_frame *fr, uint8_t type,
                      uint16_t size, bool *v6)
{
	struct ip_view v;

	if (size == 0 || (type != VNET_HDR_GSO_TCPV4 && type != VNET_HDR_GSO_TCPV6))
		return false; /* ECN, UDP, USO, unknown */
	if (!ip_view(fr->b->data, fr->b->len, fr->total, &v) || v.frag || v.proto != IP_PROTO_TCP ||
	    v.l4_len < TCP_HLEN_MIN || v.l4 + TCP_HLEN_MIN > fr->b->len)
		return false;
	*v6 = v.v6;
	return v.v6 ? type == VNET_HDR_GSO_TCPV6 && vn->lro6 : type == VNET_HDR_GSO_TCPV4 && vn->lro4;
}

/* A frame's GSO header (with GUEST_CSUM negotiated: the flags byte next to
 * gso_type was read already). gso_type and gso_size are device-written:
 * read once, bytewise (a header-length override may leave them unaligned),
 * checked before use. @gso: a large segment. @return false: drop it. */
static bool rx_gso(struct vnet_netif *vn, const struct rx_frame *fr, bool *gso)
{
	const volatile uint8_t *h = rx_hdr(vn, fr->b);
	uint8_t type = h[offsetof(struct vnet_net_hdr, gso_type)];
	uint16_t size;
	bool v6 = false;

	if (vnet_likely(type == VNET_HDR_GSO_NONE))
		return true;
	size = hdr_le16(h, offsetof(struct vnet_net_hdr, gso_size));
	if (!rx_gso_ok(vn, fr, type, size, &v6))
		return false;
	vn->c.rx_gso++;
	if (v6)
		vn->c.rx_gso6++;
	*gso = true;
	return true;
}

/* One pbuf_custom per buffer, chained: lwIP frees each buffer on its own. */
static struct pbuf *rx_zero_copy(struct vnet_netif *vn, struct rx_frame *fr)
{
	struct vnet_buf *s = fr->b, *next;
	struct pbuf *head = NULL, *prev = NULL, *q;
	uint32_t i, left = fr->total;

	for (i = 0; i < fr->nseg; i++, s = next) {
		struct vnet_rx_slot *slot = &vn->slots[s->idx];
		uint32_t room = s->size - (uint32_t)(s->data - s->base);

		next = s->next;
		slot->buf = s;
		slot->vn = vn;
		slot->pc.custom_free_function = rx_pbuf_free;
		q = pbuf_alloced_custom(PBUF_RAW, (u16_t)s->len, PBUF_REF, &slot->pc, s->data,
		                        (u16_t)(room > 0xffffu ? 0xffffu : room));
		if (vnet_unlikely(q == NULL)) { /* cannot happen: len <= room */
			slot->buf = NULL;
			if (head != NULL)
				pbuf_free(head); /* the buffers already chained */
			for (; i < fr->nseg && s != NULL; i++, s = next) {
				next = s->next;
				vnet_buf_free(s);
			}
			return NULL;
		}
		vn->rx_held++;
		/* lwIP's own pbuf_cat would walk the chain once per link */
		q->tot_len = (u16_t)left;
		left -= s->len;
		if (prev != NULL)
			prev->next = q;
		else
			head = q;
		prev = q;
	}
	vn->c.rx_zero_copy++;
	return head;
}

static struct pbuf *rx_copy(struct vnet_netif *vn, struct rx_frame *fr)
{
	const struct vnet_buf *s = fr->b;
	struct pbuf *p;
	uint32_t i, off = 0;

	p = pbuf_alloc(PBUF_RAW, (u16_t)fr->total, PBUF_POOL);
	if (p == NULL)
		return NULL;
	for (i = 0; i < fr->nseg; i++, s = s->next) {
		pbuf_take_at(p, s->data, (u16_t)s->len, (u16_t)off);
		off += s->len;
	}
	vnet_buf_free_chain(fr->b);
	vn->c.rx_copied++;
	return p;
}

/* The frame hook wants one contiguous frame: a chain is copied into the
 * scratch buffer first. */
static void rx_hook(struct vnet_netif *vn, struct rx_frame *fr, uint16_t type)
{
	const uint8_t *f = fr->b->data;
	const struct vnet_buf *s = fr->b;
	uint32_t i, off = 0;

	if (vn->frame_hook == NULL) {
		LINK_STATS_INC(link.proterr);
		rx_drop(fr, &vn->c.rx_unknown);
		return;
	}
	if (fr->nseg > 1) {
		if (vn->scratch == NULL || fr->total > vn->scratch_len) {
			rx_drop(fr, &vn->c.rx_unknown);
			return;
		}
		for (i = 0; i < fr->nseg; i++, s = s->next) {
			memcpy(vn->scratch + off, s->data, s->len);
			off += s->len;
		}
		f = vn->scratch;
	}
	if (vn->frame_hook(vn->ifc, type, f, fr->total, vn->frame_arg)) {
		vn->c.rx_hooked++;
		vnet_buf_free_chain(fr->b);
	} else {
		LINK_STATS_INC(link.proterr);
		rx_drop(fr, &vn->c.rx_unknown);
	}
}

/* Hand one frame to lwIP. Checksum control is per netif in lwIP, but
 * input is synchronous in NO_SYS: @trusted skips the L4 checks for this
 * one frame. Frames lwIP sends meanwhile (ACKs, replies) see the same GEN
 * flags. A @large segment (GUEST_TSO4, or coalesced here) is acknowledged
 * at once: see port.c. */
static void rx_input(struct vnet_netif *vn, struct pbuf *p, bool trusted, bool large)
{
	err_t err;

	vnet_lwip_rx_lro = large;
	if (trusted && vn->rx_csum_check) {
		uint16_t flags = vnet_netif_csum_flags(vn);

		NETIF_SET_CHECKSUM_CTRL(&vn->nif, flags & (uint16_t)~CSUM_CHECK_L4);
		err = vn->nif.input(p, &vn->nif);
		NETIF_SET_CHECKSUM_CTRL(&vn->nif, flags);
	} else {
		err = vn->nif.input(p, &vn->nif);
	}
	vnet_lwip_rx_lro = false;
	if (err != ERR_OK)
		pbuf_free(p);
}

/* ---------------------------------------------------------- RX coalesce -- */

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
 * gro_flush writes), and within GRO_SEGS_MAX segments. A segment that
 * follows on but would pass either starts the next coalesced segment
 * (counted in rx_gro_capped). Jumbo frames reach the byte bound first: 7
 * segments of 8960 bytes make a 62,774-byte frame, 8 would make 71,734.
 */
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

/* The same over @len bytes of a pbuf chain from @off. */
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
		sum = sum_piece(sum, &odd, (const uint8_t *)p->payload + off, n);
		len -= n;
		off = 0;
	}
	return sum_fold(sum);
}

/* Can @p join a coalesced segment at all? Its headers lie in its first
 * pbuf (the zero-copy buffer or lwIP's copy). */
static bool gro_candidate(const struct vnet_netif *vn, const struct pbuf *p, bool trusted)
{
	const uint8_t *f = (const uint8_t *)p->payload, *ip = f + ETH_HDR_LEN, *th = ip + IP4_HLEN;
	uint32_t tot;

	if (p->len < GRO_HLEN || ip[0] != 0x45 || ip[9] != IP_PROTO_TCP || ((ip[6] & 0x3f) | ip[7]))
		return false;
	tot = get16(ip + 2);
	if (ETH_HDR_LEN + tot != p->tot_len || tot <= IP4_HLEN + TCP_HLEN_MIN)
		return false;
	if ((th[12] >> 4) != 5 || (th[13] & ~TCPF_PSH) != TCPF_ACK)
		return false;
	if (!vn->rx_csum_check)
		return true; /* lwIP checks nothing either */
	/* lwIP would check both: a bad one is left for lwIP to count. The
	 * device (DATA_VALID, or a partial checksum) vouches for TCP's only. */
	if (sum_be(ip, IP4_HLEN) != 0xffffu)
		return false;
	return trusted ||
	       ((pbuf_sum(p, ETH_HDR_LEN + IP4_HLEN, tot - IP4_HLEN) + pseudo_sum(ip, false, IP_PROTO_TCP, tot - IP4_HLEN)) %
	        0xffffu) == 0;
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
	       get32(qip + IP4_HLEN + 4) == vn->gro_open.next_seq;
}

/* Is there room in the open segment for @plen more payload bytes? The
 * running total is the open chain's tot_len (Ethernet, IP and TCP headers
 * and every payload so far): kept within FRAME_MAX, it never wraps, and the
 * IPv4 total length gro_flush writes (tot_len - 14) stays within 65535. */
static bool gro_room(const struct vnet_gro *g, uint32_t plen)
{
	return g->segs < GRO_SEGS_MAX && (uint32_t)g->p->tot_len + plen <= FRAME_MAX;
}

static void gro_flush(struct vnet_netif *vn)
{
	struct vnet_gro *g = &vn->gro_open;
	struct pbuf *p = g->p;

	if (p == NULL)
		return;
	g->p = NULL;
	if (g->segs > 1) {
		uint8_t *ip = (uint8_t *)p->payload + ETH_HDR_LEN;

		put16(ip + 2, p->tot_len - ETH_HDR_LEN);
		put16(ip + 10, 0);
		put16(ip + 10, ~sum_be(ip, IP4_HLEN) & 0xffffu);
		vn->c.rx_gro++;
		vn->c.rx_gro_segs += g->segs;
	}
	/* each segment's checksum was sound; the TCP one no longer covers the
	 * whole, so lwIP must not check it */
	rx_input(vn, p, true, g->segs > 1);
}

/* Take @p into the open segment (or open one with it). false: not a
 * candidate; the caller hands it to lwIP alone. */
static bool gro_take(struct vnet_netif *vn, struct pbuf *p, enum rx_csum cs)
{
	struct vnet_gro *g = &vn->gro_open;
	const uint8_t *f = (const uint8_t *)p->payload;
	uint32_t plen;

	if (!gro_candidate(vn, p, cs == RX_TRUST))
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
				gro_flush(vn);
			return true;
		}
		vn->c.rx_gro_capped++; /* full: @p starts the next one */
	}
	gro_flush(vn);
	g->p = p;
	g->segs = 1;
	g->next_seq = get32(f + ETH_HDR_LEN + IP4_HLEN + 4) + plen;
	return true;
}

static void rx_one(struct vnet_netif *vn, struct vnet_buf *b)
{
	struct rx_frame fr;
	enum rx_csum cs = RX_CHECK;
	bool gso = false;
	uint16_t type, flags = b->flags; /* the driver's copy of the header's flags byte */
	struct pbuf *p;

	rx_frame_init(&fr, b, vn->mrg);
	if (fr.nseg > 1)
		vn->c.rx_chained++;
	if (vnet_unlikely(b->len < ETH_HDR_LEN)) {
		LINK_STATS_INC(link.lenerr);
		rx_drop(&fr, &vn->c.rx_runt);
		return;
	}
	if (vnet_unlikely(fr.total > FRAME_MAX)) {
		LINK_STATS_INC(link.lenerr);
		rx_drop(&fr, &vn->c.rx_too_big);
		return;
	}
	/* the flags mean something only when GUEST_CSUM was negotiated */
	if (vn->guest_csum) {
		if (vnet_unlikely(flags & (VNET_BUF_F_DATA_VALID | VNET_BUF_F_NEEDS_CSUM))) {
			cs = rx_csum(vn, &fr, flags);
			if (cs == RX_DROP) {
				LINK_STATS_INC(link.drop);
				vnet_buf_free_chain(b);
				return;
			}
		}
		if (vnet_unlikely(!rx_gso(vn, &fr, &gso))) {
			LINK_STATS_INC(link.proterr);
			rx_drop(&fr, &vn->c.rx_bad_gso);
			return;
		}
	}
	type = eth_type(b->data);
	if (type != ETHTYPE_IP && type != ETHTYPE_ARP && (type != ETHTYPE_IPV6 || !vn->ip6)) {
		gro_flush(vn);
		rx_hook(vn, &fr, type);
		return;
	}
	if (!vn->icmp_echo && ((type == ETHTYPE_IP && ip4_is_echo_request(b->data, b->len)) ||
	                       (type == ETHTYPE_IPV6 && ip6_is_echo_request(b->data, b->len)))) {
		rx_drop(&fr, &vn->c.rx_icmp_filtered);
		return;
	}

	if (rx_want_copy(vn, &fr)) {
		p = rx_copy(vn, &fr);
		if (p == NULL) {
			LINK_STATS_INC(link.memerr);
			rx_drop(&fr, &vn->c.rx_nomem);
			return;
		}
	} else {
		p = rx_zero_copy(vn, &fr);
		if (vnet_unlikely(p == NULL)) { /* the buffers went back already */
			vn->c.rx_nomem++;
			LINK_STATS_INC(link.drop);
			return;
		}
	}
	LINK_STATS_INC(link.recv);
	if (cs == RX_TRUST && vn->rx_csum_check)
		vn->c.rx_csum_trusted++; /* per frame, coalesced or not */
	if (vn->gro && !gso && type == ETHTYPE_IP && gro_take(vn, p, cs))
		return;
	gro_flush(vn);
	rx_input(vn, p, cs == RX_TRUST, gso);
}

uint32_t vnet_netif_rx(struct vnet_netif *vn)
{
	struct vnet_buf *bufs[VNET_NETIF_RX_BURST_MAX];
	uint16_t n, i;

	n = vnet_rx_burst(vn->dev, 0, bufs, vn->rx_burst);
	if (n > 0)
		vnet_prefetch(bufs[0]->data);
	for (i = 0; i < n; i++) {
		if (i + 1u < n)
			vnet_prefetch(bufs[i + 1]->data);
		rx_one(vn, bufs[i]);
	}
	gro_flush(vn);
	vn->c.rx_frames += n;
	return n;
}

/* ---------------------------------------------------------------- link -- */

void vnet_netif_link_check(struct vnet_netif *vn, uint64_t now_us, bool force)
{
	struct vnet_net_config cfg;

	if (!force && now_us < vn->link_next_us)
		return;
	vn->link_next_us = now_us + vn->link_poll_us;
	if (vnet_dev_broken(vn->dev) == 1) {
		vn->broken = true;
		return;
	}
	if (vnet_dev_config(vn->dev, &cfg) != 0)
		return;
	vn->speed_mbps = cfg.speed_mbps;
	vn->duplex = cfg.duplex;
	if (cfg.link_up != vn->link_up) {
		vn->link_up = cfg.link_up;
		vn->c.link_changes++;
		if (cfg.link_up)
			netif_set_link_up(&vn->nif);   /* also sends a gratuitous ARP */
		else
			netif_set_link_down(&vn->nif);
		if (vn->link_cb != NULL)
			vn->link_cb(vn->ifc, cfg.link_up, vn->link_arg);
	}
	/* STATUS ANNOUNCE (spec 5.1.4, 5.1.6.5.4): the device asks for a
	 * gratuitous ARP, e.g. after a migration (the driver reports it only
	 * with VNET_F_GUEST_ANNOUNCE); send it, then acknowledge on the control
	 * queue, which clears the bit. If the ack fails, announce once per
	 * rising edge rather than on every check. */
	if (cfg.announce && !vn->announce && vn->link_up) {
		etharp_gratuitous(&vn->nif);
		vn->c.announces++;
		vnet_netif_tx_flush(vn);
		if (vnet_dev_announce_ack(vn->dev) == 0)
			cfg.announce = false; /* a new request will be a new edge */
	}
	vn->announce = cfg.announce;
}

/* ----------------------------------------------------------- lifecycle -- */

#define LRO_RX_ROOM 65550u /* one buffer for a whole 64 KiB TCP segment, without MRG_RXBUF */

/* The MTU the interface can carry: asked (or the device's), then capped
 * by the device's maximum, by one receive buffer (unless frames may span
 * several) and by the largest TX buffer. */
#define IP6_MIN_MTU 1280u /* RFC 8200 5 */

static uint32_t pick_mtu(const struct vnet_netif *vn, const struct vnet_net_config *cfg)
{
	uint32_t mtu = vn->conf_mtu ? vn->conf_mtu : (cfg->mtu ? cfg->mtu : 1500u);
	uint32_t tx_room = vn->jumbo_room > vn->data_room ? vn->jumbo_room : vn->data_room;

	if ((cfg->features & VNET_F_MTU) && cfg->mtu && mtu > cfg->mtu)
		mtu = cfg->mtu;
	if (!vn->mrg && mtu + ETH_HDR_LEN > vn->data_room)
		mtu = vn->data_room - ETH_HDR_LEN;
	if (mtu + ETH_HDR_LEN > tx_room)
		mtu = tx_room - ETH_HDR_LEN;
	if (mtu + ETH_HDR_LEN > FRAME_MAX)
		mtu = FRAME_MAX - ETH_HDR_LEN;
	if (vn->conf_mtu && mtu != vn->conf_mtu)
		vnet_log(VNET_LOG_WARN, "lwip: MTU %u asked, %u possible (device %u%s, buffers %u/%u)",
		         (unsigned)vn->conf_mtu, (unsigned)mtu, (unsigned)cfg->mtu,
		         (cfg->features & VNET_F_MRG_RXBUF) ? ", MRG_RXBUF" : "",
		         (unsigned)vn->data_room, (unsigned)vn->jumbo_room);
	return mtu;
}

static err_t netif_init_cb(struct netif *nif)
{
	struct vnet_netif *vn = to_vn(nif);
	struct vnet_net_config cfg;

	if (vnet_dev_config(vn->dev, &cfg) != 0)
		return ERR_IF;
	nif->name[0] = 'v';
	nif->name[1] = 'n';
	nif->output = etharp_output;
	if (vn->ip6)
		nif->output_ip6 = ethip6_output;
	nif->linkoutput = netif_linkoutput;
	nif->mtu = (u16_t)pick_mtu(vn, &cfg);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, cfg.mac, ETH_HWADDR_LEN);
	vnet_netif_csum_apply(vn);
	vn->link_up = cfg.link_up;
	vn->announce = cfg.announce;
	vn->speed_mbps = cfg.speed_mbps;
	vn->duplex = cfg.duplex;
	return ERR_OK;
}

/* Decide which negotiated offloads the interface uses. */
static int offloads_pick(struct vnet_netif *vn, const struct vnet_netif_conf *conf)
{
	struct vnet_net_config cfg;
	int rc;

	rc = vnet_dev_config(vn->dev, &cfg);
	if (rc != 0)
		return rc;
	vn->features = cfg.features;
	vn->hdr_len = vnet_dev_hdr_len(vn->dev);
	vn->guest_csum = (cfg.features & VNET_F_GUEST_CSUM) != 0;
	vn->mrg = (cfg.features & VNET_F_MRG_RXBUF) != 0;
	vn->ip6 = !conf->no_ip6;
	vn->lro4 = vn->guest_csum && (cfg.features & VNET_F_GUEST_TSO4) != 0;
	vn->lro6 = vn->guest_csum && (cfg.features & VNET_F_GUEST_TSO6) != 0;
	vn->tx_csum = (cfg.features & VNET_F_CSUM) && !conf->no_tx_csum;
	vn->jumbo = conf->jumbo_pool;
	vn->jumbo_room = vn->jumbo != NULL ? vnet_pool_data_room(vn->jumbo) : 0;
	vn->tx_tso4 = vn->tx_csum && (cfg.features & VNET_F_HOST_TSO4) && !conf->no_tso &&
	              vn->jumbo_room >= 2u * 1514u;
	vn->tx_tso6 = vn->tx_csum && (cfg.features & VNET_F_HOST_TSO6) && !conf->no_tso &&
	              vn->jumbo_room >= 2u * 1514u && vn->ip6;
	vn->gso.slot = -1;
	if ((cfg.features & (VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)) && !vn->mrg && vn->data_room < LRO_RX_ROOM) {
		vnet_log(VNET_LOG_ERR, "lwip: GUEST_TSO negotiated without MRG_RXBUF needs %u-byte receive "
		         "buffers; the pool's hold %u", LRO_RX_ROOM, (unsigned)vn->data_room);
		return -EINVAL;
	}
	if (vn->mrg) {
		vn->scratch_len = FRAME_MAX;
		vn->scratch = malloc(vn->scratch_len);
		if (vn->scratch == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* The IPv6 addresses (before the netif is up: duplicate address detection
 * starts with the link): the link-local one from the MAC (RFC 4291 2.5.1,
 * modified EUI-64), then the static one, its prefix length recorded. */
static int ip6_addrs_add(struct vnet_netif *vn, const struct vnet_netif_conf *conf)
{
	static const uint8_t zero[16];
	ip6_addr_t a;
	s8_t slot = -1;

	netif_create_ip6_linklocal_address(&vn->nif, 1);
	if (memcmp(conf->ip6, zero, sizeof(zero)) == 0)
		return 0;
	memcpy(a.addr, conf->ip6, sizeof(a.addr));
	ip6_addr_clear_zone(&a);
	if (netif_add_ip6_address(&vn->nif, &a, &slot) != ERR_OK || slot < 0)
		return -ENOSPC;
	vnet_lwip_set_prefix6(&vn->nif, (unsigned)slot, conf->ip6_prefix_len ? conf->ip6_prefix_len : 64u);
	return 0;
}

int vnet_netif_add(struct vnet_netif *vn, struct vnet_dev *dev, struct vnet_iface *ifc,
                   const struct vnet_netif_conf *conf)
{
	ip4_addr_t ip, mask, gw;
	uint32_t count;
	int rc;

	if (conf->pool == NULL)
		return -EINVAL;
	count = vnet_pool_count(conf->pool);
	vn->dev = dev;
	vn->ifc = ifc;
	vn->pool = conf->pool;
	vn->data_room = vnet_pool_data_room(conf->pool);
	if (vn->data_room < ETH_HDR_LEN + 576u)
		return -EINVAL; /* cannot carry the minimum IPv4 datagram */
	vn->rx_burst = conf->rx_burst ? conf->rx_burst : 32u;
	if (vn->rx_burst > VNET_NETIF_RX_BURST_MAX)
		vn->rx_burst = VNET_NETIF_RX_BURST_MAX;
	vn->rx_reserve = conf->rx_reserve ? conf->rx_reserve : count / 4u;
	vn->rx_copy = conf->rx_copy;
	vn->icmp_echo = conf->icmp_echo;
	vn->rx_csum_check = conf->rx_csum_check;
	vn->gro = !conf->no_gro;
	vn->conf_mtu = conf->mtu;
	vn->link_poll_us = (uint64_t)(conf->link_poll_ms ? conf->link_poll_ms : 20u) * 1000u;
	vn->link_next_us = vnet_now_us() + vn->link_poll_us;
	rc = offloads_pick(vn, conf);
	if (rc != 0)
		goto fail;
	rc = -ENOMEM;
	vn->nslots = count;
	vn->slots = calloc(count, sizeof(*vn->slots));
	if (vn->slots == NULL)
		goto fail;

	ip4_addr_set_u32(&ip, lwip_htonl(conf->ip));
	ip4_addr_set_u32(&mask, lwip_htonl(conf->netmask));
	ip4_addr_set_u32(&gw, lwip_htonl(conf->gateway));
	if (netif_add(&vn->nif, &ip, &mask, &gw, vn, netif_init_cb, ethernet_input) == NULL) {
		rc = -EIO;
		goto fail;
	}
	if (vn->ip6 && vn->nif.mtu < IP6_MIN_MTU) {
		/* RFC 8200 5: every link that carries IPv6 has an MTU of at
		 * least 1280; below it the interface speaks IPv4 only. */
		static const uint8_t zero[16];

		vnet_log(VNET_LOG_WARN, "lwip: MTU %u is below IPv6's minimum of %u: IPv6 off",
		         (unsigned)vn->nif.mtu, IP6_MIN_MTU);
		vn->ip6 = false;
		vn->tx_tso6 = false;
		if (memcmp(conf->ip6, zero, sizeof(zero)) != 0) { /* an address was asked for */
			netif_remove(&vn->nif);
			rc = -EINVAL;
			goto fail;
		}
	}
	if (vn->ip6) {
		rc = ip6_addrs_add(vn, conf);
		if (rc != 0) {
			netif_remove(&vn->nif);
			goto fail;
		}
	}
	if (conf->make_default)
		netif_set_default(&vn->nif);
	netif_set_up(&vn->nif);
	if (vn->link_up)
		netif_set_link_up(&vn->nif);
	return 0;
fail:
	free(vn->slots);
	vn->slots = NULL;
	free(vn->scratch);
	vn->scratch = NULL;
	return rc;
}

void vnet_netif_remove(struct vnet_netif *vn)
{
	uint32_t i;

	netif_remove(&vn->nif); /* aborts TCP PCBs on our addresses, flushes ARP */
	for (i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		vnet_lwip_set_prefix6(&vn->nif, i, 0); /* the number may be reused */
	if (vn->tx_n > 0)
		vnet_pool_free_bulk(vn->tx_batch, vn->tx_n);
	vn->tx_n = 0;
	vn->gso.slot = -1;
	free(vn->scratch);
	vn->scratch = NULL;
	if (vn->rx_held == 0) {
		free(vn->slots);
	} else {
		/* Something in lwIP still holds received frames. Keep the slots
		 * (lwIP will free through them later) but cut them loose from
		 * this interface, which is about to go. */
		vnet_log(VNET_LOG_WARN, "lwip: interface closed with %u RX buffers held by lwIP",
		         (unsigned)vn->rx_held);
		for (i = 0; i < vn->nslots; i++)
			vn->slots[i].vn = NULL;
	}
	vn->slots = NULL;
	vn->nslots = 0;
}
