/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software receive coalescing (netif.c gro_*): a device without
 * GUEST_TSO4 delivers wire-sized TCP segments; consecutive ones of a flow
 * in one RX burst reach lwIP as one segment, which lwIP acknowledges once.
 * Checked over the model's wire: the transfer's content, that segments
 * were coalesced and the receiver sent far fewer ACKs than with
 * coalescing off, the same with copied RX, and that a segment with a bad
 * checksum is left out and counted by lwIP as before.
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

int main(void)
{
	Suite *s = suite_create("lwip-gro");
	TCase *tc = tcase_create("gro");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, coalesces_and_acks_less);
	tcase_add_test(tc, coalesces_copied_frames);
	tcase_add_test(tc, bad_checksum_left_to_lwip);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
