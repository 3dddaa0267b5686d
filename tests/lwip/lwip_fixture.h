/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fixture the lwIP test programs share: one pair of interfaces (P), a
 * log sink that counts errors, and a teardown that checks lwIP asserted
 * nothing, every pool came back (pair_close) and nothing was logged as an
 * error. A program that wants the pair opened before each test calls
 * pair_open() in its own setup after fixture_setup().
 */
#ifndef VNET_TESTS_LWIP_FIXTURE_H
#define VNET_TESTS_LWIP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "lwip/stats.h"

#include "lwip_rig.h"
#include "testutil.h" /* suite_run() */

static struct pair P;
static unsigned log_errors;

static inline void log_sink(enum vnet_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == VNET_LOG_ERR)
		log_errors++;
	fprintf(stderr, "vnet[%d]: %s\n", (int)level, msg);
}

static inline void fixture_setup(void)
{
	vnet_set_log(log_sink, NULL, getenv("VNET_TEST_DEBUG") ? VNET_LOG_DEBUG : VNET_LOG_WARN);
	log_errors = 0;
	memset(&P, 0, sizeof(P));
}

static inline void fixture_teardown(void)
{
	struct vnet_iface_stats st;

	if (P.a.ifc != NULL) {
		ck_assert_int_eq(vnet_iface_stats(P.a.ifc, &st), 0);
		ck_assert_uint_eq(st.lwip_asserts, 0); /* process-wide: never any */
	}
	pair_close(&P); /* checks every pool is back to its start count */
	ck_assert_uint_eq(log_errors, 0);
}

/* Checksum errors lwIP counted, all protocols. */
static inline uint64_t chkerrs(void)
{
	return (uint64_t)lwip_stats.tcp.chkerr + lwip_stats.udp.chkerr + lwip_stats.ip.chkerr +
	       lwip_stats.icmp.chkerr + lwip_stats.icmp6.chkerr;
}

static inline void stats2(struct vnet_iface_stats *sa, struct vnet_iface_stats *sb)
{
	ck_assert_int_eq(vnet_iface_stats(P.a.ifc, sa), 0);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, sb), 0);
}

/* Hand-built frames from A to B, sent past lwIP through A's device. */
static inline void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A buffer of @len zeroed bytes behind an Ethernet header A -> B of @type. */
static inline struct vnet_buf *raw_eth(struct vnet_pool *pool, uint32_t len, uint16_t type)
{
	struct vnet_buf *b = vnet_buf_alloc(pool);
	uint8_t *f;

	ck_assert_ptr_nonnull(b);
	f = b->data;
	memset(f, 0, len);
	f[0] = 0x52; f[1] = 0x54; f[5] = 2;  /* to B */
	f[6] = 0x52; f[7] = 0x54; f[11] = 1; /* from A */
	put16be(f + 12, type);
	b->len = len;
	return b;
}

/* Send @b from A with a NEEDS_CSUM header (csum_start @start, offset @off). */
static inline void send_partial(struct vnet_buf *b, uint16_t start, uint16_t off)
{
	struct vnet_net_hdr *h = vnet_buf_hdr(b, vnet_dev_hdr_len(P.a.dev));

	memset(h, 0, sizeof(*h));
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->csum_start = start;
	h->csum_offset = off;
	b->flags |= VNET_BUF_F_TX_HDR;
	ck_assert_uint_eq(vnet_tx_burst(P.a.dev, 0, &b, 1), 1);
}

#endif
