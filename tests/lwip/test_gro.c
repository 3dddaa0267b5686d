/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software receive coalescing (netif.c gro_*): a device without
 * GUEST_TSO4 delivers wire-sized TCP segments; consecutive ones of a flow
 * in one RX burst reach lwIP as one segment, which lwIP acknowledges once.
 * Checked over the model's wire: the transfer's content, that segments
 * were coalesced and the receiver sent far fewer ACKs than with
 * coalescing off, the same with copied RX, and that a segment with a bad
 * checksum is left out and counted by lwIP as before. A receiver that
 * takes a whole window in one RX burst (polled only once the sender is
 * idle, as a slow guest is) checks the bounds: no coalesced segment past
 * 64 KiB with jumbo frames nor past the segment count at MTU 1500, every
 * byte delivered once; and a segment whose IPv4 header checksum is bad is
 * never joined, even when the device vouched for its TCP checksum.
 * The "apart" cases (CK_RUN_CASE=apart) play the sender by hand and check,
 * frame by frame as lwIP got them, that a segment is not joined when it
 * must not be: IPv4 or TCP options, out of order, another ACK, window,
 * TOS (DSCP or ECN), TTL, after PSH, FIN/SYN/RST/URG/CWR/ECE, another
 * flow, an IP fragment, not TCP.
 */
#include <stdio.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "lwip_fixture.h"
#include "lwip_xfer.h"

#define BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS | VNET_F_EVENT_IDX | VNET_F_MTU)

static bool connected(void *arg)
{
	return ((struct xfer *)arg)->connected;
}

/* A -> B, @total bytes, content checked; B's counters in @sb. */
static void xfer_ab(const struct vnet_iface_conf *cb, uint64_t total, uint16_t port, const char *what,
                    struct vnet_iface_stats *sb)
{
	struct rig_opts o;
	struct xfer *x;

	memset(&o, 0, sizeof(o));
	o.offer = o.want = BASE; /* no checksum offload, no GUEST_TSO4 */
	pair_open_opts(&P, &o, &o);
	pair_up(&P, NULL, cb);
	x = xfer_start(&P, total, port);
	ck_assert_msg(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000), "%s stuck", what);
	settle(&P, 50);
	xfer_finish(x, what);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, sb), 0);
	printf("%s: B rx %llu frames, coalesced %llu segments into %llu; B tx %llu frames\n", what,
	       (unsigned long long)sb->rxq.packets, (unsigned long long)sb->rx_gro_segs,
	       (unsigned long long)sb->rx_gro, (unsigned long long)sb->txq.packets);
}

START_TEST(coalesces_and_acks_less)
{
	struct vnet_iface_conf off = {.no_gro = true};
	struct vnet_iface_stats on_st, off_st;

	xfer_ab(NULL, 8u << 20, 5301, "gro on, 8 MiB", &on_st);
	ck_assert_uint_gt(on_st.rx_gro, 100);
	ck_assert_uint_ge(on_st.rx_gro_segs, 2 * on_st.rx_gro);
	ck_assert_uint_le(on_st.rx_gro_segs, on_st.rxq.packets);
	pair_close(&P);
	memset(&P, 0, sizeof(P));
	xfer_ab(&off, 8u << 20, 5302, "gro off, 8 MiB", &off_st);
	ck_assert_uint_eq(off_st.rx_gro, 0);
	ck_assert_uint_eq(off_st.rx_gro_segs, 0);
	/* lwIP acknowledges every second segment alone; a coalesced segment
	 * at once, so the receiver sends at least twice fewer frames */
	ck_assert_uint_lt(2 * on_st.txq.packets, off_st.txq.packets);
}
END_TEST

START_TEST(coalesces_copied_frames)
{
	struct vnet_iface_conf copy = {.rx_copy = true};
	struct vnet_iface_stats st;

	xfer_ab(&copy, 4u << 20, 5303, "gro on, copied RX, 4 MiB", &st);
	ck_assert_uint_eq(st.rx_zero_copy, 0);
	ck_assert_uint_gt(st.rx_gro, 50);
}
END_TEST

START_TEST(bad_checksum_left_to_lwip)
{
	struct rig_opts o;
	struct vnet_model_stats mb;
	struct vnet_iface_stats sb;
	uint64_t chk0 = lwip_stats.tcp.chkerr;
	struct xfer *x;

	memset(&o, 0, sizeof(o));
	o.offer = o.want = BASE;
	pair_open_opts(&P, &o, &o);
	pair_up(&P, NULL, NULL);
	x = xfer_start(&P, 4u << 20, 5304);
	ck_assert(pair_run(&P, connected, xfer_tick, x, 1000000, 5000));
	vnet_model_fault(P.b.m, VNET_FAULT_BAD_CSUM, 5);
	ck_assert(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000));
	settle(&P, 50);
	xfer_finish(x, "gro on, 4 MiB, 5 bad frames"); /* every byte right */
	vnet_model_stats(P.b.m, &mb);
	ck_assert_uint_eq(mb.faults_fired, 5);
	ck_assert_uint_eq(lwip_stats.tcp.chkerr - chk0, 5);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	ck_assert_uint_gt(sb.rx_gro, 0);
}
END_TEST

/* ------------------------------------------------------------ bounds -- */

/* netif.c's GRO_SEGS_MAX: segments in one coalesced segment at most. */
#define GRO_SEGS 16u

/*
 * Feed A's connection in large writes: lwIP sets PSH on the last segment
 * of each vnet_tcp_send(), and PSH closes a coalesced segment, so the
 * 64 KiB writes of xfer_feed() (and the smaller ones an ACK makes room
 * for) would keep coalesced segments short. A write waits until the send
 * buffer has 64 KiB free (vnet_tcp_sndbuf() says 65535 at most) and then
 * gives it all it takes (iperf writes 128 KiB at a time).
 */
static uint8_t big_chunk[192u * 1024u];

static void feed_big(struct xfer *x)
{
	size_t n;
	int r;

	if (x->client != NULL && x->sent < x->total) {
		n = x->total - x->sent < sizeof(big_chunk) ? (size_t)(x->total - x->sent) : sizeof(big_chunk);
		if (vnet_tcp_sndbuf(x->client) < (n < 0xffffu ? n : 0xffffu))
			return;
		pattern_fill(big_chunk, x->sent, n);
		r = vnet_tcp_send(x->client, big_chunk, n);
		if (r <= 0) {
			ck_assert_int_eq(r, -EAGAIN);
			return;
		}
		x->sent += (uint64_t)r;
	}
	if (x->client != NULL && x->sent == x->total && !x->client_closed) {
		ck_assert_int_eq(vnet_tcp_close(x->client), 0);
		x->client = NULL;
		x->client_closed = true;
	}
}

/*
 * Step the pair, B only when A has nothing to do: whatever A's window lets
 * it send is in B's receive ring before B polls, and B takes it in one RX
 * burst (up to its rx_burst), as a guest slower than its peer does. A is
 * fed by feed_big() alone (its sent callback, which feeds 64 KiB writes,
 * is replaced once connected). Bounded in steps and in time; stops early
 * on a byte too many or a wrong one.
 */
static bool run_bursty(struct xfer *x, uint64_t max_steps, uint32_t max_ms)
{
	uint64_t start = rig_now_us(), n;

	ck_assert(pair_run(&P, connected, NULL, x, 1000000, 5000));
	if (x->client != NULL)
		vnet_tcp_set_callbacks(x->client, NULL, NULL, cli_err, x);
	for (n = 0; n < max_steps && !xfer_done(x) && x->received <= x->total && x->bad == 0; n++) {
		int r, w;

		feed_big(x);
		r = vnet_iface_poll(P.a.ifc);
		w = (r > 0 ? r : 0) + (int)vnet_model_poll(P.a.m);
		if (w == 0) {
			r = vnet_iface_poll(P.b.ifc);
			w = (r > 0 ? r : 0) + (int)vnet_model_poll(P.b.m);
		}
		if (w == 0)
			usleep(200);
		if (rig_now_us() - start > (uint64_t)max_ms * 1000u)
			break;
	}
	return xfer_done(x);
}

/*
 * A -> B in bursts of a whole window, content checked, B's counters in
 * @sb. @mtu 9000: MRG_RXBUF chains (2 KiB buffers), A's TX from a jumbo
 * pool, segments of 8960 bytes, 13 in lwIP's 120 KiB window: eight would
 * make a 71,734-byte frame, past lwIP's 16-bit pbuf length.
 */
static void bursty_xfer(uint16_t mtu, const struct vnet_iface_conf *cb, uint64_t total, uint16_t port,
                        const char *what, struct vnet_iface_stats *sb)
{
	struct rig_opts o;
	struct vnet_iface_conf ca, b;
	uint64_t lenerr0 = lwip_stats.ip.lenerr, chk0 = chkerrs();
	struct xfer *x;

	memset(&o, 0, sizeof(o));
	memset(&ca, 0, sizeof(ca));
	o.offer = o.want = BASE;
	if (mtu > 1500) {
		o.offer = o.want = BASE | VNET_F_MRG_RXBUF;
		o.mtu = mtu;
		o.jumbo_count = 64;
		o.jumbo_size = 9216;
		ca.mtu = mtu;
	}
	b = *cb;
	b.mtu = ca.mtu;
	pair_open_opts(&P, &o, &o);
	pair_up(&P, &ca, &b);
	x = xfer_start(&P, total, port);
	ck_assert_msg(run_bursty(x, 20000000, 60000), "%s stuck: %llu of %llu bytes, %llu bad", what,
	              (unsigned long long)x->received, (unsigned long long)total, (unsigned long long)x->bad);
	settle(&P, 50);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, sb), 0);
	printf("%s: B rx %llu frames, coalesced %llu segments into %llu (%.1f each), capped %llu; "
	       "B tx %llu frames\n", what, (unsigned long long)sb->rxq.packets,
	       (unsigned long long)sb->rx_gro_segs, (unsigned long long)sb->rx_gro,
	       sb->rx_gro ? (double)sb->rx_gro_segs / (double)sb->rx_gro : 0.0,
	       (unsigned long long)sb->rx_gro_capped, (unsigned long long)sb->txq.packets);
	xfer_finish(x, what); /* every byte, once, in order */
	ck_assert_uint_eq(lwip_stats.ip.lenerr, lenerr0);
	ck_assert_uint_eq(chkerrs(), chk0);
	ck_assert_uint_eq(sb->rx_held, 0);
}

/* Jumbo segments: at most 7 of 8960 bytes fit 64 KiB (62,774-byte frame). */
static void jumbo_bursts(bool copy)
{
	struct vnet_iface_conf cb;
	struct vnet_iface_stats sb;

	memset(&cb, 0, sizeof(cb));
	cb.rx_copy = copy;
	bursty_xfer(9000, &cb, 32u << 20, copy ? 5306 : 5305,
	            copy ? "jumbo bursts, copied RX, 32 MiB" : "jumbo bursts, 32 MiB", &sb);
	ck_assert_uint_gt(sb.rx_gro, 100);
	ck_assert_uint_gt(sb.rx_gro_capped, 0);           /* the bound was reached */
	ck_assert_uint_le(sb.rx_gro_segs, 7 * sb.rx_gro); /* and kept */
	if (copy)
		ck_assert_uint_eq(sb.rx_zero_copy, 0);
	else
		ck_assert_uint_gt(sb.rx_zero_copy, 1000);
}

START_TEST(jumbo_bursts_bounded) { jumbo_bursts(false); }
END_TEST

START_TEST(jumbo_bursts_bounded_copy) { jumbo_bursts(true); }
END_TEST

/* MTU 1500, bursts of up to 64 frames: the segment count bounds each one
 * (64 of 1460 bytes would also pass 64 KiB). */
START_TEST(segment_count_bounded)
{
	struct vnet_iface_conf cb;
	struct vnet_iface_stats sb;

	memset(&cb, 0, sizeof(cb));
	cb.rx_burst = 64;
	bursty_xfer(1500, &cb, 16u << 20, 5307, "bursts of 64, MTU 1500, 16 MiB", &sb);
	ck_assert_uint_gt(sb.rx_gro, 100);
	ck_assert_uint_gt(sb.rx_gro_capped, 0);
	ck_assert_uint_le(sb.rx_gro_segs, GRO_SEGS * sb.rx_gro);
	ck_assert_uint_gt(sb.rx_gro_segs, 4 * sb.rx_gro); /* still coalescing well */
}
END_TEST

/* ------------------------------------------------- IPv4 header checksum -- */

/*
 * A device that vouches for what it should not: A's TCP checksums are left
 * to the device (CSUM) and B's model passes them on unfinished (GUEST_CSUM,
 * PARTIAL: NEEDS_CSUM at the TCP field, which the glue trusts as the spec
 * says), while the test spoils the IPv4 header checksum of a few data
 * segments through A's tap (the frame as it leaves the device; writing
 * through the tap's const pointer on purpose). The model sets no
 * DATA_VALID on a frame whose IPv4 header checksum is bad, so the
 * partial-checksum path is how a trusted frame with a bad header arrives.
 * Each such segment must reach lwIP alone, which drops it (ip.chkerr),
 * never be joined (its header thrown away) nor head a coalesced segment
 * (its checksum rewritten): TCP sends the data again.
 */
struct spoil_ip {
	unsigned every, seen, left, done;
};

static void spoil_ip_fn(const uint8_t *cf, uint32_t len, void *arg)
{
	struct spoil_ip *s = arg;
	uint8_t *f = (uint8_t *)(uintptr_t)cf;

	if (s->left == 0 || len < 14 + 20 + 20 + 1000 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6)
		return; /* a TCP/IPv4 data segment */
	if (++s->seen % s->every != 0)
		return;
	f[14 + 10] ^= 0x5a; /* the header checksum; the header itself unchanged */
	s->left--;
	s->done++;
}

START_TEST(bad_ip_header_never_joined)
{
	struct rig_opts o;
	struct vnet_iface_conf none;
	struct vnet_iface_stats sb;
	struct spoil_ip sp = {5, 0, 5, 0};
	uint64_t ipchk0 = lwip_stats.ip.chkerr, tcpchk0 = lwip_stats.tcp.chkerr;
	struct xfer *x;

	memset(&o, 0, sizeof(o));
	o.offer = o.want = BASE | VNET_F_CSUM | VNET_F_GUEST_CSUM;
	o.rx_csum = VNET_MODEL_RX_CSUM_PARTIAL;
	memset(&none, 0, sizeof(none));
	pair_open_opts(&P, &o, &o);
	pair_up(&P, &none, &none);
	x = xfer_start(&P, 4u << 20, 5308);
	vnet_model_set_tap(P.a.m, spoil_ip_fn, &sp); /* data segments only */
	ck_assert_msg(run_bursty(x, 20000000, 60000), "stuck: %llu of %llu bytes",
	              (unsigned long long)x->received, (unsigned long long)x->total);
	vnet_model_set_tap(P.a.m, NULL, NULL);
	settle(&P, 50);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	printf("bad IPv4 header checksums: %u spoilt, lwIP ip.chkerr +%llu; B coalesced %llu segments into %llu, "
	       "partial checksums trusted %llu\n", sp.done, (unsigned long long)(lwip_stats.ip.chkerr - ipchk0),
	       (unsigned long long)sb.rx_gro_segs, (unsigned long long)sb.rx_gro,
	       (unsigned long long)sb.rx_csum_partial);
	xfer_finish(x, "gro on, 4 MiB, 5 bad IP headers");
	ck_assert_uint_eq(sp.done, 5);
	ck_assert_uint_gt(sb.rx_csum_partial, 1000); /* the device vouched for the TCP checksums */
	ck_assert_uint_gt(sb.rx_gro, 50);
	ck_assert_uint_eq(lwip_stats.ip.chkerr - ipchk0, 5); /* each one dropped by lwIP */
	ck_assert_uint_eq(lwip_stats.tcp.chkerr, tcpchk0);
}
END_TEST

/* ----------------------------------------------------- left apart -- */

/*
 * Segments GRO must leave alone. B is a real lwIP interface; A has no
 * interface: the test plays A's TCP by hand on A's device (raw_eth frames
 * onto its TX ring, B's replies read off its RX ring), so every header
 * field of every segment is the test's. After a handshake, a burst of
 * segments is put on the wire and reaches B's RX ring whole before B polls
 * once: one RX burst. Each burst opens a coalesced segment (two plain
 * segments that join) and then sends the segment under test, which must
 * reach lwIP on its own. What lwIP got is recorded by a wrapper around the
 * netif's input function (each frame as the glue hands it over: the TCP
 * sequence number, payload length, flags, ACK, window, TOS, TTL, header
 * lengths, fragment field), and checked frame by frame, with the glue's
 * rx_gro/rx_gro_segs and the bytes the application received (compared with
 * the stream the test meant to send, and the EOF or reset it expects).
 */
#define TF_FIN 0x01u
#define TF_SYN 0x02u
#define TF_RST 0x04u
#define TF_PSH 0x08u
#define TF_ACK 0x10u
#define TF_URG 0x20u
#define TF_ECE 0x40u
#define TF_CWR 0x80u

#define SEG 1000u         /* payload bytes of a segment */
#define WIN 0xffffu       /* A's window (no window scaling: A sends no WS) */
#define STREAM 16384u     /* the stream A sends at most */
#define IP_C 0x0A000003u  /* 10.0.0.3: a host that is not A */
#define GARBAGE 0xeeu     /* payload of segments of another flow: never to reach the application */

/* One frame lwIP got (IPv4 only). TCP fields are 0 for a fragment or another protocol. */
struct seen {
	uint8_t proto, tos, ttl, ihl, doff, flags;
	uint16_t frag;  /* flags and fragment offset, as on the wire */
	uint32_t src;
	uint16_t sport, dport, win;
	uint32_t off;   /* sequence number - A's ISS - 1: stream offset */
	uint32_t ack;   /* ACK number - B's ISS - 1 */
	uint32_t len;   /* TCP payload bytes */
};

static struct peer {
	uint16_t aport, bport;
	uint32_t iss;              /* A's initial sequence number */
	uint32_t b_iss;            /* B's */
	uint32_t b_nxt;            /* B's highest sequence number seen + 1 (its data, SYN and FIN) */
	bool synack;
	uint16_t ipid;
	struct vnet_tcp_listener *l;
	struct vnet_tcp *srv;
	uint64_t received, bad;
	bool eof;
	int err;                   /* the server connection's error callback (0: none) */
	netif_input_fn input;      /* B's netif input, wrapped by rec_input */
	bool recording;
	unsigned nseen;
	struct seen seen[32];
	uint8_t exp[STREAM];       /* the stream A sends: pattern_at() unless a test writes its own */
} R;

static uint32_t sum16(const uint8_t *p, uint32_t n, uint32_t s)
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
		s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

static void ip_csum(uint8_t *ip)
{
	uint32_t hl = (ip[0] & 0xfu) * 4u;

	put16be(ip + 10, 0);
	put16be(ip + 10, fold(sum16(ip, hl, 0)));
}

/* The wrapper of B's netif input: records each IPv4 frame the glue hands lwIP. */
static err_t rec_input(struct pbuf *p, struct netif *inp)
{
	uint8_t h[14 + 60 + 60];
	uint16_t n = pbuf_copy_partial(p, h, sizeof(h), 0);

	if (R.recording && n >= 34 && h[12] == 0x08 && h[13] == 0x00) {
		const uint8_t *ip = h + 14, *th;
		struct seen *s;
		uint32_t ihl = (ip[0] & 0xfu) * 4u, tot = (uint32_t)ip[2] << 8 | ip[3];

		ck_assert_uint_lt(R.nseen, 32);
		s = &R.seen[R.nseen++];
		memset(s, 0, sizeof(*s));
		s->proto = ip[9];
		s->tos = ip[1];
		s->ttl = ip[8];
		s->ihl = (uint8_t)(ip[0] & 0xfu);
		s->frag = (uint16_t)(ip[6] << 8 | ip[7]);
		s->src = get32be(ip + 12);
		th = ip + ihl;
		if (s->proto == 6 && (s->frag & 0x3fffu) == 0 && n >= 14 + ihl + 20) {
			s->sport = (uint16_t)(th[0] << 8 | th[1]);
			s->dport = (uint16_t)(th[2] << 8 | th[3]);
			s->off = get32be(th + 4) - R.iss - 1;
			s->ack = get32be(th + 8) - R.b_iss - 1;
			s->doff = th[12] >> 4;
			s->flags = th[13];
			s->win = (uint16_t)(th[14] << 8 | th[15]);
			s->len = tot - ihl - s->doff * 4u;
		}
	}
	return R.input(p, inp);
}

static void r_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	const uint8_t *d = data;
	size_t k;

	(void)c;
	(void)arg;
	if (len == 0) {
		R.eof = true;
		return;
	}
	for (k = 0; k < len; k++)
		if (R.received + k >= STREAM || d[k] != R.exp[R.received + k])
			R.bad++;
	R.received += len;
}

static void r_err(struct vnet_tcp *c, int err, void *arg)
{
	(void)c;
	(void)arg;
	R.err = err;
	R.srv = NULL;
}

static void r_accept(struct vnet_tcp *c, void *arg)
{
	(void)arg;
	R.srv = c;
	vnet_tcp_set_callbacks(c, r_recv, NULL, r_err, NULL);
}

/* A frame of @len bytes (an Ethernet header A -> B included) onto A's TX ring. */
static void a_send(const uint8_t *f, uint32_t len)
{
	struct vnet_buf *b = raw_eth(P.a.pool, len, 0);

	memcpy(b->data, f, len);
	ck_assert_uint_eq(vnet_tx_burst(P.a.dev, 0, &b, 1), 1);
}

/* A's side of ARP: answer B's request for A's address. */
static void a_arp(const uint8_t *f, uint32_t len)
{
	uint8_t r[42];

	if (len < 42 || f[20] != 0 || f[21] != 1 || get32be(f + 38) != IP_A)
		return;
	memset(r, 0, sizeof(r));
	memcpy(r, f + 6, 6);         /* to B */
	r[6] = 0x52; r[7] = 0x54; r[11] = 1;
	put16be(r + 12, 0x0806);
	put16be(r + 14, 1);
	put16be(r + 16, 0x0800);
	r[18] = 6;
	r[19] = 4;
	put16be(r + 20, 2);          /* reply */
	memcpy(r + 22, r + 6, 6);
	put32be(r + 28, IP_A);
	memcpy(r + 32, f + 22, 10);  /* B's MAC and address */
	a_send(r, sizeof(r));
}

/* Take what reached A: answer ARP, note B's TCP state toward A's port. */
static unsigned a_drain(void)
{
	struct vnet_buf *bufs[32];
	unsigned i, n = vnet_rx_burst(P.a.dev, 0, bufs, 32);

	for (i = 0; i < n; i++) {
		const uint8_t *f = bufs[i]->data, *ip = f + 14, *th;
		uint32_t len = bufs[i]->len, ihl, tot, seq, end;

		if (len >= 14 && f[12] == 0x08 && f[13] == 0x06)
			a_arp(f, len);
		if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && ip[9] == 6) {
			ihl = (ip[0] & 0xfu) * 4u;
			tot = (uint32_t)ip[2] << 8 | ip[3];
			th = ip + ihl;
			if ((uint16_t)(th[2] << 8 | th[3]) == R.aport) {
				seq = get32be(th + 4);
				if ((th[13] & (TF_SYN | TF_ACK)) == (TF_SYN | TF_ACK) && !R.synack) {
					R.synack = true;
					R.b_iss = seq;
					R.b_nxt = seq;
				}
				end = seq + tot - ihl - (th[12] >> 4) * 4u + !!(th[13] & TF_SYN) + !!(th[13] & TF_FIN);
				if ((int32_t)(end - R.b_nxt) > 0)
					R.b_nxt = end;
			}
		}
		vnet_buf_free_chain(bufs[i]);
	}
	vnet_rx_refill(P.a.dev, 0);
	vnet_tx_reclaim(P.a.dev, 0);
	return n;
}

static unsigned step_all(void)
{
	unsigned w = vnet_model_poll(P.a.m) + vnet_model_poll(P.b.m);
	int r = vnet_iface_poll(P.b.ifc);

	w += r > 0 ? (unsigned)r : 0;
	w += vnet_model_poll(P.b.m) + vnet_model_poll(P.a.m);
	return w + a_drain();
}

/* Step until @done (NULL: for @ms) or @ms milliseconds have passed. */
static bool run_peer(bool (*done)(void), uint32_t ms)
{
	uint64_t start = rig_now_us();

	while (rig_now_us() - start < (uint64_t)ms * 1000u) {
		if (done != NULL && done())
			return true;
		if (step_all() == 0)
			usleep(200);
	}
	return done != NULL && done();
}

static bool got_synack(void) { return R.synack; }
static bool got_accept(void) { return R.srv != NULL; }

/* A TCP/IPv4 segment A -> B. Zero fields: the flow's (A's port to B's, IP_A
 * to IP_B, ACK B's ISS + 1, window WIN, TTL 64, flags ACK). */
struct seg {
	uint32_t off, len;       /* stream offset of the payload (sequence number ISS + 1 + off) and its length */
	uint8_t flags, tos, ttl, proto;
	uint16_t win, urp, sport, dport;
	uint32_t src;
	uint32_t ack;            /* ACK number - B's ISS - 1 */
	const uint8_t *ipopt, *tcpopt;
	uint8_t ipopt_len, tcpopt_len; /* multiples of 4 */
	uint8_t fill;            /* payload: R.exp at off (0), else this byte throughout */
};

/* Build @s (an Ethernet frame, checksums sound) at @f; its length. */
static uint32_t seg_frame(const struct seg *s, uint8_t *f)
{
	uint32_t ihl = 20u + s->ipopt_len, thl = 20u + s->tcpopt_len, tot = ihl + thl + s->len, ps;
	uint8_t *ip = f + 14, *th = ip + ihl;

	ck_assert_uint_le(14 + tot, 1514);
	ck_assert_uint_le(s->off + s->len, STREAM);
	memset(f, 0, 14 + tot);
	f[0] = 0x52; f[1] = 0x54; f[5] = 2;
	f[6] = 0x52; f[7] = 0x54; f[11] = 1;
	put16be(f + 12, 0x0800);
	ip[0] = (uint8_t)(0x40 | ihl / 4u);
	ip[1] = s->tos;
	put16be(ip + 2, (uint16_t)tot);
	put16be(ip + 4, ++R.ipid);
	ip[6] = 0x40; /* DF */
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = 6;
	put32be(ip + 12, s->src ? s->src : IP_A);
	put32be(ip + 16, IP_B);
	if (s->ipopt_len)
		memcpy(ip + 20, s->ipopt, s->ipopt_len);
	put16be(th, s->sport ? s->sport : R.aport);
	put16be(th + 2, s->dport ? s->dport : R.bport);
	th[13] = s->flags ? s->flags : TF_ACK;
	if (th[13] == TF_SYN) { /* A's SYN: the ISS itself, no ACK number */
		put32be(th + 4, R.iss);
	} else {
		put32be(th + 4, R.iss + 1 + s->off);
		put32be(th + 8, R.b_iss + 1 + s->ack);
	}
	th[12] = (uint8_t)(thl / 4u << 4);
	put16be(th + 14, s->win ? s->win : WIN);
	put16be(th + 18, s->urp);
	if (s->tcpopt_len)
		memcpy(th + 20, s->tcpopt, s->tcpopt_len);
	if (s->fill)
		memset(th + thl, s->fill, s->len);
	else
		memcpy(th + thl, R.exp + s->off, s->len);
	ps = sum16(ip + 12, 8, 6u + thl + s->len);
	put16be(th + 16, fold(sum16(th, thl + s->len, ps)));
	if (s->proto) /* another protocol: the same bytes, TCP's checksum and all */
		ip[9] = s->proto;
	ip_csum(ip);
	return 14 + tot;
}

static void send_seg(const struct seg *s)
{
	uint8_t f[1514];

	a_send(f, seg_frame(s, f));
}

/*
 * @s as two IP fragments: the first carries @cut bytes of the IP payload
 * (a multiple of 8) with MF set, the second the rest at offset @cut / 8;
 * @first_last: the second fragment goes on the wire first.
 */
static void send_frags(const struct seg *s, uint32_t cut, bool first_last)
{
	uint8_t f[1514], g[2][1514];
	uint32_t len = seg_frame(s, f), ihl = (f[14] & 0xfu) * 4u, pay = len - 14 - ihl, gl[2];
	int k;

	ck_assert(cut % 8 == 0 && cut > 0 && cut < pay);
	for (k = 0; k < 2; k++) {
		uint32_t from = k ? cut : 0, n = k ? pay - cut : cut;
		uint8_t *ip = g[k] + 14;

		memcpy(g[k], f, 14 + ihl);
		memcpy(ip + ihl, f + 14 + ihl + from, n);
		put16be(ip + 2, (uint16_t)(ihl + n));
		put16be(ip + 6, (uint16_t)(k ? from / 8 : 0x2000)); /* MF, or the offset */
		ip_csum(ip);
		gl[k] = 14 + ihl + n;
	}
	a_send(g[first_last], gl[first_last]);
	a_send(g[!first_last], gl[!first_last]);
}

/*
 * B up (lwIP checking checksums or, without @csum_check, trusting them all;
 * RX bursts of 32), A's port @port + 1000 dialled by hand to B's listener
 * on @port: SYN (MSS 1460, no window scaling), B's SYN-ACK (answering B's
 * ARP request on the way), ACK, accepted. A's sequence numbers start just
 * below 2^32: they wrap within each test.
 */
static void apart_open(uint16_t port, bool csum_check)
{
	static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
	struct rig_opts o;
	struct vnet_iface_conf cb;
	struct netif *nif;

	memset(&R, 0, sizeof(R));
	pattern_fill(R.exp, 0, STREAM);
	R.bport = port;
	R.aport = (uint16_t)(port + 1000);
	R.iss = 0xfffff800u + (port % 100u) * 16u; /* wraps within the first 2000 bytes */
	memset(&o, 0, sizeof(o));
	o.offer = o.want = BASE; /* no checksum offload, no GUEST_TSO4 */
	pair_open_opts(&P, &o, &o);
	memset(&cb, 0, sizeof(cb));
	cb.ip = IP_B;
	cb.netmask = MASK24;
	cb.pool = P.b.pool;
	cb.no_rx_csum_check = !csum_check;
	ck_assert_int_eq(vnet_iface_init_conf(&P.b.ifc, P.b.dev, &cb), 0);
	nif = vnet_iface_netif(P.b.ifc);
	R.input = nif->input;
	nif->input = rec_input;
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, port, r_accept, NULL, &R.l), 0);
	send_seg(&(struct seg){.flags = TF_SYN, .tcpopt = mss, .tcpopt_len = 4});
	ck_assert_msg(run_peer(got_synack, 2000), "no SYN-ACK");
	send_seg(&(struct seg){.len = 0});
	ck_assert_msg(run_peer(got_accept, 2000), "not accepted");
	run_peer(NULL, 5);
	R.nseen = 0;
	R.recording = true;
}

struct burst_stats {
	uint64_t gro, gro_segs, recv; /* deltas: coalesced segments, segments in them, TCP segments lwIP took */
};

/*
 * The frames queued on A's TX ring (by the caller, after burst_begin) go
 * over the wire and into B's RX ring, then B polls once: one RX burst of
 * @frames. Then everything runs until B has delivered @want bytes (or a
 * second passed) and a little more.
 */
static struct vnet_iface_stats burst_st0;
static uint64_t burst_recv0;

static void burst_begin(void)
{
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &burst_st0), 0);
	burst_recv0 = lwip_stats.tcp.recv;
	R.nseen = 0;
}

static uint64_t want_bytes;
static bool got_bytes(void) { return R.received >= want_bytes; }

static struct burst_stats burst_end(unsigned frames, uint64_t want)
{
	struct vnet_iface_stats st;
	struct burst_stats d;
	int i;

	for (i = 0; i < 4; i++)
		vnet_model_poll(P.a.m); /* into B's RX ring: B has not polled */
	ck_assert_int_ge(vnet_iface_poll(P.b.ifc), (int)frames);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &st), 0);
	ck_assert_uint_eq(st.rx_frames - burst_st0.rx_frames, frames); /* all in that one burst */
	want_bytes = want;
	run_peer(got_bytes, 1000);
	run_peer(NULL, 20);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &st), 0);
	d.gro = st.rx_gro - burst_st0.rx_gro;
	d.gro_segs = st.rx_gro_segs - burst_st0.rx_gro_segs;
	d.recv = lwip_stats.tcp.recv - burst_recv0;
	return d;
}

/* The burst as lwIP got it, for the log. */
static void seen_print(const char *what, const struct burst_stats *d)
{
	unsigned i;

	printf("%s: coalesced %llu segments into %llu, lwIP tcp.recv +%llu; app %llu bytes (%llu wrong)%s%s\n",
	       what, (unsigned long long)d->gro_segs, (unsigned long long)d->gro, (unsigned long long)d->recv,
	       (unsigned long long)R.received, (unsigned long long)R.bad, R.eof ? ", EOF" : "",
	       R.err ? ", reset" : "");
	for (i = 0; i < R.nseen; i++) {
		const struct seen *s = &R.seen[i];

		printf("  lwIP frame %u: proto %u frag 0x%04x ihl %u tos 0x%02x ttl %u | %u->%u off %u len %u "
		       "flags 0x%02x ack %u win %u doff %u\n", i, s->proto, s->frag, s->ihl, s->tos, s->ttl,
		       s->sport, s->dport, s->off, s->len, s->flags, s->ack, s->win, s->doff);
	}
	fflush(stdout); /* before a failed check ends the test's process */
}

/* lwIP frame @i is the flow's TCP segment at @off, @len bytes, flags @flags. */
static void ck_seg(unsigned i, uint32_t off, uint32_t len, uint8_t flags)
{
	ck_assert_uint_lt(i, R.nseen);
	ck_assert_uint_eq(R.seen[i].proto, 6);
	ck_assert_uint_eq(R.seen[i].frag & 0x3fffu, 0);
	ck_assert_uint_eq(R.seen[i].sport, R.aport);
	ck_assert_uint_eq(R.seen[i].dport, R.bport);
	ck_assert_uint_eq(R.seen[i].off, off);
	ck_assert_uint_eq(R.seen[i].len, len);
	ck_assert_uint_eq(R.seen[i].flags, flags);
}

/* The application got exactly @n bytes of the stream, each right. */
static void ck_app(uint64_t n)
{
	ck_assert_uint_eq(R.received, n);
	ck_assert_uint_eq(R.bad, 0);
}

static void apart_close(void)
{
	struct netif *nif = vnet_iface_netif(P.b.ifc);

	R.recording = false;
	if (R.srv != NULL)
		vnet_tcp_abort(R.srv);
	R.srv = NULL;
	vnet_tcp_listener_close(R.l);
	run_peer(NULL, 10);
	nif->input = R.input;
}

/* The rig itself: three plain segments in order join into one. */
START_TEST(apart_rig_joins_plain)
{
	struct burst_stats d;

	apart_open(5400, true);
	burst_begin();
	send_seg(&(struct seg){.off = 0, .len = SEG});
	send_seg(&(struct seg){.off = SEG, .len = SEG});
	send_seg(&(struct seg){.off = 2 * SEG, .len = SEG});
	d = burst_end(3, 3 * SEG);
	seen_print("plain", &d);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 3);
	ck_assert_uint_eq(d.recv, 1);
	ck_assert_uint_eq(R.nseen, 1);
	ck_seg(0, 0, 3 * SEG, TF_ACK);
	ck_app(3 * SEG);
	apart_close();
}
END_TEST

/*
 * The usual shape: S0 S1 join; the @nx segments under test at @x (from
 * 2 * SEG on) must reach lwIP alone; then @after plain segments of the
 * stream from offset @at. Returns the burst's deltas.
 */
static struct burst_stats opened_then(const struct seg *x, unsigned nx, unsigned after, uint32_t at,
                                      uint64_t want)
{
	unsigned i;

	burst_begin();
	send_seg(&(struct seg){.off = 0, .len = SEG});
	send_seg(&(struct seg){.off = SEG, .len = SEG});
	for (i = 0; i < nx; i++)
		send_seg(&x[i]);
	for (i = 0; i < after; i++)
		send_seg(&(struct seg){.off = at + i * SEG, .len = SEG});
	return burst_end(2 + nx + after, want);
}

/* IPv4 options (a router alert, then the same again): never joined, to a
 * plain segment nor to each other; the plain ones after join again. */
START_TEST(apart_ip_options)
{
	static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
	struct seg x[2] = {{.off = 2 * SEG, .len = SEG, .ipopt = ra, .ipopt_len = 4},
	                   {.off = 3 * SEG, .len = SEG, .ipopt = ra, .ipopt_len = 4}};
	struct burst_stats d;

	apart_open(5401, true);
	d = opened_then(x, 2, 2, 4 * SEG, 6 * SEG);
	seen_print("IP options", &d);
	ck_assert_uint_eq(R.nseen, 4);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].ihl, 6);
	ck_seg(2, 3 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[2].ihl, 6);
	ck_seg(3, 4 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[3].ihl, 5);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_assert_uint_eq(d.recv, 4);
	ck_app(6 * SEG);
	apart_close();
}
END_TEST

/*
 * TCP options: the glue joins only segments without any (data offset 5),
 * unlike Linux, which joins identical ones. Timestamps (two segments with
 * the very same option bytes) and four NOPs (data offset 6): each alone.
 */
START_TEST(apart_tcp_options)
{
	static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78};
	static const uint8_t nops[4] = {1, 1, 1, 1};
	struct seg x[3] = {{.off = 2 * SEG, .len = SEG, .tcpopt = ts, .tcpopt_len = 12},
	                   {.off = 3 * SEG, .len = SEG, .tcpopt = ts, .tcpopt_len = 12},
	                   {.off = 4 * SEG, .len = SEG, .tcpopt = nops, .tcpopt_len = 4}};
	struct burst_stats d;

	apart_open(5402, true);
	d = opened_then(x, 3, 2, 5 * SEG, 7 * SEG);
	seen_print("TCP options", &d);
	ck_assert_uint_eq(R.nseen, 5);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].doff, 8);
	ck_seg(2, 3 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[2].doff, 8);
	ck_seg(3, 4 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[3].doff, 6);
	ck_seg(4, 5 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[4].doff, 5);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_app(7 * SEG);
	apart_close();
}
END_TEST

/* Out of order: S0 S1 S3 S2 (a gap, filled by the last): S3 and S2 alone;
 * lwIP queues S3 until S2 comes, the application sees the stream in order. */
START_TEST(apart_gap)
{
	struct burst_stats d;

	apart_open(5403, true);
	burst_begin();
	send_seg(&(struct seg){.off = 0, .len = SEG});
	send_seg(&(struct seg){.off = SEG, .len = SEG});
	send_seg(&(struct seg){.off = 3 * SEG, .len = SEG});
	send_seg(&(struct seg){.off = 2 * SEG, .len = SEG});
	d = burst_end(4, 4 * SEG);
	seen_print("gap", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 3 * SEG, SEG, TF_ACK);
	ck_seg(2, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_assert_uint_eq(d.recv, 3);
	ck_app(4 * SEG);
	apart_close();
}
END_TEST

/* A retransmission (S1 again) and an overlap (half of S1 and half of S2):
 * each alone, every byte delivered once. */
START_TEST(apart_retransmit_overlap)
{
	struct seg x[2] = {{.off = SEG, .len = SEG}, {.off = SEG + SEG / 2, .len = SEG}};
	struct burst_stats d;

	apart_open(5404, true);
	d = opened_then(x, 2, 0, 0, 2 * SEG + SEG / 2);
	seen_print("retransmit, overlap", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, SEG, SEG, TF_ACK);
	ck_seg(2, SEG + SEG / 2, SEG, TF_ACK);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_assert_uint_eq(d.recv, 3);
	ck_app(2 * SEG + SEG / 2);
	apart_close();
}
END_TEST

static bool b_sent_100(void) { return R.b_nxt - R.b_iss - 1 == 100; }

/* Another ACK number: B sends 100 bytes; S0 S1 do not acknowledge them, X
 * and S3 do. X starts a coalesced segment of its own (S3 joins it). */
START_TEST(apart_other_ack)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .ack = 100};
	uint8_t hello[100];
	struct burst_stats d;
	unsigned i;

	apart_open(5405, true);
	memset(hello, 'b', sizeof(hello));
	ck_assert_int_eq(vnet_tcp_send(R.srv, hello, sizeof(hello)), 100);
	ck_assert(run_peer(b_sent_100, 2000));
	burst_begin();
	for (i = 0; i < 2; i++)
		send_seg(&(struct seg){.off = i * SEG, .len = SEG});
	send_seg(&x);
	send_seg(&(struct seg){.off = 3 * SEG, .len = SEG, .ack = 100});
	d = burst_end(4, 4 * SEG);
	seen_print("other ACK", &d);
	ck_assert_uint_eq(R.nseen, 2);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[0].ack, 0);
	ck_seg(1, 2 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].ack, 100);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_app(4 * SEG);
	ck_assert_uint_eq(vnet_tcp_unacked(R.srv), 0); /* B saw its data acknowledged */
	apart_close();
}
END_TEST

/* Another window: X (and S3) advertise less. */
START_TEST(apart_other_window)
{
	struct seg x[2] = {{.off = 2 * SEG, .len = SEG, .win = 30000}, {.off = 3 * SEG, .len = SEG, .win = 30000}};
	struct burst_stats d;

	apart_open(5406, true);
	d = opened_then(x, 2, 0, 0, 4 * SEG);
	seen_print("other window", &d);
	ck_assert_uint_eq(R.nseen, 2);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[0].win, WIN);
	ck_seg(1, 2 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].win, 30000);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_app(4 * SEG);
	apart_close();
}
END_TEST

/* Another DSCP (EF, 0xb8): X and S3 carry it. */
START_TEST(apart_other_dscp)
{
	struct seg x[2] = {{.off = 2 * SEG, .len = SEG, .tos = 0xb8}, {.off = 3 * SEG, .len = SEG, .tos = 0xb8}};
	struct burst_stats d;

	apart_open(5407, true);
	d = opened_then(x, 2, 0, 0, 4 * SEG);
	seen_print("other DSCP", &d);
	ck_assert_uint_eq(R.nseen, 2);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[0].tos, 0);
	ck_seg(1, 2 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].tos, 0xb8);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_app(4 * SEG);
	apart_close();
}
END_TEST

/* Other ECN bits: an ECT(0) stream of which X was marked CE on the way (the
 * mark must reach lwIP, not vanish into a coalesced segment). */
START_TEST(apart_other_ecn)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .tos = 0x03};
	struct burst_stats d;
	unsigned i;

	apart_open(5408, true);
	burst_begin();
	for (i = 0; i < 2; i++)
		send_seg(&(struct seg){.off = i * SEG, .len = SEG, .tos = 0x02});
	send_seg(&x);
	send_seg(&(struct seg){.off = 3 * SEG, .len = SEG, .tos = 0x02});
	d = burst_end(4, 4 * SEG);
	seen_print("other ECN", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[0].tos, 0x02);
	ck_seg(1, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].tos, 0x03);
	ck_seg(2, 3 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[2].tos, 0x02);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_app(4 * SEG);
	apart_close();
}
END_TEST

/* Another TTL: X only (S3 has S0's again, and does not join X). */
START_TEST(apart_other_ttl)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .ttl = 63};
	struct burst_stats d;

	apart_open(5409, true);
	d = opened_then(&x, 1, 1, 3 * SEG, 4 * SEG);
	seen_print("other TTL", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[0].ttl, 64);
	ck_seg(1, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].ttl, 63);
	ck_seg(2, 3 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[2].ttl, 64);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_app(4 * SEG);
	apart_close();
}
END_TEST

/*
 * PSH: a segment with PSH may join the open one (PSH then marks the whole)
 * but closes it: nothing joins after a PSH segment, whether it opened the
 * coalesced segment or joined it. P0 S1 S2(PSH) S3 S4: P0 alone (with
 * PSH), S1+S2 (with PSH), S3+S4.
 */
START_TEST(apart_psh)
{
	struct burst_stats d;

	apart_open(5410, true);
	burst_begin();
	send_seg(&(struct seg){.off = 0, .len = SEG, .flags = TF_ACK | TF_PSH});
	send_seg(&(struct seg){.off = SEG, .len = SEG});
	send_seg(&(struct seg){.off = 2 * SEG, .len = SEG, .flags = TF_ACK | TF_PSH});
	send_seg(&(struct seg){.off = 3 * SEG, .len = SEG});
	send_seg(&(struct seg){.off = 4 * SEG, .len = SEG});
	d = burst_end(5, 5 * SEG);
	seen_print("PSH", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, SEG, TF_ACK | TF_PSH);
	ck_seg(1, SEG, 2 * SEG, TF_ACK | TF_PSH);
	ck_seg(2, 3 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_app(5 * SEG);
	apart_close();
}
END_TEST

/* FIN with the last data: alone, the application gets the data and EOF. */
START_TEST(apart_fin)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .flags = TF_ACK | TF_FIN};
	struct burst_stats d;

	apart_open(5411, true);
	d = opened_then(&x, 1, 0, 0, 3 * SEG);
	seen_print("FIN", &d);
	ck_assert_uint_eq(R.nseen, 2);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 2 * SEG, SEG, TF_ACK | TF_FIN);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_app(3 * SEG);
	ck_assert(R.eof);
	apart_close();
}
END_TEST

/* SYN on an established connection (with data that follows on): alone;
 * lwIP answers it with an ACK and drops it, so its bytes arrive only when
 * sent again, plainly. */
START_TEST(apart_syn)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .flags = TF_ACK | TF_SYN};
	struct burst_stats d;

	apart_open(5412, true);
	d = opened_then(&x, 1, 0, 0, 2 * SEG);
	seen_print("SYN", &d);
	ck_assert_uint_eq(R.nseen, 2);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 2 * SEG, SEG, TF_ACK | TF_SYN);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_app(2 * SEG);
	ck_assert_int_eq(R.err, 0);
	burst_begin();
	send_seg(&(struct seg){.off = 2 * SEG, .len = SEG});
	burst_end(1, 3 * SEG);
	ck_app(3 * SEG);
	apart_close();
}
END_TEST

/* RST (in sequence, with data): alone; lwIP resets the connection and
 * delivers none of its data. */
START_TEST(apart_rst)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .flags = TF_ACK | TF_RST};
	struct burst_stats d;

	apart_open(5413, true);
	d = opened_then(&x, 1, 0, 0, 2 * SEG);
	seen_print("RST", &d);
	ck_assert_uint_eq(R.nseen, 2);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 2 * SEG, SEG, TF_ACK | TF_RST);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_app(2 * SEG);
	ck_assert_int_eq(R.err, -ECONNRESET);
	ck_assert_ptr_null(R.srv);
	apart_close();
}
END_TEST

/* URG, and the congestion-window flags (CWR, ECE): alone; the plain
 * segment after each as well (it does not join a segment it cannot
 * follow), the last two join. */
START_TEST(apart_urg_cwr_ece)
{
	struct seg x[3] = {{.off = 2 * SEG, .len = SEG, .flags = TF_ACK | TF_URG, .urp = 10},
	                   {.off = 3 * SEG, .len = SEG, .flags = TF_ACK | TF_CWR},
	                   {.off = 4 * SEG, .len = SEG, .flags = TF_ACK | TF_ECE}};
	struct burst_stats d;

	apart_open(5414, true);
	d = opened_then(x, 3, 2, 5 * SEG, 7 * SEG);
	seen_print("URG, CWR, ECE", &d);
	ck_assert_uint_eq(R.nseen, 5);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_seg(1, 2 * SEG, SEG, TF_ACK | TF_URG);
	ck_seg(2, 3 * SEG, SEG, TF_ACK | TF_CWR);
	ck_seg(3, 4 * SEG, SEG, TF_ACK | TF_ECE);
	ck_seg(4, 5 * SEG, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(d.gro, 2);
	ck_assert_uint_eq(d.gro_segs, 4);
	ck_app(7 * SEG);
	apart_close();
}
END_TEST

/*
 * Other flows, each a segment that would follow on in sequence (ACK,
 * window, everything else the same) but for its source port, destination
 * port or source address, carrying bytes that are not the stream's: alone
 * (lwIP has no connection for them: RST), then the stream's S2.
 */
static void other_flow(uint16_t port, const struct seg *x, const char *what)
{
	struct burst_stats d;

	apart_open(port, true);
	d = opened_then(x, 1, 1, 2 * SEG, 3 * SEG);
	seen_print(what, &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].proto, 6);
	ck_assert_uint_eq(R.seen[1].off, 2 * SEG);
	ck_assert_uint_eq(R.seen[1].len, SEG);
	ck_assert(R.seen[1].sport != R.aport || R.seen[1].dport != R.bport || R.seen[1].src != IP_A);
	ck_seg(2, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_assert_uint_eq(d.recv, 3);
	ck_app(3 * SEG);
	apart_close();
}

START_TEST(apart_other_sport)
{
	other_flow(5415, &(struct seg){.off = 2 * SEG, .len = SEG, .sport = 6415 + 1, .fill = GARBAGE},
	           "other source port");
}
END_TEST

START_TEST(apart_other_dport)
{
	other_flow(5416, &(struct seg){.off = 2 * SEG, .len = SEG, .dport = 5416 + 1, .fill = GARBAGE},
	           "other destination port");
}
END_TEST

START_TEST(apart_other_saddr)
{
	other_flow(5417, &(struct seg){.off = 2 * SEG, .len = SEG, .src = IP_C, .fill = GARBAGE},
	           "other source address");
}
END_TEST

/*
 * IP fragments: X cut after its TCP header and 4 payload bytes (24 bytes
 * of IP payload, offset 3 for the rest). B trusts checksums here
 * (no_rx_csum_check: as with a device's DATA_VALID, the fragment rule is
 * then all that keeps a fragment out, the TCP checksum of a part no
 * longer failing). lwIP reassembles X; S0 S1 join.
 * MF: the first fragment (a whole TCP header, following on) comes first.
 */
START_TEST(apart_fragment_mf)
{
	struct burst_stats d;

	apart_open(5418, false);
	burst_begin();
	send_seg(&(struct seg){.off = 0, .len = SEG});
	send_seg(&(struct seg){.off = SEG, .len = SEG});
	send_frags(&(struct seg){.off = 2 * SEG, .len = SEG}, 24, false);
	d = burst_end(4, 3 * SEG);
	seen_print("fragments, MF first", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].frag & 0x3fffu, 0x2000); /* MF, offset 0 */
	ck_assert_uint_eq(R.seen[2].frag & 0x3fffu, 3);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_assert_uint_eq(d.recv, 2);
	ck_app(3 * SEG);
	apart_close();
}
END_TEST

/*
 * Offset: the last fragment (offset 3, MF clear) comes first, and the
 * stream's bytes it starts with (X's payload 4..23) read as a TCP header
 * that follows on from S0 S1 (the flow's ports, the next sequence number,
 * the ACK, data offset 5, ACK, the window): only the fragment rule keeps
 * it out.
 */
START_TEST(apart_fragment_offset)
{
	struct burst_stats d;
	uint8_t *h;

	apart_open(5419, false);
	h = R.exp + 2 * SEG + 4;
	put16be(h, R.aport);
	put16be(h + 2, R.bport);
	put32be(h + 4, R.iss + 1 + 2 * SEG);
	put32be(h + 8, R.b_iss + 1);
	h[12] = 0x50;
	h[13] = TF_ACK;
	put16be(h + 14, WIN);
	burst_begin();
	send_seg(&(struct seg){.off = 0, .len = SEG});
	send_seg(&(struct seg){.off = SEG, .len = SEG});
	send_frags(&(struct seg){.off = 2 * SEG, .len = SEG}, 24, true);
	d = burst_end(4, 3 * SEG);
	seen_print("fragments, last first", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].frag & 0x3fffu, 3);
	ck_assert_uint_eq(R.seen[2].frag & 0x3fffu, 0x2000);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_assert_uint_eq(d.recv, 2);
	ck_app(3 * SEG);
	apart_close();
}
END_TEST

/* Not TCP: X is S2 in every byte (TCP's checksum and all) but for the
 * protocol, UDP, and its payload: alone (lwIP's UDP drops it), then S2. */
START_TEST(apart_not_tcp)
{
	struct seg x = {.off = 2 * SEG, .len = SEG, .proto = 17, .fill = GARBAGE};
	struct burst_stats d;

	apart_open(5420, true);
	d = opened_then(&x, 1, 1, 2 * SEG, 3 * SEG);
	seen_print("not TCP", &d);
	ck_assert_uint_eq(R.nseen, 3);
	ck_seg(0, 0, 2 * SEG, TF_ACK);
	ck_assert_uint_eq(R.seen[1].proto, 17);
	ck_seg(2, 2 * SEG, SEG, TF_ACK);
	ck_assert_uint_eq(d.gro, 1);
	ck_assert_uint_eq(d.gro_segs, 2);
	ck_assert_uint_eq(d.recv, 2);
	ck_app(3 * SEG);
	apart_close();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lwip-gro");
	TCase *tc = tcase_create("gro");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, coalesces_and_acks_less);
	tcase_add_test(tc, coalesces_copied_frames);
	tcase_add_test(tc, bad_checksum_left_to_lwip);
	tcase_add_test(tc, jumbo_bursts_bounded);
	tcase_add_test(tc, jumbo_bursts_bounded_copy);
	tcase_add_test(tc, segment_count_bounded);
	tcase_add_test(tc, bad_ip_header_never_joined);
	suite_add_tcase(s, tc);
	/* CK_RUN_CASE=apart runs these alone */
	tc = tcase_create("apart");
	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, apart_rig_joins_plain);
	tcase_add_test(tc, apart_ip_options);
	tcase_add_test(tc, apart_tcp_options);
	tcase_add_test(tc, apart_gap);
	tcase_add_test(tc, apart_retransmit_overlap);
	tcase_add_test(tc, apart_other_ack);
	tcase_add_test(tc, apart_other_window);
	tcase_add_test(tc, apart_other_dscp);
	tcase_add_test(tc, apart_other_ecn);
	tcase_add_test(tc, apart_other_ttl);
	tcase_add_test(tc, apart_psh);
	tcase_add_test(tc, apart_fin);
	tcase_add_test(tc, apart_syn);
	tcase_add_test(tc, apart_rst);
	tcase_add_test(tc, apart_urg_cwr_ece);
	tcase_add_test(tc, apart_other_sport);
	tcase_add_test(tc, apart_other_dport);
	tcase_add_test(tc, apart_other_saddr);
	tcase_add_test(tc, apart_fragment_mf);
	tcase_add_test(tc, apart_fragment_offset);
	tcase_add_test(tc, apart_not_tcp);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
