/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The netif's RX path (lwIP's doc/ZeroCopyRx.c shows the custom-pbuf
 * idea): each frame of a burst becomes a pbuf_custom (PBUF_REF over the
 * pool buffer, no copy) from a slot table indexed by the buffer's pool
 * index; when lwIP frees the pbuf the buffer goes back to the pool. A frame
 * that spans several buffers (VNET_F_MRG_RXBUF, spec 5.1.6.4) becomes a
 * chain of such pbufs, one per buffer. lwIP may hold received frames for a
 * long time (TCP out-of-order queue, reassembly), so when the pool's free
 * buffers fall under a reserve the frame is copied into PBUF_POOL pbufs
 * and the pool buffers freed at once.
 *
 * Offloads (each used only while in force: negotiated, spec 5.1.6.4, and
 * not turned off since, vnet_dev_set_rx_offloads(); read at every burst),
 * the same for IPv4 and IPv6:
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
 *    IPv6 header, TCPV4 likewise), one not in force, ECN, UDP or a zero
 *    gso_size is a broken device header: dropped (rx_bad_gso). (A large
 *    segment the device wrote before it took the command that turned
 *    GUEST_TSO off is dropped so too: lwIP never sees one after the call.)
 *
 * Without them, consecutive segments of a TCP/IPv4 flow may still reach
 * lwIP as one (software GRO, gro.c).
 */
#include <stddef.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"

#include "base/platform.h"
#include "frame.h"
#include "glue.h"

#define ICMP6_ECHO_REQUEST 128u

/* lwIP frees a zero-copy pbuf: its buffer goes back to the pool, its slot
 * is free again. */
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
			sum = vnet_csum_add_piece(sum, &odd, s->data + lo, hi - lo);
		pos += s->len;
	}
	return vnet_csum_fold(sum);
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
	vnet_put_be16(b->data + start + off, (uint16_t)~sum);
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
 * header, the feature for that family in force, no ECN (GUEST_ECN is never
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
	/* the flags mean something only while GUEST_CSUM is in force */
	if (vn->guest_csum && vnet_unlikely(flags & (VNET_BUF_F_DATA_VALID | VNET_BUF_F_NEEDS_CSUM))) {
		cs = rx_csum(vn, &fr, flags);
		if (cs == RX_DROP) {
			LINK_STATS_INC(link.drop);
			vnet_buf_free_chain(b);
			return;
		}
	}
	/* a GSO type comes only with GUEST_TSO, negotiated with GUEST_CSUM:
	 * looked at while that is negotiated, taken only while in force */
	if (vn->features & VNET_F_GUEST_CSUM) {
		if (vnet_unlikely(!rx_gso(vn, &fr, &gso))) {
			LINK_STATS_INC(link.proterr);
			rx_drop(&fr, &vn->c.rx_bad_gso);
			return;
		}
	}
	type = eth_type(b->data);
	if (type != ETHTYPE_IP && type != ETHTYPE_ARP && (type != ETHTYPE_IPV6 || !vn->ip6)) {
		vnet_gro_flush(vn);
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
	if (vn->gro && !gso && type == ETHTYPE_IP && vnet_gro_take(vn, p, cs == RX_TRUST))
		return;
	vnet_gro_flush(vn);
	vnet_netif_input(vn, p, cs == RX_TRUST, gso);
}

void vnet_netif_rx_offloads(struct vnet_netif *vn)
{
	uint64_t on = vnet_dev_rx_offloads(vn->dev);

	vn->guest_csum = (on & VNET_F_GUEST_CSUM) != 0;
	vn->lro4 = vn->guest_csum && (on & VNET_F_GUEST_TSO4) != 0;
	vn->lro6 = vn->guest_csum && (on & VNET_F_GUEST_TSO6) != 0;
}

uint32_t vnet_netif_rx(struct vnet_netif *vn)
{
	struct vnet_buf *bufs[VNET_NETIF_RX_BURST_MAX];
	uint16_t n, i;

	vnet_netif_rx_offloads(vn);
	n = vnet_rx_burst(vn->dev, 0, bufs, vn->rx_burst);
	if (n > 0)
		vnet_prefetch(bufs[0]->data);
	for (i = 0; i < n; i++) {
		if (i + 1u < n)
			vnet_prefetch(bufs[i + 1]->data);
		rx_one(vn, bufs[i]);
	}
	vnet_gro_flush(vn);
	vn->c.rx_frames += n;
	return n;
}

