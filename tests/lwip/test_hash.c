/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lwIP glue over a device with VIRTIO_NET_F_HASH_REPORT: the 20-byte
 * virtio_net_hdr on both sides of the model's wire (with the checksum and
 * segmentation offloads and MRG_RXBUF that read and write it), a TCP
 * transfer whose every byte is checked, and the hashes B's device
 * reported counted by the driver.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip_fixture.h"
#include "lwip_xfer.h"

#define BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS | VNET_F_EVENT_IDX | VNET_F_MTU)
#define OFFLOADS (VNET_F_CSUM | VNET_F_GUEST_CSUM | VNET_F_HOST_TSO4 | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF)
#define HASH (VNET_F_CTRL_VQ | VNET_F_HASH_REPORT)

static uint64_t rx_hashed(struct vnet_dev *d)
{
	struct vnet_queue_stats s;
	uint64_t n = 0;

	for (uint16_t q = 0; q < vnet_dev_queue_pairs(d); q++) {
		ck_assert_int_eq(vnet_queue_stats(d, q, true, &s), 0);
		ck_assert_uint_eq(s.rx_bad_hash, 0);
		n += s.rx_hashed;
	}
	return n;
}

START_TEST(tcp_over_the_hash_header)
{
	struct rig_opts o;
	struct xfer *x;
	uint64_t chk0 = chkerrs();

	memset(&o, 0, sizeof(o));
	o.offer = BASE | OFFLOADS | HASH;
	o.want = BASE | OFFLOADS | HASH;
	o.rx_csum = VNET_MODEL_RX_CSUM_VALID;
	pair_open_opts(&P, &o, &o);
	ck_assert_uint_eq(vnet_dev_hdr_len(P.a.dev), 20);
	ck_assert_uint_eq(vnet_dev_hdr_len(P.b.dev), 20);
	ck_assert_int_eq(vnet_dev_set_hash(P.b.dev, VNET_HASH_TYPE_IPV4 | VNET_HASH_TYPE_TCPV4, NULL, 0), 0);
	pair_up(&P, NULL, NULL);
	x = xfer_start(&P, 4u << 20, 5501);
	ck_assert_msg(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000), "stuck: sent %llu received %llu",
	              (unsigned long long)x->sent, (unsigned long long)x->received);
	settle(&P, 50);
	xfer_finish(x, "tcp 4 MiB over the 20-byte header");
	printf("hash header: B's device reported %llu hashes, A's %llu\n", (unsigned long long)rx_hashed(P.b.dev),
	       (unsigned long long)rx_hashed(P.a.dev));
	ck_assert_uint_gt(rx_hashed(P.b.dev), 20);
	ck_assert_uint_eq(rx_hashed(P.a.dev), 0); /* A configured none */
	ck_assert_uint_eq(chkerrs(), chk0);
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("lwip-hash");
	TCase *tc = tcase_create("hash");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tcp_over_the_hash_header);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(hash_suite());
}
