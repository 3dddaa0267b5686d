/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lwIP glue follows the receive offloads in force, switched at run
 * time (vnet_dev_set_rx_offloads(), VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
 * over the device model's wire: large segments received whole while B's
 * GUEST_TSO4 is on and none while it is off, checksums trusted only while
 * its GUEST_CSUM is on, every transfer's content checked; and from a
 * device that acks the command and goes on (VNET_FAULT_OFFLOADS_IGNORED),
 * no DATA_VALID trusted and no large segment taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/inet_chksum.h"

#include "base/csum.h"
#include "lwip_fixture.h"
#include "lwip_xfer.h"

#define BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS | VNET_F_EVENT_IDX | VNET_F_MTU)
#define CSUMS (VNET_F_CSUM | VNET_F_GUEST_CSUM)
#define CTRL (VNET_F_CTRL_VQ | VNET_F_CTRL_GUEST_OFFLOADS)
#define OFFER (BASE | CSUMS | VNET_F_HOST_TSO4 | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF | CTRL)

static void run_xfer(uint64_t total, uint16_t port, const char *what)
{
	struct xfer *x = xfer_start(&P, total, port);

	ck_assert_msg(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000),
	              "%s stuck: sent %llu received %llu", what, (unsigned long long)x->sent,
	              (unsigned long long)x->received);
	settle(&P, 50);
	xfer_finish(x, what);
}

/* A sends TSO frames (HOST_TSO4; with @a_no_tso its interface does not,
 * but its device still takes them); B takes large segments (GUEST_TSO4)
 * and DATA_VALID (the model verifies) as far as B's offloads allow. */
static void open_pair(bool a_no_tso)
{
	struct vnet_iface_conf ca;
	struct rig_opts oa, ob;

	memset(&oa, 0, sizeof(oa));
	oa.offer = OFFER;
	oa.want = BASE | VNET_F_CSUM | VNET_F_HOST_TSO4;
	oa.jumbo_count = 32;
	ob = oa;
	ob.jumbo_count = 0;
	ob.want = BASE | VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF | CTRL;
	ob.rx_csum = VNET_MODEL_RX_CSUM_VALID;
	pair_open_opts(&P, &oa, &ob);
	memset(&ca, 0, sizeof(ca));
	ca.no_tso = a_no_tso;
	pair_up(&P, &ca, NULL);
}

static uint32_t b_offloads(void)
{
	struct vnet_iface_info i;

	ck_assert_int_eq(vnet_iface_info(P.b.ifc, &i), 0);
	return i.offloads & (VNET_IFACE_OFF_RX_CSUM | VNET_IFACE_OFF_LRO);
}

static struct vnet_iface_stats b_stats(void)
{
	struct vnet_iface_stats s;

	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &s), 0);
	return s;
}

static struct vnet_model_stats model_stats(struct vnet_model *m)
{
	struct vnet_model_stats s;

	vnet_model_stats(m, &s);
	return s;
}

START_TEST(lro_and_trust_follow_the_switch)
{
	struct vnet_iface_stats s0, s1;
	uint64_t chk0 = chkerrs(), segs0;

	open_pair(false);
	ck_assert_uint_eq(b_offloads(), VNET_IFACE_OFF_RX_CSUM | VNET_IFACE_OFF_LRO);
	run_xfer(8u << 20, 5401, "tcp 8 MiB (offloads on)");
	s0 = b_stats();
	ck_assert_uint_gt(s0.rx_gso, 20);
	ck_assert_uint_gt(s0.rx_csum_trusted, 0);

	/* GUEST_TSO4 off: the device cuts A's TSO frames, B takes none large */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(P.b.dev, VNET_F_GUEST_CSUM), 0);
	ck_assert_uint_eq(b_offloads(), VNET_IFACE_OFF_RX_CSUM);
	segs0 = model_stats(P.a.m).tx_tso_segs;
	run_xfer(8u << 20, 5402, "tcp 8 MiB (GUEST_TSO4 off)");
	s1 = b_stats();
	printf("rx offloads: large %llu then %llu; A's TSO frames cut into %llu segments\n",
	       (unsigned long long)s0.rx_gso, (unsigned long long)s1.rx_gso,
	       (unsigned long long)(model_stats(P.a.m).tx_tso_segs - segs0));
	ck_assert_uint_eq(s1.rx_gso, s0.rx_gso);
	ck_assert_uint_eq(s1.rx_bad_gso, 0);
	ck_assert_uint_gt(model_stats(P.a.m).tx_tso_segs - segs0, 100);
	ck_assert_uint_gt(s1.rx_csum_trusted, s0.rx_csum_trusted);

	/* all off: lwIP checks every checksum itself */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(P.b.dev, 0), 0);
	ck_assert_uint_eq(b_offloads(), 0);
	run_xfer(4u << 20, 5403, "tcp 4 MiB (receive offloads off)");
	s0 = b_stats();
	ck_assert_uint_eq(s0.rx_csum_trusted, s1.rx_csum_trusted);
	ck_assert_uint_eq(s0.rx_gso, s1.rx_gso);

	/* on again: large segments again */
	ck_assert_int_eq(vnet_dev_set_rx_offloads(P.b.dev, VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4), 0);
	ck_assert_uint_eq(b_offloads(), VNET_IFACE_OFF_RX_CSUM | VNET_IFACE_OFF_LRO);
	run_xfer(8u << 20, 5404, "tcp 8 MiB (offloads on again)");
	s1 = b_stats();
	ck_assert_uint_gt(s1.rx_gso, s0.rx_gso);
	ck_assert_uint_eq(s1.rx_bad_gso, 0);
	ck_assert_uint_eq(chkerrs(), chk0);
}
END_TEST

/* A TSO frame A's device hands B's whole (no TCP/IP stack on A's side:
 * built here), NEEDS_CSUM with the pseudo-header sum. */
static void send_raw_tso(void)
{
	const uint32_t plen = 3000, len = 54 + plen;
	struct vnet_buf *b = raw_eth(P.a.jumbo, len, 0x0800);
	struct vnet_net_hdr *h;
	uint8_t *f = b->data, *tcp = f + 34;
	u16_t sum;

	f[14] = 0x45;
	put16be(f + 16, (uint16_t)(len - 14));
	f[20] = 0x40; /* DF */
	f[22] = 64;
	f[23] = 6;
	put16be(f + 26, 0x0a00);
	put16be(f + 28, 0x0001);
	put16be(f + 30, 0x0a00);
	put16be(f + 32, 0x0002);
	sum = inet_chksum(f + 14, 20);
	memcpy(f + 24, &sum, 2);
	put16be(tcp, 7000);
	put16be(tcp + 2, 7001);
	tcp[12] = 0x50;
	tcp[13] = 0x10;
	put16be(tcp + 16, vnet_csum_pseudo(f + 14, 0, 6, plen + 20));
	b->len = len;
	h = vnet_buf_hdr(b, vnet_dev_hdr_len(P.a.dev));
	memset(h, 0, vnet_dev_hdr_len(P.a.dev));
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->gso_type = VNET_HDR_GSO_TCPV4;
	h->hdr_len = 54;
	h->gso_size = 1400;
	h->csum_start = 34;
	h->csum_offset = 16;
	b->flags = VNET_BUF_F_TX_HDR;
	ck_assert_uint_eq(vnet_tx_burst(P.a.dev, 0, &b, 1), 1);
}

/* B's device acks GUEST_OFFLOADS SET and goes on: it still marks frames
 * DATA_VALID and hands TSO frames whole. B's glue follows what is in
 * force (nothing), not what the device does. */
START_TEST(nothing_taken_from_a_device_that_ignores)
{
	struct vnet_iface_stats s0, s1;
	uint64_t valid0, chk0 = chkerrs();

	open_pair(true); /* A's TSO frames would all be dropped: TCP could not go on */
	vnet_model_fault(P.b.m, VNET_FAULT_OFFLOADS_IGNORED, 1);
	ck_assert_int_eq(vnet_dev_set_rx_offloads(P.b.dev, 0), 0);
	ck_assert_uint_eq(b_offloads(), 0);
	s0 = b_stats();
	valid0 = model_stats(P.b.m).rx_data_valid;
	run_xfer(2u << 20, 5405, "tcp 2 MiB (device ignores the offloads turned off)");
	s1 = b_stats();
	/* the device said DATA_VALID, the glue trusted none: lwIP checked */
	ck_assert_uint_gt(model_stats(P.b.m).rx_data_valid - valid0, 1000);
	ck_assert_uint_eq(s1.rx_csum_trusted, s0.rx_csum_trusted);
	ck_assert_uint_eq(s1.rx_gso, s0.rx_gso);
	/* a large segment the device hands over anyway: dropped, counted */
	s0 = s1;
	send_raw_tso();
	settle(&P, 50);
	s1 = b_stats();
	printf("ignoring device: model B data_valid +%llu, gso %llu; B trusted +%llu, bad gso +%llu\n",
	       (unsigned long long)(model_stats(P.b.m).rx_data_valid - valid0),
	       (unsigned long long)model_stats(P.b.m).rx_gso,
	       (unsigned long long)(s1.rx_csum_trusted - s0.rx_csum_trusted),
	       (unsigned long long)(s1.rx_bad_gso - s0.rx_bad_gso));
	ck_assert_uint_gt(model_stats(P.b.m).rx_gso, 0);
	ck_assert_uint_eq(s1.rx_bad_gso, s0.rx_bad_gso + 1);
	ck_assert_uint_eq(s1.rx_gso, s0.rx_gso);
	ck_assert_uint_eq(chkerrs(), chk0);
}
END_TEST

static Suite *rx_offloads_suite(void)
{
	Suite *s = suite_create("lwip-rx-offloads");
	TCase *tc = tcase_create("rx_offloads");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lro_and_trust_follow_the_switch);
	tcase_add_test(tc, nothing_taken_from_a_device_that_ignores);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(rx_offloads_suite());
}
