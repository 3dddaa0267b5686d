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

#endif
