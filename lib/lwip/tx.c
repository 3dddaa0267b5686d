/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The netif's TX path: linkoutput copies the frame into one pool buffer
 * (or one of the jumbo pool, for frames past the pool's data room: the
 * driver sends a frame from one descriptor) and queues it in a small
 * batch; the batch goes to the ring in one vnet_tx_burst per poll step (or
 * earlier when it fills). Frames the ring refuses stay queued.
 *
 * Offloads (each used only when negotiated, spec 5.1.6.2), the same for
 * IPv4 and IPv6 (an IPv6 frame qualifies when TCP or UDP follows the fixed
 * header directly: no extension headers):
 *  - VNET_F_CSUM: lwIP leaves TCP and UDP checksums to the device (its
 *    per-netif CHECKSUM_GEN flags off, so it writes 0 there); linkoutput
 *    puts the pseudo-header sum in the field and asks for NEEDS_CSUM with
 *    csum_start at the L4 header. IP fragments keep what lwIP wrote (a
 *    partial sum cannot span fragments): the Interface API computes UDP
 *    checksums in software for datagrams that will be fragmented.
 *  - VNET_F_HOST_TSO4/6: lwIP still builds MSS-sized segments (its MSS
 *    follows the peer's option and the MTU); consecutive segments of one
 *    flow queued back to back are coalesced here into one TSO frame with
 *    gso_size = the first segment's payload, in a jumbo-pool buffer. The
 *    device cuts it back into the very segments lwIP built (TCP header of
 *    the first, sequence numbers advanced, PSH/FIN on the last only), so
 *    lwIP's congestion control and retransmission are unaffected, and no
 *    segment ever exceeds what the peer announced.
 *  - Large send, with HOST_TSO4: once a TCP/IPv4 connection is established
 *    and lwIP's MSS for it is the link's (the peer announced at least the
 *    MTU's worth), port.c's TCP hook raises that MSS to up to
 *    LARGE_SEND_SEGS wire segments (vnet_netif_large_send) as soon as the
 *    congestion window holds one such segment. lwIP then
 *    builds, queues and acknowledges one segment where it did up to 16.
 *    Its IP layer cuts a datagram over the MTU into fragments (it has no
 *    way to be told not to), which reach linkoutput one after another
 *    within one ip4_output call; tx_join puts them back together in a
 *    jumbo buffer and sends the datagram as one TSO frame with gso_size =
 *    the link's MSS (tx_large): the device cuts it into segments no larger
 *    than the peer announced (FIN and PSH on the last). No fragment ever
 *    reaches the wire. lwIP's windows and timers count bytes, so they are
 *    unaffected; a retransmission resends a large segment whole.
 */
#include <errno.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"

#include "base/platform.h"
#include "frame.h"
#include "glue.h"

#define IP_LEN_MAX 0xffffu        /* IPv4 total length, IPv6 payload length */
#define GSO_HDR_MAX (ETH_HDR_LEN + IP6_HDR_LEN + 60u)
#define GSO_SEGS_MAX 64u          /* segments per TSO frame (Linux's default gso_max_segs is far larger) */
#define LARGE_SEND_SEGS 16u       /* wire segments per large segment: a 23 KiB segment at MTU 1500 */
#define IP4_MF 0x2000u
#define IP4_OFFSET 0x1fffu

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
	vnet_put_be16(b->data + v.l4 + off, vnet_csum_pseudo(b->data + ETH_HDR_LEN, v.v6, v.proto, v.l4_len));
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

static bool tcp_seg_view_flags(const uint8_t *f, uint32_t len, uint32_t total, struct seg_view *s, bool large)
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
	if ((tcp[13] & (uint8_t)~(large ? TCPF_PSH | TCPF_FIN : TCPF_PSH)) != TCPF_ACK)
		return false; /* SYN, FIN, RST, URG, ECE, CWR: never coalesced (a large segment may end with FIN) */
	s->seq = vnet_get_be32(tcp + 4);
	s->payload = v.l4_len - doff;
	s->hlen = v.l4 + doff;
	s->flags = tcp[13];
	s->v6 = v.v6;
	return true;
}

static bool tcp_seg_view(const uint8_t *f, uint32_t len, uint32_t total, struct seg_view *s)
{
	return tcp_seg_view_flags(f, len, total, s, false);
}

/* The largest TCP payload one wire segment of @vn carries, with a TCP
 * header of @tcp_hlen bytes. */
static uint32_t wire_mss(struct vnet_netif *vn, bool v6, uint32_t tcp_hlen)
{
	uint32_t mtu = v6 ? netif_mtu6(&vn->nif) : vn->nif.mtu, l3 = v6 ? IP6_HDR_LEN : IP4_HLEN;

	return mtu > l3 + tcp_hlen ? mtu - l3 - tcp_hlen : 0;
}

void vnet_netif_large_send(struct netif *n, struct tcp_pcb *pcb)
{
	struct vnet_netif *vn;
	uint32_t wire, room, big;

	if (n == NULL || n->linkoutput != vnet_netif_linkoutput || pcb == NULL)
		return;
	vn = vnet_netif_of(n);
	/* IPv6 fragments carry an extension header: not joined, so never
	 * raised (segments stay coalesced as before) */
	if (IP_IS_V6_VAL(pcb->remote_ip) || !vn->tx_tso4)
		return;
	wire = wire_mss(vn, false, TCP_HLEN_MIN);
	/* only where lwIP's MSS is the link's: then the peer announced at
	 * least that much; a smaller MSS is left alone, a raised one is not
	 * raised again */
	if (wire == 0 || pcb->mss != wire)
		return;
	/* a large segment's frame fits a jumbo buffer and the 16-bit IP
	 * length fields */
	room = vn->jumbo_room - ETH_HDR_LEN - IP4_HLEN - TCP_HLEN_MIN;
	if (room > IP_LEN_MAX - IP6_HDR_LEN - TCP_HLEN_MIN)
		room = IP_LEN_MAX - IP6_HDR_LEN - TCP_HLEN_MIN;
	big = wire * (room / wire < LARGE_SEND_SEGS ? room / wire : LARGE_SEND_SEGS);
	/* lwIP sends a segment only whole, within the congestion window:
	 * wait until slow start has opened it to one large segment (from
	 * then on lwIP keeps it at one MSS or more) */
	if (big <= wire || pcb->cwnd < big)
		return;
	pcb->mss = (u16_t)big;
	vn->c.tx_large_conns++;
}

/* Large send: @b (joined by tx_join, its checksum left to the device) is
 * a TCP/IPv4 segment over the link's MTU, which lwIP built after
 * vnet_netif_large_send: make it a TSO frame the device cuts into wire
 * segments. @return true if it was one. */
static bool tx_large(struct vnet_netif *vn, struct vnet_buf *b)
{
	struct vnet_net_hdr *h;
	struct seg_view s;
	uint32_t mss;

	if (!tcp_seg_view_flags(b->data, b->len, b->len, &s, true) || s.v6)
		return false;
	mss = wire_mss(vn, false, s.hlen - ETH_HDR_LEN - IP4_HLEN);
	if (mss == 0 || s.payload <= mss)
		return false;
	h = tx_hdr(vn, b);
	if (!(h->flags & VNET_HDR_F_NEEDS_CSUM))
		return false; /* tx_csum_offload did not take it: cannot happen for such a segment */
	h->gso_type = VNET_HDR_GSO_TCPV4;
	h->hdr_len = (uint16_t)s.hlen;
	h->gso_size = (uint16_t)mss;
	vn->c.tx_large++;
	vn->c.tx_gso++;
	vn->c.tx_gso_segs += (s.payload + mss - 1) / mss;
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
	tot = (uint32_t)vnet_get_be16(ip + (s.v6 ? 4 : 2)) + s.payload;
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
		vnet_put_be16(ip + 4, (uint16_t)tot);
	} else {
		vnet_put_be16(ip + 2, (uint16_t)tot);
		ip4_hdr_csum_set(ip);
		tot -= IP4_HLEN;
	}
	tcp[13] = (uint8_t)(tcp[13] | (s.flags & TCPF_PSH));
	vnet_put_be16(tcp + TCP_CSUM_OFF, vnet_csum_pseudo(ip, s.v6, IP_PROTO_TCP, tot));
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

void vnet_netif_join_drop(struct vnet_netif *vn)
{
	if (vn->join != NULL) {
		vnet_buf_free(vn->join);
		vn->join = NULL;
		vn->c.tx_large_broken++;
	}
}

/* Is @p an IPv4 fragment of a TCP segment (only large send makes them:
 * lwIP's TCP segments fit the MTU otherwise)? @ip: its IP header, in the
 * first pbuf with the Ethernet header (ip4_frag builds them so). */
static bool tx_tcp_fragment(const struct pbuf *p, const uint8_t **ip)
{
	const uint8_t *f = p->payload;

	if (p->len < ETH_HDR_LEN + IP4_HLEN || eth_type(f) != ETHTYPE_IP)
		return false;
	*ip = f + ETH_HDR_LEN;
	return (*ip)[9] == IP_PROTO_TCP && (vnet_get_be16(*ip + 6) & (IP4_MF | IP4_OFFSET)) != 0;
}

/* The last fragment is in: the joined datagram's IPv4 header says so
 * (no fragment bits, the whole length, its checksum), and it leaves as
 * one TSO frame. */
static err_t tx_join_done(struct vnet_netif *vn)
{
	struct vnet_buf *b = vn->join;
	uint8_t *ip = b->data + ETH_HDR_LEN;

	vn->join = NULL;
	vnet_put_be16(ip + 2, (uint16_t)(b->len - ETH_HDR_LEN));
	vnet_put_be16(ip + 6, (uint16_t)(vnet_get_be16(ip + 6) & ~(IP4_MF | IP4_OFFSET)));
	ip4_hdr_csum_set(ip);
	tx_csum_offload(vn, b);
	/* tx_get made room in the batch for it when the first fragment came
	 * (nothing else is queued in between) */
	if (vn->tx_n == VNET_NETIF_TX_BATCH || !tx_large(vn, b)) {
		vnet_buf_free(b); /* not a segment the device can cut */
		vn->c.tx_large_broken++;
		return ERR_VAL;
	}
	tx_queue(vn, b, b->len);
	vn->gso.slot = -1; /* a large segment is a TSO frame of its own */
	return ERR_OK;
}

/*
 * Large send: take fragment @p (IP header @ip, no options: lwIP writes
 * none) of a large TCP segment. The first opens a jumbo buffer with the
 * Ethernet, IP and TCP headers; each next one, in order (same
 * identification, the offset where the last ended), appends its payload;
 * the last sends the whole. A gap or a buffer that runs out drops what was
 * joined (TCP resends it) and says so to ip4_frag, which stops.
 */
static err_t tx_join(struct vnet_netif *vn, struct pbuf *p, const uint8_t *ip)
{
	uint16_t frag = vnet_get_be16(ip + 6), id = vnet_get_be16(ip + 4);
	uint32_t off = (uint32_t)(frag & IP4_OFFSET) * 8u, hl = ETH_HDR_LEN + IP4_HLEN, more;
	err_t err;

	if ((ip[0] & 0x0f) != IP4_HLEN / 4 || p->tot_len <= hl) {
		vnet_netif_join_drop(vn);
		return ERR_VAL;
	}
	more = p->tot_len - hl;
	if (off == 0) {
		vnet_netif_join_drop(vn); /* one left unfinished: ip4_frag stopped */
		vn->join = tx_get(vn, vn->jumbo_room, &err);
		if (vn->join == NULL)
			return err;
		if (pbuf_copy_partial(p, vn->join->data, p->tot_len, 0) != p->tot_len) {
			vnet_netif_join_drop(vn);
			return ERR_BUF;
		}
		vn->join->len = p->tot_len;
		vn->join_id = id;
	} else {
		struct vnet_buf *b = vn->join;

		/* in order: the offset is where the payload joined so far ends */
		if (b == NULL || id != vn->join_id || off != b->len - hl || b->len + more > vn->jumbo_room ||
		    pbuf_copy_partial(p, b->data + b->len, (u16_t)more, (u16_t)hl) != more) {
			vnet_netif_join_drop(vn);
			return ERR_VAL;
		}
		b->len += more;
	}
	return (frag & IP4_MF) ? ERR_OK : tx_join_done(vn);
}

err_t vnet_netif_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct vnet_netif *vn = vnet_netif_of(nif);
	struct vnet_buf *b;
	bool tso = vn->tx_tso4 || vn->tx_tso6;
	const uint8_t *ip;
	err_t err;

	if (vn->tx_tso4 && vnet_unlikely(tx_tcp_fragment(p, &ip)))
		return tx_join(vn, p, ip);
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
