/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The glue's guards, each against what the rig's well-behaved peers never
 * do: a device that delivers a frame past lwIP's 64 KiB or writes a GSO
 * header the frame or the negotiation does not allow, a zero-copy slot
 * lwIP still holds, a flood of spoofed SYNs, and output whose source
 * address belongs to one interface while another shares its subnet. The
 * hostile frames are built by hand and sent through A's device past lwIP;
 * the hostile headers are written by the test into B's receive buffers,
 * as a device may. Each guard's counter shows it acted, and a control
 * shows the same frame goes through when nothing is wrong with it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/iface_priv.h" /* the zero-copy slots (held_slot_never_reused) */

#include "lwip_fixture.h"

#define BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define CSUMS (VNET_F_CSUM | VNET_F_GUEST_CSUM)
/* B takes large TCP/IPv4 segments whole (GUEST_TSO4), not IPv6 ones */
#define LRO4 (BASE | CSUMS | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF)

static const uint8_t IP6_A[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t IP6_B[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* ------------------------------------------------------ frame making -- */

static uint32_t sum16(uint32_t s, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s >> 16) + (s & 0xffffu);
	return (uint16_t)s;
}

static void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A TCP header at @t: ports, @seq, @flags, a 64 KiB window. */
static void tcp_hdr(uint8_t *t, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
	put16be(t, sport);
	put16be(t + 2, dport);
	put32be(t + 4, seq);
	put32be(t + 8, flags & 0x10 ? 1u : 0u);
	t[12] = 0x50;
	t[13] = flags;
	put16be(t + 14, 0xffff);
}

/* IPv4 header at f + 14 from @src to @dst, TCP, @tot bytes of datagram. */
static void ip4_hdr(uint8_t *f, uint32_t src, uint32_t dst, uint32_t tot)
{
	uint8_t *ip = f + 14;

	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)tot);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32be(ip + 12, src);
	put32be(ip + 16, dst);
	put16be(ip + 10, 0);
	put16be(ip + 10, (uint16_t)~fold(sum16(0, ip, 20)));
}

/* The TCP pseudo-header sum (RFC 793, RFC 8200 8.1) for @l4len bytes. */
static uint32_t pseudo4(const uint8_t *f, uint32_t l4len)
{
	return sum16(0, f + 14 + 12, 8) + 6u + l4len;
}

/* A whole TCP/IPv4 segment A -> B in one buffer of A's pool: @len payload
 * bytes, checksums right. */
static struct vnet_buf *tcp4(uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
                             uint32_t len)
{
	struct vnet_buf *b = raw_eth(P.a.pool, 14 + 20 + 20 + len, 0x0800);
	uint8_t *f = b->data, *t = f + 34;

	ip4_hdr(f, src, IP_B, 20 + 20 + len);
	tcp_hdr(t, sport, dport, seq, flags);
	memset(t + 20, 0x5a, len);
	put16be(t + 16, (uint16_t)~fold(sum16(pseudo4(f, 20 + len), t, 20 + len)));
	return b;
}

/* The same over IPv6, fd00::1 -> fd00::2. */
static struct vnet_buf *tcp6(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t len)
{
	struct vnet_buf *b = raw_eth(P.a.pool, 14 + 40 + 20 + len, 0x86dd);
	uint8_t *f = b->data, *t = f + 54;

	f[14] = 0x60;
	put16be(f + 18, (uint16_t)(20 + len));
	f[20] = 6;
	f[21] = 64;
	memcpy(f + 22, IP6_A, 16);
	memcpy(f + 38, IP6_B, 16);
	tcp_hdr(t, sport, dport, seq, 0x18);
	memset(t + 20, 0x5a, len);
	put16be(t + 16, (uint16_t)~fold(sum16(sum16(0, f + 22, 32) + 6u + 20u + len, t, 20 + len)));
	return b;
}

/* Send @b (a frame or a chain) from A's device past lwIP; A's model moves
 * it to B's receive ring at once. */
static void send_a(struct vnet_buf *b)
{
	unsigned tries;

	for (tries = 0; tries < 1000; tries++) {
		if (vnet_tx_burst(P.a.dev, 0, &b, 1) == 1) {
			vnet_model_poll(P.a.m);
			return;
		}
		pair_step(&P); /* ring full: let the device and B catch up */
	}
	ck_abort_msg("A's TX ring stays full");
}

static struct vnet_iface_stats b_stats(void)
{
	struct vnet_iface_stats s;

	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &s), 0);
	return s;
}

/* B has taken (or refused) @n more frames than at @frames0. */
struct b_wait {
	uint64_t frames0, n;
};

static bool b_took(void *arg)
{
	struct b_wait *w = arg;

	return b_stats().rx_frames >= w->frames0 + w->n;
}

static void b_run_until(uint64_t frames0, uint64_t n)
{
	struct b_wait w = {frames0, n};

	ck_assert(pair_run(&P, b_took, NULL, &w, 100000, 3000));
}

/* ------------------------------------------------- a hostile header -- */

/*
 * The model is a conforming device: the RX header it writes describes the
 * frame and what was negotiated. A device may write anything there; play
 * one by rewriting, after the model filled it and before B's poll, the
 * GSO fields of the buffer that holds the frame whose TCP sequence number
 * is @mark (at @seq_off in the frame). B's pool is one DMA region carved
 * into equal buffers (vnet_pool_create), which the device sees whole: the
 * test looks through all of it, as the device could. @return buffers
 * rewritten (1: the frame was found once).
 */
static unsigned rx_hdr_lie(uint32_t mark, uint32_t seq_off, uint8_t gso_type, uint16_t gso_size)
{
	struct vnet_buf *b0 = vnet_buf_alloc(P.b.pool);
	uint32_t i, n = vnet_pool_count(P.b.pool), head, hl = vnet_dev_hdr_len(P.b.dev);
	unsigned found = 0;

	ck_assert_ptr_nonnull(b0);
	head = (uint32_t)(b0->data - b0->base);
	for (i = 0; i < n; i++) {
		uint8_t *d = b0->base + ((ptrdiff_t)i - (ptrdiff_t)b0->idx) * (ptrdiff_t)b0->size + head;

		if (d[11] != 1 || d[5] != 2 || get32be(d + seq_off) != mark)
			continue; /* not A -> B, or not the frame */
		d[-(int)hl + (int)offsetof(struct vnet_net_hdr, gso_type)] = gso_type;
		d[-(int)hl + (int)offsetof(struct vnet_net_hdr, gso_size)] = (uint8_t)gso_size;
		d[-(int)hl + (int)offsetof(struct vnet_net_hdr, gso_size) + 1] = (uint8_t)(gso_size >> 8);
		found++;
	}
	vnet_buf_free(b0);
	return found;
}

/* A sends TCP/IPv4 (or /IPv6) carrying @mark; the device says it is a
 * large segment of @gso_type cut at @gso_size; B takes or drops it. */
static void lying_frame(bool v6, uint32_t mark, uint8_t gso_type, uint16_t gso_size)
{
	uint64_t frames0 = b_stats().rx_frames;

	send_a(v6 ? tcp6(40000, 9, mark, 1000) : tcp4(IP_A, 40000, 9, mark, 0x18, 1000));
	ck_assert_uint_eq(rx_hdr_lie(mark, v6 ? 54 + 4 : 34 + 4, gso_type, gso_size), 1);
	b_run_until(frames0, 1);
}

static void lro4_pair(void)
{
	struct rig_opts o;
	struct vnet_iface_info ib;

	memset(&o, 0, sizeof(o));
	o.offer = LRO4;
	o.want = LRO4;
	pair_open_opts(&P, &o, &o);
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_iface_info(P.b.ifc, &ib), 0);
	ck_assert_uint_eq(ib.offloads & (VNET_IFACE_OFF_LRO | VNET_IFACE_OFF_LRO6), VNET_IFACE_OFF_LRO);
}

/* A large segment with gso_size 0 is a header no device writes (spec
 * 5.1.6.4: gso_size is the MSS of the segments it stands for): dropped.
 * The same frame with a gso_size is taken whole. */
START_TEST(gso_size_zero_dropped)
{
	struct vnet_iface_stats s;

	lro4_pair();
	lying_frame(false, 0x5eed0001, VNET_HDR_GSO_TCPV4, 0);
	s = b_stats();
	ck_assert_uint_eq(s.rx_bad_gso, 1);
	ck_assert_uint_eq(s.rx_gso, 0);
	lying_frame(false, 0x5eed0002, VNET_HDR_GSO_TCPV4, 1448);
	s = b_stats();
	ck_assert_uint_eq(s.rx_bad_gso, 1);
	ck_assert_uint_eq(s.rx_gso, 1);
	ck_assert_uint_eq(s.rx_held, 0);
}
END_TEST

/* GUEST_TSO4 negotiated, GUEST_TSO6 not: a large TCP/IPv6 segment breaks
 * the negotiation (spec 5.1.6.4) and is dropped, while one over IPv4 is
 * taken. */
START_TEST(lro_family_not_negotiated_dropped)
{
	struct vnet_iface_stats s;

	lro4_pair();
	lying_frame(true, 0x5eed0003, VNET_HDR_GSO_TCPV6, 1428);
	s = b_stats();
	ck_assert_uint_eq(s.rx_bad_gso, 1);
	ck_assert_uint_eq(s.rx_gso, 0);
	ck_assert_uint_eq(s.rx_gso6, 0);
	lying_frame(false, 0x5eed0004, VNET_HDR_GSO_TCPV4, 1448);
	s = b_stats();
	ck_assert_uint_eq(s.rx_bad_gso, 1);
	ck_assert_uint_eq(s.rx_gso, 1);
	ck_assert_uint_eq(s.rx_held, 0);
}
END_TEST

/* ----------------------------------------------------- past 64 KiB -- */

/* The largest IPv4 GSO frame a host sends (a Linux host does): an IPv4
 * datagram of 65535 bytes, 65549 with its Ethernet header, as a chain of
 * two jumbo buffers (INDIRECT_DESC: one descriptor). */
static struct vnet_buf *gso4_max(void)
{
	struct vnet_buf *b1 = vnet_buf_alloc(P.a.jumbo), *b2 = vnet_buf_alloc(P.a.jumbo);
	const uint32_t total = 14 + 65535, first = 65000;
	struct vnet_net_hdr *h;
	uint8_t *f;

	ck_assert_ptr_nonnull(b1);
	ck_assert_ptr_nonnull(b2);
	f = b1->data;
	memset(f, 0x5a, first);
	memset(b2->data, 0x5a, total - first);
	f[0] = 0x52; f[1] = 0x54; f[2] = 0; f[3] = 0; f[4] = 0; f[5] = 2;
	f[6] = 0x52; f[7] = 0x54; f[8] = 0; f[9] = 0; f[10] = 0; f[11] = 1;
	put16be(f + 12, 0x0800);
	memset(f + 14, 0, 40);
	ip4_hdr(f, IP_A, IP_B, 65535);
	tcp_hdr(f + 34, 40001, 9, 0x5eed0005, 0x10);
	put16be(f + 34 + 16, fold(pseudo4(f, 65535 - 20))); /* partial: the device sums the rest */
	b1->len = first;
	b2->len = total - first;
	b1->nb_segs = 2;
	b1->next = b2;
	h = vnet_buf_hdr(b1, vnet_dev_hdr_len(P.a.dev));
	memset(h, 0, sizeof(*h));
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->gso_type = VNET_HDR_GSO_TCPV4;
	h->hdr_len = 54;
	h->gso_size = 1448;
	h->csum_start = 34;
	h->csum_offset = 16;
	b1->flags |= VNET_BUF_F_TX_HDR;
	return b1;
}

/* lwIP's pbuf lengths are 16 bits: a frame past 65535 bytes would reach it
 * with its length wrapped. B drops it and counts it; a GSO frame of
 * 65535 bytes (the control) goes through whole. */
START_TEST(rx_frame_past_64k_dropped)
{
	struct rig_opts oa, ob;
	struct vnet_iface_stats s;
	struct vnet_model_stats ma, mb;
	uint64_t frames0;

	memset(&oa, 0, sizeof(oa));
	oa.offer = LRO4 | VNET_F_HOST_TSO4 | VNET_F_INDIRECT_DESC;
	oa.want = oa.offer;
	oa.jumbo_count = 4;
	ob = oa;
	ob.jumbo_count = 0;
	pair_open_opts(&P, &oa, &ob);
	pair_up(&P, NULL, NULL);
	frames0 = b_stats().rx_frames;
	send_a(gso4_max());
	b_run_until(frames0, 1);
	s = b_stats();
	vnet_model_stats(P.a.m, &ma);
	vnet_model_stats(P.b.m, &mb);
	ck_assert_uint_eq(ma.tx_tso, 1);
	ck_assert_uint_eq(ma.tx_bad_hdr, 0);
	ck_assert_uint_eq(mb.rx_gso, 1);      /* delivered whole, 65549 bytes */
	ck_assert_uint_ge(mb.rx_merged, 1);
	ck_assert_uint_eq(s.rx_too_big, 1);
	ck_assert_uint_eq(s.rx_gso, 0);
	/* the control: 14 bytes less is a frame lwIP can hold */
	{
		struct vnet_buf *b = gso4_max();
		uint8_t *f = b->data;

		ip4_hdr(f, IP_A, IP_B, 65535 - 14);
		put16be(f + 34 + 16, fold(pseudo4(f, 65535 - 14 - 20)));
		b->next->len -= 14;
		frames0 = s.rx_frames;
		send_a(b);
		b_run_until(frames0, 1);
	}
	s = b_stats();
	ck_assert_uint_eq(s.rx_too_big, 1);
	ck_assert_uint_eq(s.rx_gso, 1);
	ck_assert_uint_eq(s.rx_held, 0);
}
END_TEST

/* ------------------------------------------------- zero-copy slots -- */

/*
 * A buffer's zero-copy slot is taken while lwIP holds the pbuf over it. A
 * buffer comes back from the ring once per post, so a frame never lands in
 * a taken slot unless the driver has a bug; the glue then copies the frame
 * rather than take over the slot (and free that buffer twice later). The
 * test stages the bug's effect: every free slot of B marked taken, as
 * lwIP's holding a pbuf leaves it, then a frame. It is copied and the
 * slots keep their marks; with the marks gone the same frame is handed
 * over in place.
 */
START_TEST(held_slot_never_reused)
{
	struct vnet_netif *vn;
	struct vnet_buf stand_in;
	struct vnet_iface_stats s0, s1;
	uint32_t i, marked = 0, kept = 0;

	pair_open(&P, 0);
	pair_up(&P, NULL, NULL);
	vn = &P.b.ifc->vn;
	memset(&stand_in, 0, sizeof(stand_in));
	s0 = b_stats();
	for (i = 0; i < vn->nslots; i++)
		if (vn->slots[i].buf == NULL) {
			vn->slots[i].buf = &stand_in;
			marked++;
		}
	ck_assert_uint_eq(marked, vn->nslots); /* lwIP holds nothing yet */
	send_a(tcp4(IP_A, 40002, 9, 0x5eed0006, 0x18, 100));
	b_run_until(s0.rx_frames, 1);
	for (i = 0; i < vn->nslots; i++)
		if (vn->slots[i].buf == &stand_in) {
			vn->slots[i].buf = NULL;
			kept++;
		}
	s1 = b_stats();
	ck_assert_uint_eq(kept, marked);
	ck_assert_uint_eq(s1.rx_zero_copy, s0.rx_zero_copy);
	ck_assert_uint_ge(s1.rx_copied, s0.rx_copied + 1);
	/* the control: free slots, the frame in place */
	send_a(tcp4(IP_A, 40002, 9, 0x5eed0007, 0x18, 100));
	b_run_until(s1.rx_frames, 1);
	ck_assert_uint_ge(b_stats().rx_zero_copy, s1.rx_zero_copy + 1);
	ck_assert_uint_eq(b_stats().rx_held, 0);
}
END_TEST

/* ------------------------------------------------------- SYN flood -- */

#define FLOOD 1100u

struct genuine {
	bool accepted, connected;
	int err;
	struct vnet_tcp *c;
};

static void flood_accept(struct vnet_tcp *c, void *arg)
{
	((struct genuine *)arg)->accepted = true;
	vnet_tcp_abort(c);
}

static void flood_dialed(struct vnet_tcp *c, int err, void *arg)
{
	struct genuine *g = arg;

	/* kept until B accepted: aborting here would answer B's SYN-ACK
	 * with a RST instead of the ACK */
	g->connected = err == 0;
	g->err = err;
	g->c = err == 0 ? c : NULL;
}

static bool genuine_done(void *arg)
{
	const struct genuine *g = arg;

	return g->accepted && (g->connected || g->err != 0);
}

/*
 * More spoofed SYNs than a listener may hold half-open (from 198.18.0.0/15,
 * a benchmarking range nobody answers from): the listener sheds the oldest
 * and never holds more than the bound, and a genuine peer still connects.
 */
START_TEST(syn_flood_bounded)
{
	struct vnet_tcp_listener *l;
	struct vnet_iface_stats s0, s;
	struct genuine g = {false, false, 0, NULL};
	uint32_t i;

	pair_open(&P, 0);
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 7000, flood_accept, &g, &l), 0);
	s0 = b_stats();
	for (i = 0; i < FLOOD; i++) {
		send_a(tcp4(0xC6120000u + 1u + i, (uint16_t)(1024 + i), 7000, 0x1000u * i, 0x02, 0));
		if (i % 32 == 31) /* B keeps up: its ring is never short of buffers */
			pair_step(&P);
	}
	b_run_until(s0.rx_frames, FLOOD);
	s = b_stats();
	printf("syn flood: %llu SYNs, %llu shed, %u half-open (peak %u, bound %u), %u of %u PCBs\n",
	       (unsigned long long)(s.syn_seen - s0.syn_seen), (unsigned long long)(s.syn_shed - s0.syn_shed),
	       (unsigned)s.syn_half_open, (unsigned)s.syn_half_open_peak, (unsigned)s.syn_half_open_max,
	       (unsigned)s.tcp_pcbs_used, (unsigned)s.tcp_pcbs);
	ck_assert_uint_eq(s.syn_seen - s0.syn_seen, FLOOD);
	ck_assert_uint_gt(s.syn_shed, s0.syn_shed);
	ck_assert_uint_le(s.syn_half_open, s.syn_half_open_max);
	ck_assert_uint_le(s.syn_half_open_peak, s.syn_half_open_max);
	ck_assert_uint_gt(s.syn_half_open, s.syn_half_open_max / 2); /* shed in batches, not all */
	/* a genuine peer behind the flood */
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "10.0.0.2:7000", 2000, flood_dialed, &g, NULL), 0);
	ck_assert(pair_run(&P, genuine_done, NULL, &g, 1000000, 3000));
	ck_assert(g.connected);
	vnet_tcp_abort(g.c);
	vnet_tcp_listener_close(l);
}
END_TEST

/* --------------------------------------------------------- routing -- */

struct dial_res {
	bool done;
	int err;
};

static void dial_cb(struct vnet_tcp *c, int err, void *arg)
{
	struct dial_res *r = arg;

	r->done = true;
	r->err = err;
	if (err == 0)
		vnet_tcp_abort(c);
}

static bool dial_done(void *arg)
{
	return ((struct dial_res *)arg)->done;
}

/*
 * A and B share a subnet in one stack. B dials a port of A where nothing
 * listens: A's RST (output of no connection, bound to no netif) has A's
 * address as its source and must leave through A; by subnet alone lwIP
 * would take the netif it lists first, B, and the RST would never reach
 * B's device. Refused, not timed out.
 */
START_TEST(rst_leaves_through_its_source)
{
	struct dial_res r = {false, 0};
	struct vnet_iface_stats sa0, sa;

	pair_open(&P, 0);
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_iface_stats(P.a.ifc, &sa0), 0);
	ck_assert_int_eq(vnet_tcp_dial(P.b.ifc, "10.0.0.1:81", 2000, dial_cb, &r, NULL), 0);
	ck_assert(pair_run(&P, dial_done, NULL, &r, 1000000, 3000));
	ck_assert_int_eq(r.err, -ECONNREFUSED);
	ck_assert_int_eq(vnet_iface_stats(P.a.ifc, &sa), 0);
	ck_assert_uint_gt(sa.tx_frames, sa0.tx_frames); /* the RST (and ARP) left through A */
}
END_TEST

static Suite *guards_suite(void)
{
	Suite *s = suite_create("lwip-guards");
	TCase *tc = tcase_create("guards");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, gso_size_zero_dropped);
	tcase_add_test(tc, lro_family_not_negotiated_dropped);
	tcase_add_test(tc, rx_frame_past_64k_dropped);
	tcase_add_test(tc, held_slot_never_reused);
	tcase_add_test(tc, syn_flood_bounded);
	tcase_add_test(tc, rst_leaves_through_its_source);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(guards_suite());
}
