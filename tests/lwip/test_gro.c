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
 */
#include <stdio.h>

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
	return suite_run(s);
}
