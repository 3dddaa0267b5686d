/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Interface API's error returns (include/vnet/iface.h), each driven
 * through the API: bad arguments, full handle tables, handles already
 * closed or dead, lwIP's pools and heap run dry, the C library's
 * allocations failing one after the other, a dial before IPv6 is usable,
 * UDP to a destination with no route, a listener whose connection table
 * is full, and a reader that comes late to data or a FIN lwIP kept. Each
 * checks the exact error, that the call left nothing behind (lwIP's PCB
 * and pbuf pools back to their counts, the handle tables usable to the
 * last slot) and, through the fixture, that every buffer pool came back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/ip_addr.h"
#include "lwip/mem.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "lwip/iface_priv.h" /* err_to_errno (lwip_errors_mapped) */
#include "lwip_fixture.h"
#include "lwip_xfer.h" /* settle() */

#define LL_B "[fe80::5054:ff:fe00:2]" /* B's link-local address (from its MAC) */

static void setup(void)
{
	fixture_setup();
	pair_open(&P, 0);
}

static uint32_t memp_used(memp_t t)
{
	return (uint32_t)lwip_stats.memp[t]->used;
}

static unsigned netif_count(void)
{
	struct netif *n;
	unsigned k = 0;

	NETIF_FOREACH(n) k++;
	return k;
}

/* Interfaces with a few options each (NULL: defaults). */
static void up_with(uint16_t a_max_tcp, uint16_t a_max_lis, uint16_t a_max_udp, bool b_no_ip6)
{
	struct vnet_iface_conf a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.max_tcp = a_max_tcp;
	a.max_listeners = a_max_lis;
	a.max_udp = a_max_udp;
	b.no_ip6 = b_no_ip6;
	pair_up(&P, &a, &b);
}

/* ------------------------------------ the C library's allocations --
 * The link wraps malloc and calloc (tests/lwip/CMakeLists.txt): armed
 * with n, the n-th allocation from then on fails, once. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);

static unsigned alloc_fail_in; /* 0: off */
static unsigned alloc_failed;

static bool alloc_should_fail(void)
{
	if (alloc_fail_in == 0 || --alloc_fail_in > 0)
		return false;
	alloc_failed++;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_should_fail() ? NULL : __real_calloc(n, size);
}

/* ---------------------------------------------------- bookkeeping -- */

struct rec {
	struct vnet_tcp *c;
	unsigned connects, errs, recvs, accepts;
	int dial_err, err;
	size_t bytes;
	bool eof;
	uint8_t data[64];
	int mode;          /* what the receive callback does (REC_*) */
	size_t want;       /* rec_got: bytes to wait for */
	struct vnet_addr peer;
};

enum { REC_KEEP = 0, REC_ABORT, REC_CLOSE, REC_UNSET };

static void rec_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct rec *r = arg;

	if (len == 0) {
		r->eof = true;
		return;
	}
	if (r->bytes < sizeof(r->data))
		memcpy(r->data + r->bytes, data, len < sizeof(r->data) - r->bytes ? len : sizeof(r->data) - r->bytes);
	r->bytes += len;
	r->recvs++;
	if (r->mode == REC_ABORT) {
		vnet_tcp_abort(c);
		r->c = NULL;
	} else if (r->mode == REC_CLOSE) {
		ck_assert_int_eq(vnet_tcp_close(c), 0);
		r->c = NULL;
	} else if (r->mode == REC_UNSET) {
		vnet_tcp_set_callbacks(c, NULL, NULL, NULL, r);
	}
}

static void rec_err(struct vnet_tcp *c, int err, void *arg)
{
	struct rec *r = arg;

	(void)c;
	r->errs++;
	r->err = err;
	r->c = NULL;
}

static void rec_connected(struct vnet_tcp *c, int err, void *arg)
{
	struct rec *r = arg;

	r->connects++;
	r->dial_err = err;
	if (err != 0) {
		/* the handle is dead during this call: the API ignores it */
		ck_assert_int_eq(vnet_tcp_close(c), 0);
		vnet_tcp_abort(c);
		vnet_tcp_set_callbacks(c, rec_recv, NULL, rec_err, r);
		ck_assert_int_eq(vnet_tcp_set_manual_window(c, true), -EINVAL);
		ck_assert_int_eq(vnet_tcp_recved(c, 1), -EINVAL);
		ck_assert_int_eq(vnet_tcp_send(c, "x", 1), -ENOTCONN);
		ck_assert_uint_eq(vnet_tcp_sndbuf(c), 0);
		ck_assert_uint_eq(vnet_tcp_unacked(c), 0);
		ck_assert_int_eq(vnet_tcp_peer(c, NULL, NULL), -ENOTCONN);
		ck_assert_int_eq(vnet_tcp_peer_addr(c, &r->peer), -ENOTCONN);
		return;
	}
	r->c = c;
	vnet_tcp_set_callbacks(c, rec_recv, NULL, rec_err, r);
}

/* An accept that sets no callbacks: the connection waits to be served. */
static void rec_accept_idle(struct vnet_tcp *c, void *arg)
{
	struct rec *r = arg;

	r->accepts++;
	r->c = c;
}

static void rec_accept(struct vnet_tcp *c, void *arg)
{
	struct rec *r = arg;

	r->accepts++;
	r->c = c;
	vnet_tcp_set_callbacks(c, rec_recv, NULL, rec_err, r);
}

static bool rec_connected_done(void *arg)
{
	return ((struct rec *)arg)->connects > 0;
}

static bool rec_accepted(void *arg)
{
	return ((struct rec *)arg)->accepts > 0;
}

static bool rec_has_err(void *arg)
{
	return ((struct rec *)arg)->errs > 0;
}

static bool rec_got(void *arg)
{
	struct rec *r = arg;

	return r->bytes >= r->want;
}

static bool rec_has_eof(void *arg)
{
	return ((struct rec *)arg)->eof;
}

static void no_accept(struct vnet_tcp *c, void *arg)
{
	(void)arg;
	vnet_tcp_abort(c);
}

static void no_connect(struct vnet_tcp *c, int err, void *arg)
{
	(void)c;
	(void)err;
	(void)arg;
}

/* A dials B:@port and B accepts (@srv), connected on both sides. */
static void connect_pair(uint16_t port, struct rec *cli, struct rec *srv, vnet_tcp_accept_fn accept,
                         struct vnet_tcp_listener **l)
{
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, port, accept, srv, l), 0);
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, port, 2000, rec_connected, cli, NULL), 0);
	ck_assert(pair_run(&P, rec_connected_done, NULL, cli, 100000, 5000));
	ck_assert_int_eq(cli->dial_err, 0);
	ck_assert(pair_run(&P, rec_accepted, NULL, srv, 100000, 5000));
	ck_assert_ptr_nonnull(cli->c);
	ck_assert_ptr_nonnull(srv->c);
}

/* ------------------------------------------------------ interface -- */

/* First in the suite: no interface yet in this process, so lwIP has no
 * timers and an idle loop may sleep for ever. */
START_TEST(sleeptime_before_and_after_init)
{
	ck_assert_uint_eq(vnet_iface_sleeptime_ms(), UINT32_MAX);
	pair_up(&P, NULL, NULL);
	/* lwIP's cyclic timers (TCP, ARP, ND) are due within a second */
	ck_assert_uint_le(vnet_iface_sleeptime_ms(), 1000);
}
END_TEST

START_TEST(iface_bad_arguments)
{
	struct vnet_iface_conf conf;
	struct vnet_iface_stats st;
	struct vnet_iface_info info;
	struct vnet_iface_ip6 ip6;
	struct vnet_iface *ifc = (struct vnet_iface *)&conf; /* must be cleared on error */
	struct vnet_addr a;
	uint8_t mac[6], f[60];
	unsigned n0 = netif_count();

	memset(&conf, 0, sizeof(conf));
	conf.ip = IP_A;
	conf.netmask = MASK24;
	ck_assert_int_eq(vnet_iface_init_conf(NULL, P.a.dev, &conf), -EINVAL);
	ck_assert_int_eq(vnet_iface_init_conf(&ifc, NULL, &conf), -EINVAL);
	ck_assert_int_eq(vnet_iface_init_conf(&ifc, P.a.dev, NULL), -EINVAL);
	conf.ip = 0xffffffffu;
	ck_assert_int_eq(vnet_iface_init_conf(&ifc, P.a.dev, &conf), -EINVAL);
	ck_assert_ptr_null(ifc);
	ck_assert_int_eq(vnet_iface_init4(NULL, P.a.dev, IP_A, MASK24, 0), -EINVAL);
	ck_assert_int_eq(vnet_iface_init4(&ifc, NULL, IP_A, MASK24, 0), -EINVAL);
	ck_assert_int_eq(vnet_iface_init(NULL, P.a.dev, "10.0.0.1", "255.255.255.0", NULL), -EINVAL);
	ck_assert_int_eq(vnet_iface_init(&ifc, P.a.dev, NULL, "255.255.255.0", NULL), -EINVAL);
	ck_assert_int_eq(vnet_iface_init(&ifc, P.a.dev, "10.0.0.1", NULL, NULL), -EINVAL);
	ck_assert_int_eq(vnet_iface_init(&ifc, P.a.dev, "10.0.0.1", "255.255.255.x", NULL), -EINVAL);
	ck_assert_uint_eq(netif_count(), n0);

	/* no interface: an error or nothing, never a crash */
	vnet_iface_close(NULL);
	ck_assert_int_eq(vnet_iface_poll(NULL), -EINVAL);
	ck_assert_int_eq(vnet_iface_enable_icmp(NULL, true), -EINVAL);
	vnet_iface_set_rx_copy(NULL, true);
	vnet_iface_set_rx_csum_check(NULL, false);
	ck_assert_uint_eq(vnet_iface_ip4(NULL), 0);
	ck_assert_int_eq(vnet_iface_ip6(NULL, 0, &ip6), -EINVAL);
	memset(mac, 0xaa, sizeof(mac));
	vnet_iface_mac(NULL, mac);
	ck_assert_uint_eq(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5], 0);
	ck_assert_ptr_null(vnet_iface_netif(NULL));
	ck_assert(!vnet_iface_link_up(NULL));
	ck_assert_int_eq(vnet_iface_info(NULL, &info), -EINVAL);
	vnet_iface_set_link_cb(NULL, NULL, NULL);
	vnet_iface_set_frame_hook(NULL, NULL, NULL);
	memset(f, 0, sizeof(f));
	ck_assert_int_eq(vnet_iface_send_frame(NULL, f, sizeof(f)), -EINVAL);
	ck_assert_int_eq(vnet_iface_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(vnet_iface_parse_addr(NULL, &a), -EINVAL);
	ck_assert_int_eq(vnet_iface_parse_addr("10.0.0.1:1", NULL), -EINVAL);

	/* an interface, but no room for the answer */
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 0, NULL), -EINVAL);
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 99, &ip6), -ENOENT);
	ck_assert_int_eq(vnet_iface_info(P.a.ifc, NULL), -EINVAL);
	ck_assert_int_eq(vnet_iface_send_frame(P.a.ifc, NULL, 60), -EINVAL);
	ck_assert_int_eq(vnet_iface_stats(P.a.ifc, NULL), -EINVAL);
	vnet_iface_mac(P.a.ifc, NULL);
	vnet_iface_mac(P.a.ifc, mac);
	ck_assert_uint_eq(mac[5], 1);
	ck_assert_ptr_nonnull(vnet_iface_netif(P.a.ifc));
}
END_TEST

struct dgrams {
	unsigned n;
	size_t bytes;
};

static void count_dgram(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port, void *arg)
{
	struct dgrams *d = arg;

	(void)u;
	(void)data;
	(void)ip;
	(void)port;
	d->n++;
	d->bytes += len;
}

static bool dgrams_2(void *arg)
{
	return ((struct dgrams *)arg)->n >= 2;
}

/* vnet_iface_set_rx_copy() switches zero-copy receive at run time. */
START_TEST(rx_copy_switch)
{
	struct vnet_iface_stats s0, s1, s2;
	struct dgrams d = {0, 0};
	struct vnet_udp *srv, *cli;
	uint8_t buf[200];

	memset(buf, 0x5a, sizeof(buf));
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_udp_bind(P.b.ifc, 9, count_dgram, &d, &srv), 0);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 0, NULL, NULL, &cli), 0);
	/* two datagrams: the first may wait for ARP */
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert(pair_run(&P, dgrams_2, NULL, &d, 100000, 3000));
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &s0), 0);

	vnet_iface_set_rx_copy(P.b.ifc, true);
	d.n = 0;
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert(pair_run(&P, dgrams_2, NULL, &d, 100000, 3000));
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &s1), 0);
	ck_assert_uint_ge(s1.rx_copied - s0.rx_copied, 2);
	ck_assert_uint_eq(s1.rx_zero_copy, s0.rx_zero_copy);

	vnet_iface_set_rx_copy(P.b.ifc, false);
	d.n = 0;
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert(pair_run(&P, dgrams_2, NULL, &d, 100000, 3000));
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &s2), 0);
	ck_assert_uint_ge(s2.rx_zero_copy - s1.rx_zero_copy, 2);
	vnet_udp_close(cli);
	vnet_udp_close(srv);
}
END_TEST

/* default_netif makes a later interface lwIP's default; when it goes,
 * another one takes its place. */
START_TEST(default_netif_moves)
{
	struct vnet_iface_conf cb;

	memset(&cb, 0, sizeof(cb));
	cb.default_netif = true;
	pair_up(&P, NULL, &cb);
	ck_assert_ptr_eq(netif_default, vnet_iface_netif(P.b.ifc));
	vnet_iface_close(P.b.ifc);
	P.b.ifc = NULL;
	ck_assert_ptr_nonnull(netif_default);
	ck_assert_ptr_eq(netif_default, vnet_iface_netif(P.a.ifc));
}
END_TEST

/* Every allocation of vnet_iface_init_conf() fails in turn: -ENOMEM each
 * time, no netif left behind (and nothing leaked: ASan's leak check),
 * until the interface comes up on A. @return the failures seen. */
static unsigned init_each_allocation_failing(const struct vnet_iface_conf *conf)
{
	unsigned n, n0 = netif_count(), fails = 0;
	int rc;

	for (n = 1; n < 64; n++) {
		alloc_failed = 0;
		alloc_fail_in = n;
		rc = vnet_iface_init_conf(&P.a.ifc, P.a.dev, conf);
		alloc_fail_in = 0;
		if (alloc_failed == 0) {
			ck_assert_int_eq(rc, 0);
			break;
		}
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_ptr_null(P.a.ifc);
		ck_assert_uint_eq(netif_count(), n0);
		fails++;
	}
	ck_assert_ptr_nonnull(P.a.ifc);
	return fails;
}

/* Then the UDP table's scratch buffer, at the first bind. */
START_TEST(init_survives_each_allocation_failing)
{
	struct vnet_iface_conf conf;
	struct vnet_udp *u;

	memset(&conf, 0, sizeof(conf));
	conf.ip = IP_A;
	conf.netmask = MASK24;
	conf.max_udp = 1;
	/* the interface's own, its TCP, listener and UDP tables, the netif's slots */
	ck_assert_uint_eq(init_each_allocation_failing(&conf), 5);

	alloc_failed = 0;
	alloc_fail_in = 1;
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 9, NULL, NULL, &u), -ENOMEM);
	alloc_fail_in = 0;
	ck_assert_uint_eq(alloc_failed, 1);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), 0);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 9, NULL, NULL, &u), 0); /* the one slot is free */
	vnet_udp_close(u);
}
END_TEST

/* With MRG_RXBUF the netif also has a buffer to linearise chained frames. */
START_TEST(init_mrg_survives_each_allocation_failing)
{
	struct vnet_iface_conf conf;
	struct vnet_iface_info info;
	struct rig_opts o;

	pair_close(&P);
	memset(&o, 0, sizeof(o));
	o.offer = VNET_F_DEFAULT | VNET_F_MRG_RXBUF;
	o.want = o.offer;
	pair_open_opts(&P, &o, NULL);
	memset(&conf, 0, sizeof(conf));
	conf.ip = IP_A;
	conf.netmask = MASK24;
	ck_assert_uint_eq(init_each_allocation_failing(&conf), 6);
	ck_assert_int_eq(vnet_iface_info(P.a.ifc, &info), 0);
	ck_assert_uint_ne(info.offloads & VNET_IFACE_OFF_MRG, 0);
}
END_TEST

/* A jumbo pool the device cannot share (its table of shared pools is
 * full): the interface is refused, nothing half-made. */
START_TEST(init_jumbo_pool_not_shared)
{
	struct vnet_pool *extra[5];
	struct vnet_pool_conf pc;
	struct vnet_iface_conf conf;
	unsigned i, n0 = netif_count();

	memset(&pc, 0, sizeof(pc));
	pc.count = 4;
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(vnet_pool_create(&extra[i], &pc), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(vnet_dev_share_pool(P.a.dev, extra[i]), 0);
	memset(&conf, 0, sizeof(conf));
	conf.ip = IP_A;
	conf.netmask = MASK24;
	conf.tx_jumbo_pool = extra[4];
	ck_assert_int_eq(vnet_iface_init_conf(&P.a.ifc, P.a.dev, &conf), -ENOSPC);
	ck_assert_ptr_null(P.a.ifc);
	ck_assert_uint_eq(netif_count(), n0);
	/* the device keeps the pools it shares: they go after it */
	side_close(&P.a);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(vnet_pool_destroy(extra[i]), 0);
}
END_TEST

/* ------------------------------------------------------------- TCP -- */

START_TEST(tcp_bad_arguments)
{
	struct vnet_tcp_listener *l1, *l2;
	struct vnet_tcp *c, *c2;
	struct vnet_addr to;
	struct rec r;
	uint32_t pcbs0, lis0;

	memset(&r, 0, sizeof(r));
	memset(&to, 0, sizeof(to));
	up_with(1, 2, 0, true);
	pcbs0 = memp_used(MEMP_TCP_PCB);
	lis0 = memp_used(MEMP_TCP_PCB_LISTEN);

	ck_assert_int_eq(vnet_tcp_listen(NULL, 80, no_accept, NULL, &l1), -EINVAL);
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 80, NULL, NULL, &l1), -EINVAL);
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 0, no_accept, NULL, &l1), -EINVAL);
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 80, no_accept, NULL, &l1), 0);
	/* the same port again: refused, and nothing of the attempt stays */
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 80, no_accept, NULL, &l2), -EADDRINUSE);
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 81, no_accept, NULL, NULL), 0);
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 82, no_accept, NULL, &l2), -EMFILE);
	vnet_tcp_listener_close(l1);
	vnet_tcp_listener_close(l1);   /* twice: nothing */
	vnet_tcp_listener_close(NULL);
	ck_assert_int_eq(vnet_tcp_listen(P.a.ifc, 80, no_accept, NULL, &l1), 0);
	vnet_tcp_listener_close(l1);

	ck_assert_int_eq(vnet_tcp_dial4(NULL, IP_B, 80, 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, 80, 0, NULL, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, 0, 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, 0, 80, 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, NULL, 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "[::]:80", 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "[ff02::1]:80", 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial_addr(P.a.ifc, NULL, 0, no_connect, NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_tcp_dial_addr(NULL, &to, 0, no_connect, NULL, &c), -EINVAL);
	memset(&to, 0, sizeof(to));
	to.family = 5;
	to.port = 80;
	ck_assert_int_eq(vnet_tcp_dial_addr(P.a.ifc, &to, 0, no_connect, NULL, &c), -EAFNOSUPPORT);
	/* B has no IPv6 */
	ck_assert_int_eq(vnet_tcp_dial(P.b.ifc, "[fe80::5054:ff:fe00:1]:80", 0, no_connect, NULL, &c), -EAFNOSUPPORT);

	/* a pending dial (nothing at 10.0.0.99): the one handle A has */
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "10.0.0.99:80", 0, no_connect, NULL, &c), 0);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "10.0.0.98:80", 0, no_connect, NULL, &c2), -EMFILE);
	ck_assert_int_eq(vnet_tcp_send(c, "x", 1), -ENOTCONN);      /* not connected yet */
	ck_assert_uint_eq(vnet_tcp_sndbuf(c), 0);
	ck_assert_uint_eq(vnet_tcp_unacked(c), 0);
	ck_assert_int_eq(vnet_tcp_set_manual_window(c, true), 0);
	ck_assert_int_eq(vnet_tcp_set_manual_window(c, false), 0);
	ck_assert_int_eq(vnet_tcp_recved(c, 100), 0);                /* nothing held */
	ck_assert_int_eq(vnet_tcp_peer_addr(c, &to), 0);
	ck_assert_uint_eq(to.ip4, 0x0A000063u);
	ck_assert_int_eq(vnet_tcp_close(c), 0);                       /* closing a dial aborts it */
	ck_assert_int_eq(vnet_tcp_close(c), -EINVAL);                 /* a freed handle */
	ck_assert_int_eq(vnet_tcp_set_manual_window(c, true), -EINVAL);
	ck_assert_int_eq(vnet_tcp_recved(c, 1), -EINVAL);
	ck_assert_int_eq(vnet_tcp_peer_addr(c, &to), -ENOTCONN);
	vnet_tcp_set_callbacks(c, rec_recv, NULL, rec_err, &r);       /* nothing */
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0);
	/* the handle is back: dial again (out NULL), and abort that */
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "10.0.0.99:80", 0, no_connect, NULL, NULL), 0);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "10.0.0.98:80", 0, no_connect, NULL, &c2), -EMFILE);
	vnet_tcp_abort(c);              /* the same slot: the dial just made */
	vnet_tcp_abort(c);              /* freed: nothing */
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB_LISTEN), lis0 + 2); /* port 81: IPv4 and link-local */

	/* no connection at all */
	vnet_tcp_set_callbacks(NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(vnet_tcp_send(NULL, "x", 1), -ENOTCONN);
	ck_assert_uint_eq(vnet_tcp_sndbuf(NULL), 0);
	ck_assert_uint_eq(vnet_tcp_unacked(NULL), 0);
	ck_assert_int_eq(vnet_tcp_set_manual_window(NULL, true), -EINVAL);
	ck_assert_int_eq(vnet_tcp_recved(NULL, 1), -EINVAL);
	ck_assert_int_eq(vnet_tcp_close(NULL), -EINVAL);
	vnet_tcp_abort(NULL);
	ck_assert_int_eq(vnet_tcp_peer(NULL, NULL, NULL), -ENOTCONN);
	ck_assert_int_eq(vnet_tcp_peer_addr(NULL, &to), -ENOTCONN);
	ck_assert_int_eq(vnet_tcp_peer_addr(c, NULL), -EINVAL);
}
END_TEST

/* A dial lwIP refuses (IPv6 before duplicate address detection passed:
 * no usable source address) gives its handle back: with a table of one,
 * the next dial still gets it. */
START_TEST(tcp_failed_dial_frees_its_handle)
{
	struct vnet_tcp_listener *l;
	struct rec cli, srv;
	uint32_t pcbs0;
	struct vnet_tcp *c = NULL;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	up_with(1, 0, 0, false);
	pcbs0 = memp_used(MEMP_TCP_PCB);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, LL_B ":80", 0, rec_connected, &cli, &c), -EHOSTUNREACH);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "[fd00::2]:80", 0, rec_connected, &cli, &c), -EHOSTUNREACH);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0);
	connect_pair(5101, &cli, &srv, rec_accept, &l);
	ck_assert_int_eq(vnet_tcp_send(cli.c, "hi", 2), 2);
	vnet_tcp_abort(cli.c);
	ck_assert(pair_run(&P, rec_has_err, NULL, &srv, 100000, 3000));
	ck_assert_int_eq(srv.err, -ECONNRESET);
	vnet_tcp_listener_close(l);
}
END_TEST

static bool rec_acked(void *arg)
{
	struct rec *r = arg;

	return r->c != NULL && vnet_tcp_unacked(r->c) == 0;
}

/* A connection accepted without a receive callback: the data lwIP keeps
 * for it (refused) and a FIN it took as delivered reach the callback set
 * later, at the next poll. */
START_TEST(tcp_late_reader_gets_data_and_fin)
{
	struct vnet_tcp_listener *l;
	struct rec cli, srv;
	unsigned k;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	pair_up(&P, NULL, NULL);
	connect_pair(5102, &cli, &srv, rec_accept_idle, &l);
	ck_assert_int_eq(vnet_tcp_send(cli.c, "hello", 5), 5);
	ck_assert(pair_run(&P, rec_acked, NULL, &cli, 100000, 3000));
	settle(&P, 50);
	ck_assert_uint_eq(srv.bytes, 0);
	/* a callback set and taken away again before the poll: nothing */
	vnet_tcp_set_callbacks(srv.c, rec_recv, NULL, rec_err, &srv);
	vnet_tcp_set_callbacks(srv.c, NULL, NULL, rec_err, &srv);
	ck_assert_int_ge(vnet_iface_poll(P.b.ifc), 0);
	ck_assert_uint_eq(srv.bytes, 0);
	vnet_tcp_set_callbacks(srv.c, rec_recv, NULL, rec_err, &srv);
	vnet_tcp_set_callbacks(srv.c, rec_recv, NULL, rec_err, &srv); /* counted once */
	ck_assert_int_ge(vnet_iface_poll(P.b.ifc), 0);
	ck_assert_uint_eq(srv.bytes, 5);
	ck_assert_mem_eq(srv.data, "hello", 5);

	/* now the FIN alone */
	vnet_tcp_set_callbacks(srv.c, NULL, NULL, rec_err, &srv);
	ck_assert_int_eq(vnet_tcp_close(cli.c), 0);
	cli.c = NULL;
	settle(&P, 100);
	ck_assert(!srv.eof);
	vnet_tcp_set_callbacks(srv.c, rec_recv, NULL, rec_err, &srv);
	for (k = 0; k < 4 && !srv.eof; k++)
		ck_assert_int_ge(vnet_iface_poll(P.b.ifc), 0);
	ck_assert(srv.eof);
	ck_assert_int_eq(vnet_tcp_close(srv.c), 0);
	vnet_tcp_listener_close(l);
	settle(&P, 50);
}
END_TEST

/* A reader set while data waits, then the connection closed before the
 * poll that would hand it over: the wake-up goes with the handle. */
START_TEST(tcp_close_before_wake)
{
	struct vnet_tcp_listener *l;
	struct rec cli, srv, cli2, srv2;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	memset(&cli2, 0, sizeof(cli2));
	memset(&srv2, 0, sizeof(srv2));
	pair_up(&P, NULL, NULL);
	connect_pair(5103, &cli, &srv, rec_accept_idle, &l);
	ck_assert_int_eq(vnet_tcp_send(cli.c, "data", 4), 4);
	ck_assert(pair_run(&P, rec_acked, NULL, &cli, 100000, 3000));
	vnet_tcp_set_callbacks(srv.c, rec_recv, NULL, rec_err, &srv);
	ck_assert_int_eq(vnet_tcp_close(srv.c), 0); /* unread data: lwIP resets */
	ck_assert(pair_run(&P, rec_has_err, NULL, &cli, 100000, 3000));
	ck_assert_int_eq(cli.err, -ECONNRESET);
	ck_assert_uint_eq(srv.bytes, 0);
	vnet_tcp_listener_close(l);
	/* the interface goes on: a new connection, served at once */
	connect_pair(5104, &cli2, &srv2, rec_accept, &l);
	ck_assert_int_eq(vnet_tcp_send(cli2.c, "more", 4), 4);
	srv2.want = 4;
	ck_assert(pair_run(&P, rec_got, NULL, &srv2, 100000, 3000));
	ck_assert_uint_eq(srv2.bytes, 4);
	vnet_tcp_abort(cli2.c);
	vnet_tcp_listener_close(l);
	settle(&P, 50);
}
END_TEST

/* B's connection table is full: a second connection lwIP completes is
 * reset (the client sees -ECONNRESET), the first one is untouched. */
START_TEST(tcp_accept_table_full_resets)
{
	struct vnet_iface_conf cb;
	struct vnet_tcp_listener *l;
	struct rec cli1, cli2, srv;

	memset(&cli1, 0, sizeof(cli1));
	memset(&cli2, 0, sizeof(cli2));
	memset(&srv, 0, sizeof(srv));
	memset(&cb, 0, sizeof(cb));
	cb.max_tcp = 1;
	pair_up(&P, NULL, &cb);
	connect_pair(5105, &cli1, &srv, rec_accept, &l);
	srv.accepts = 0;
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, 5105, 2000, rec_connected, &cli2, NULL), 0);
	ck_assert(pair_run(&P, rec_has_err, NULL, &cli2, 100000, 5000));
	ck_assert_int_eq(cli2.err, -ECONNRESET);
	ck_assert_uint_eq(srv.accepts, 0);
	/* the first still carries data */
	ck_assert_int_eq(vnet_tcp_send(cli1.c, "ok", 2), 2);
	srv.want = 2;
	ck_assert(pair_run(&P, rec_got, NULL, &srv, 100000, 3000));
	ck_assert_uint_eq(srv.bytes, 2);
	ck_assert_uint_eq(srv.errs, 0);
	vnet_tcp_abort(cli1.c);
	vnet_tcp_listener_close(l);
	settle(&P, 50);
}
END_TEST

struct feeder {
	struct vnet_tcp *c;
	struct rec *srv;   /* the receiving side (srv_recv_once) */
	size_t left;
	uint8_t chunk[16384];
};

static void feed(void *arg)
{
	struct feeder *f = arg;
	int r;

	while (f->c != NULL && f->left > 0) {
		r = vnet_tcp_send(f->c, f->chunk, f->left < sizeof(f->chunk) ? f->left : sizeof(f->chunk));
		if (r < 0)
			return;
		f->left -= (size_t)r;
	}
}

static bool srv_recv_once(void *arg)
{
	return ((struct feeder *)arg)->srv->recvs > 0;
}

/* The receive callback aborts, closes or drops its own callbacks while
 * lwIP hands it a chain of segments: it is not called again. */
static void stop_inside_recv(int mode, uint16_t port)
{
	static struct feeder f;
	struct vnet_tcp_listener *l;
	struct rec cli, srv;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	srv.mode = mode;
	connect_pair(port, &cli, &srv, rec_accept, &l);
	memset(&f, 0, sizeof(f));
	f.c = cli.c;
	f.srv = &srv;
	f.left = 256u * 1024u;
	ck_assert(pair_run(&P, srv_recv_once, feed, &f, 100000, 5000));
	settle(&P, 30);
	ck_assert_uint_eq(srv.recvs, 1);
	if (mode == REC_UNSET)
		ck_assert_int_eq(vnet_tcp_close(srv.c), 0);
	if (cli.c != NULL)
		vnet_tcp_abort(cli.c);
	vnet_tcp_listener_close(l);
	settle(&P, 50);
}

START_TEST(tcp_stop_inside_recv)
{
	pair_up(&P, NULL, NULL);
	stop_inside_recv(REC_ABORT, 5106);
	stop_inside_recv(REC_CLOSE, 5107);
	stop_inside_recv(REC_UNSET, 5108);
}
END_TEST

/* The calls on a live connection, at their edges. */
START_TEST(tcp_connection_edges)
{
	struct vnet_tcp_listener *l;
	struct rec cli, srv, r;
	struct vnet_addr a;
	uint32_t ip;
	uint16_t port;
	uint8_t big[4000];

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	memset(&r, 0, sizeof(r));
	memset(big, 7, sizeof(big));
	pair_up(&P, NULL, NULL);
	connect_pair(5109, &cli, &srv, rec_accept, &l);
	ck_assert_int_eq(vnet_tcp_send(cli.c, big, 0), 0);
	ck_assert_int_eq(vnet_tcp_send(cli.c, NULL, 5), -EINVAL);
	ck_assert_int_eq(vnet_tcp_peer(cli.c, NULL, NULL), 0);
	ck_assert_int_eq(vnet_tcp_peer(cli.c, &ip, &port), 0);
	ck_assert_uint_eq(ip, IP_B);
	ck_assert_uint_eq(port, 5109);
	ck_assert_int_eq(vnet_tcp_peer_addr(srv.c, &a), 0);
	ck_assert_uint_eq(a.family, VNET_ADDR_IP4);
	ck_assert_uint_eq(a.ip4, IP_A);

	/* in flight: unacknowledged until B's ACK */
	ck_assert_int_eq(vnet_tcp_set_manual_window(srv.c, true), 0);
	ck_assert_int_eq(vnet_tcp_send(cli.c, big, sizeof(big)), (int)sizeof(big));
	ck_assert_uint_eq(vnet_tcp_unacked(cli.c), sizeof(big));
	ck_assert(pair_run(&P, rec_acked, NULL, &cli, 100000, 3000));
	ck_assert_uint_eq(srv.bytes, sizeof(big));
	/* more than was delivered: only what is held goes back */
	ck_assert_int_eq(vnet_tcp_recved(srv.c, 1000), 0);
	ck_assert_int_eq(vnet_tcp_recved(srv.c, 1u << 20), 0);
	ck_assert_int_eq(vnet_tcp_send(cli.c, big, sizeof(big)), (int)sizeof(big));
	ck_assert(pair_run(&P, rec_acked, NULL, &cli, 100000, 3000));
	/* the manual window off gives back what is still held */
	ck_assert_int_eq(vnet_tcp_set_manual_window(srv.c, false), 0);

	/* a refused dial: the callback's checks on a dead handle (rec_connected) */
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, 5999, 0, rec_connected, &r, NULL), 0);
	ck_assert(pair_run(&P, rec_connected_done, NULL, &r, 100000, 3000));
	ck_assert_int_eq(r.dial_err, -ECONNREFUSED);

	ck_assert_int_eq(vnet_tcp_close(cli.c), 0);
	ck_assert(pair_run(&P, rec_has_eof, NULL, &srv, 100000, 3000));
	ck_assert_int_eq(vnet_tcp_close(srv.c), 0);
	vnet_tcp_listener_close(l);
	settle(&P, 50);
}
END_TEST

/* Take every TCP PCB lwIP can give (tcp_new) into @held: until it fails,
 * as lwIP frees connections in TIME_WAIT (and a few other states) for a
 * new PCB when the pool is empty. */
static unsigned take_tcp_pcbs(struct tcp_pcb **held, unsigned max)
{
	unsigned n = 0;

	while (n < max && (held[n] = tcp_new()) != NULL)
		n++;
	return n;
}

static void give_tcp_pcbs(struct tcp_pcb **held, unsigned n)
{
	while (n > 0)
		ck_assert_int_eq(tcp_close(held[--n]), ERR_OK);
}

/* lwIP's TCP PCB pools empty: listen and dial fail with -ENOMEM and give
 * back what they took (handles, PCBs); a listener that got its IPv4 PCB
 * but not an IPv6 one closes the first. */
START_TEST(tcp_pcb_pools_exhausted)
{
	static struct tcp_pcb *held[MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN];
	struct tcp_pcb *lis[MEMP_NUM_TCP_PCB_LISTEN];
	struct vnet_tcp_listener *l;
	struct rec cli, srv;
	unsigned n, nl = 0, k;
	uint32_t pcbs0, lis0;
	ip_addr_t any;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	up_with(1, 1, 0, false);
	pcbs0 = memp_used(MEMP_TCP_PCB);
	lis0 = memp_used(MEMP_TCP_PCB_LISTEN);

	n = take_tcp_pcbs(held, MEMP_NUM_TCP_PCB);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), MEMP_NUM_TCP_PCB);
	pcbs0 = MEMP_NUM_TCP_PCB - n; /* without the TIME_WAIT ones lwIP freed */
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 5110, rec_accept, &srv, &l), -ENOMEM);
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, 5110, 0, rec_connected, &cli, NULL), -ENOMEM);
	give_tcp_pcbs(held, n);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0);

	/* listening PCBs: keep one free (B's IPv4 one), then none */
	ip_addr_set_zero_ip4(&any);
	while (nl < MEMP_NUM_TCP_PCB_LISTEN && memp_used(MEMP_TCP_PCB_LISTEN) + 1 < MEMP_NUM_TCP_PCB_LISTEN) {
		struct tcp_pcb *p = tcp_new();

		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(tcp_bind(p, &any, (u16_t)(40000 + nl)), ERR_OK);
		lis[nl] = tcp_listen(p);
		ck_assert_ptr_nonnull(lis[nl]);
		nl++;
	}
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 5110, rec_accept, &srv, &l), -ENOMEM);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB_LISTEN), MEMP_NUM_TCP_PCB_LISTEN - 1);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0);
	{
		struct tcp_pcb *p = tcp_new();

		ck_assert_int_eq(tcp_bind(p, &any, (u16_t)(40000 + nl)), ERR_OK);
		lis[nl] = tcp_listen(p);
		ck_assert_ptr_nonnull(lis[nl]);
		nl++;
	}
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 5110, rec_accept, &srv, &l), -ENOMEM);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0);
	for (k = 0; k < nl; k++)
		ck_assert_int_eq(tcp_close(lis[k]), ERR_OK);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB_LISTEN), lis0);

	/* everything back: the one listener and the one handle work */
	connect_pair(5110, &cli, &srv, rec_accept, &l);
	vnet_tcp_abort(cli.c);
	ck_assert(pair_run(&P, rec_has_err, NULL, &srv, 100000, 3000));
	vnet_tcp_listener_close(l);
}
END_TEST

/* A SYN reaches a listener while lwIP has no PCB for the connection
 * (lwIP calls the accept callback without one): the listener lives on,
 * and the client's retransmitted SYN is accepted once PCBs are back. */
START_TEST(tcp_accept_without_pcb)
{
	static struct tcp_pcb *held[MEMP_NUM_TCP_PCB];
	struct vnet_iface_stats sb0, sb1, sa;
	struct vnet_tcp_listener *l;
	struct rec cli, srv;
	unsigned n;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 5113, rec_accept, &srv, &l), 0);
	ck_assert_int_eq(vnet_tcp_dial4(P.a.ifc, IP_B, 5113, 0, rec_connected, &cli, NULL), 0);
	n = take_tcp_pcbs(held, MEMP_NUM_TCP_PCB);
	stats2(&sa, &sb0);
	/* ARP, then the SYN, which finds no PCB at B */
	settle(&P, 300);
	stats2(&sa, &sb1);
	ck_assert_uint_gt(sb1.tcp.memerr, sb0.tcp.memerr);
	ck_assert_uint_eq(srv.accepts, 0);
	ck_assert_uint_eq(cli.connects, 0);
	give_tcp_pcbs(held, n);
	ck_assert(pair_run(&P, rec_accepted, NULL, &srv, 10000000, 10000));
	ck_assert(pair_run(&P, rec_connected_done, NULL, &cli, 100000, 3000));
	ck_assert_int_eq(cli.dial_err, 0);
	vnet_tcp_abort(cli.c);
	ck_assert(pair_run(&P, rec_has_err, NULL, &srv, 100000, 3000));
	vnet_tcp_listener_close(l);
}
END_TEST

/* An IPv6 address of B's already taken on the port by a raw PCB: the
 * listener's IPv6 PCB fails and its IPv4 one is closed again. */
START_TEST(tcp_listen_partly_taken)
{
	struct vnet_tcp_listener *l;
	struct vnet_iface_ip6 ll;
	struct tcp_pcb *raw;
	uint32_t pcbs0, lis0;
	ip_addr_t a;

	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_iface_ip6(P.b.ifc, 0, &ll), 0);
	ck_assert(ll.link_local);
	pcbs0 = memp_used(MEMP_TCP_PCB);
	lis0 = memp_used(MEMP_TCP_PCB_LISTEN);
	raw = tcp_new_ip_type(IPADDR_TYPE_V6);
	ck_assert_ptr_nonnull(raw);
	ip_from6(&a, ll.addr, vnet_iface_netif(P.b.ifc));
	ck_assert_int_eq(tcp_bind(raw, &a, 5111), ERR_OK);
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 5111, no_accept, NULL, &l), -EADDRINUSE);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB_LISTEN), lis0);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB), pcbs0 + 1);
	ck_assert_int_eq(tcp_close(raw), ERR_OK);
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 5111, no_accept, NULL, &l), 0);
	vnet_tcp_listener_close(l);
	ck_assert_uint_eq(memp_used(MEMP_TCP_PCB_LISTEN), lis0);
}
END_TEST

/* lwIP's heap empty: vnet_tcp_send takes nothing (-EAGAIN, as when the
 * send buffer is full) and the connection carries on once it is back. */
START_TEST(tcp_send_heap_exhausted)
{
	static void *blocks[256];
	struct vnet_tcp_listener *l;
	struct rec cli, srv;
	unsigned nb = 0;
	size_t sz = 1u << 20;

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	pair_up(&P, NULL, NULL);
	connect_pair(5112, &cli, &srv, rec_accept, &l);
	while (sz >= 8 && nb < 256) {
		blocks[nb] = mem_malloc((mem_size_t)sz);
		if (blocks[nb] != NULL)
			nb++;
		else
			sz /= 2;
	}
	ck_assert_int_eq(vnet_tcp_send(cli.c, "abc", 3), -EAGAIN);
	while (nb > 0)
		mem_free(blocks[--nb]);
	ck_assert_int_eq(vnet_tcp_send(cli.c, "abc", 3), 3);
	ck_assert(pair_run(&P, rec_acked, NULL, &cli, 100000, 3000));
	ck_assert_uint_eq(srv.bytes, 3);
	ck_assert_mem_eq(srv.data, "abc", 3);
	vnet_tcp_abort(cli.c);
	vnet_tcp_listener_close(l);
	settle(&P, 50);
}
END_TEST

/* ------------------------------------------------------------- UDP -- */

START_TEST(udp_bad_arguments)
{
	struct vnet_udp *u, *u2, *u6;
	struct vnet_addr to;
	uint8_t d[8] = {0};
	uint32_t udp0;

	up_with(0, 0, 2, true);
	udp0 = memp_used(MEMP_UDP_PCB);
	ck_assert_int_eq(vnet_udp_bind(NULL, 9, count_dgram, NULL, &u), -EINVAL);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 9, count_dgram, NULL, NULL), -EINVAL);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 9, count_dgram, NULL, &u), 0);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 10, count_dgram, NULL, &u2), 0);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 11, count_dgram, NULL, &u6), -EMFILE);
	vnet_udp_close(u2);

	ck_assert_int_eq(vnet_udp_dial(NULL, NULL, "10.0.0.2:7", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, NULL, count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "10.0.0.2:7", count_dgram, NULL, NULL), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "10.0.0.2", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "10.0.0.2:0", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "0.0.0.0:7", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "[ff02::1]:7", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "10.0.0.x:1", "10.0.0.2:7", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "[::]:5000", "10.0.0.2:7", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "10.0.0.1:5000", LL_B ":7", count_dgram, NULL, &u2), -EINVAL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "10.0.0.9:5000", "10.0.0.2:7", count_dgram, NULL, &u2),
	                 -EADDRNOTAVAIL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "[fd00::77]:5000", LL_B ":7", count_dgram, NULL, &u2),
	                 -EADDRNOTAVAIL);
	/* B has no IPv6: an endpoint of both families is IPv4 alone there */
	ck_assert_int_eq(vnet_udp_dial(P.b.ifc, NULL, "[fe80::5054:ff:fe00:1]:7", count_dgram, NULL, &u2),
	                 -EAFNOSUPPORT);
	ck_assert_int_eq(vnet_udp_bind_addr(P.b.ifc, 0, NULL, NULL, &u2), 0);
	ck_assert_uint_ne(vnet_udp_port(u2), 0);
	memset(&to, 0, sizeof(to));
	to.family = VNET_ADDR_IP6;
	to.port = 7;
	to.ip6[0] = 0xfd;
	to.ip6[15] = 1;
	ck_assert_int_eq(vnet_udp_sendto_addr(u2, &to, d, sizeof(d)), -EAFNOSUPPORT);
	vnet_udp_close(u2);

	/* the local address given: ours, or any */
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "10.0.0.1:5000", "10.0.0.2:7", count_dgram, NULL, &u2), 0);
	ck_assert_uint_eq(vnet_udp_port(u2), 5000);
	vnet_udp_close(u2);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, ":5004", "10.0.0.2:7", count_dgram, NULL, &u2), 0);
	ck_assert_uint_eq(vnet_udp_port(u2), 5004);
	vnet_udp_close(u2);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, ":5001", LL_B ":7", count_dgram, NULL, &u2), 0);
	ck_assert_uint_eq(vnet_udp_port(u2), 5001); /* IPv6 alone */
	ck_assert_int_eq(vnet_udp_sendto(u2, IP_B, 7, d, sizeof(d)), -EAFNOSUPPORT);
	vnet_udp_close(u2);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "[::]:5002", LL_B ":7", count_dgram, NULL, &u2), 0);
	vnet_udp_close(u2);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "[fe80::5054:ff:fe00:1]:5003", LL_B ":7", count_dgram, NULL, &u2), 0);
	vnet_udp_close(u2);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, "", "10.0.0.2:7", count_dgram, NULL, &u2), 0);
	/* the table is full (u, u2) */
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "10.0.0.2:7", count_dgram, NULL, &u6), -EMFILE);
	vnet_udp_close(u2);

	/* sending */
	ck_assert_int_eq(vnet_udp_sendto(NULL, IP_B, 7, d, sizeof(d)), -EINVAL);
	ck_assert_int_eq(vnet_udp_sendto(u, IP_B, 7, NULL, 5), -EINVAL);
	ck_assert_int_eq(vnet_udp_sendto(u, 0, 7, d, sizeof(d)), -EINVAL);
	ck_assert_int_eq(vnet_udp_sendto(u, IP_B, 0, d, sizeof(d)), -EINVAL);
	ck_assert_int_eq(vnet_udp_sendto(u2, IP_B, 7, d, sizeof(d)), -EINVAL);     /* closed */
	ck_assert_int_eq(vnet_udp_sendto_addr(NULL, &to, d, sizeof(d)), -EINVAL);
	ck_assert_int_eq(vnet_udp_sendto_addr(u2, &to, d, sizeof(d)), -EINVAL);    /* closed */
	ck_assert_int_eq(vnet_udp_sendto_addr(u, NULL, d, sizeof(d)), -EINVAL);
	to.port = 0;
	ck_assert_int_eq(vnet_udp_sendto_addr(u, &to, d, sizeof(d)), -EINVAL);
	to.port = 7;
	memset(to.ip6, 0, sizeof(to.ip6));
	ck_assert_int_eq(vnet_udp_sendto_addr(u, &to, d, sizeof(d)), -EINVAL);     /* [::] */
	to.family = VNET_ADDR_IP4;
	to.ip4 = 0;
	ck_assert_int_eq(vnet_udp_sendto_addr(u, &to, d, sizeof(d)), -EINVAL);     /* 0.0.0.0 */
	to.family = 9;
	ck_assert_int_eq(vnet_udp_sendto_addr(u, &to, d, sizeof(d)), -EAFNOSUPPORT);
	to.family = VNET_ADDR_IP6;
	to.ip6[0] = 0xfd;
	ck_assert_int_eq(vnet_udp_sendto_addr(u, &to, d, sizeof(d)), -EAFNOSUPPORT); /* IPv4 only */
	ck_assert_int_eq(vnet_udp_send(NULL, d, sizeof(d)), -ENOTCONN);
	ck_assert_int_eq(vnet_udp_send(u, d, sizeof(d)), -ENOTCONN);               /* not dialed */
	ck_assert_int_eq(vnet_udp_send(u2, d, sizeof(d)), -ENOTCONN);              /* closed */
	ck_assert_uint_eq(vnet_udp_port(NULL), 0);
	ck_assert_uint_eq(vnet_udp_port(u2), 0);
	vnet_udp_close(NULL);
	vnet_udp_close(u2);
	vnet_udp_close(u);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), udp0);
}
END_TEST

/* Ports already taken for an endpoint of both families: by the
 * interface's own IPv6 endpoint, by a raw PCB on [::] without
 * SO_REUSEADDR. Each refusal closes the IPv4 PCB it had made. */
START_TEST(udp_port_taken_for_ip6)
{
	struct vnet_udp *u6, *u;
	struct udp_pcb *raw;
	ip_addr_t any;

	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, ":6000", LL_B ":7", count_dgram, NULL, &u6), 0);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 6000, NULL, NULL, &u), -EADDRINUSE);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), 1);
	vnet_udp_close(u6);

	raw = udp_new_ip_type(IPADDR_TYPE_V6);
	ck_assert_ptr_nonnull(raw);
	ip_addr_set_zero_ip6(&any);
	ck_assert_int_eq(udp_bind(raw, &any, 6001), ERR_OK);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 6001, NULL, NULL, &u), -EADDRINUSE);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), 1);
	udp_remove(raw);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 6001, NULL, NULL, &u), 0);
	vnet_udp_close(u);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), 0);
}
END_TEST

static bool dgrams_1(void *arg)
{
	return ((struct dgrams *)arg)->n >= 1;
}

/* An endpoint with no receive callback drops what arrives (nothing held). */
START_TEST(udp_no_callback_drops)
{
	struct vnet_iface_stats sa, sb;
	struct dgrams d = {0, 0};
	struct vnet_udp *mute, *probe, *cli;
	uint32_t pbufs0;
	uint8_t buf[100];

	memset(buf, 1, sizeof(buf));
	pair_up(&P, NULL, NULL);
	pbufs0 = memp_used(MEMP_PBUF);
	ck_assert_int_eq(vnet_udp_bind(P.b.ifc, 9, NULL, NULL, &mute), 0);
	ck_assert_int_eq(vnet_udp_bind(P.b.ifc, 10, count_dgram, &d, &probe), 0);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 0, NULL, NULL, &cli), 0);
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 9, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vnet_udp_sendto(cli, IP_B, 10, buf, sizeof(buf)), 0);
	ck_assert(pair_run(&P, dgrams_1, NULL, &d, 100000, 3000));
	stats2(&sa, &sb);
	ck_assert_uint_eq(sb.rx_held, 0);
	ck_assert_uint_eq(memp_used(MEMP_PBUF), pbufs0);
	vnet_udp_close(cli);
	vnet_udp_close(probe);
	vnet_udp_close(mute);
}
END_TEST

/* lwIP's pools empty: binding (-ENOMEM, the IPv4 PCB given back when the
 * IPv6 one fails) and sending (no pbuf: -ENOMEM). */
START_TEST(udp_pools_exhausted)
{
	static struct pbuf *pbufs[MEMP_NUM_PBUF];
	struct udp_pcb *held[MEMP_NUM_UDP_PCB];
	struct vnet_udp *u;
	unsigned n = 0, np = 0;
	uint8_t d[16] = {0};

	pair_up(&P, NULL, NULL);
	while (n < MEMP_NUM_UDP_PCB && (held[n] = udp_new()) != NULL)
		n++;
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), MEMP_NUM_UDP_PCB);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 9, NULL, NULL, &u), -ENOMEM);
	udp_remove(held[--n]);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 9, NULL, NULL, &u), -ENOMEM);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), MEMP_NUM_UDP_PCB - 1);
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 9, NULL, NULL, &u), 0); /* the one left */
	while (n > 0)
		udp_remove(held[--n]);

	while (np < MEMP_NUM_PBUF && (pbufs[np] = pbuf_alloc(PBUF_RAW, 0, PBUF_REF)) != NULL)
		np++;
	ck_assert_uint_eq(memp_used(MEMP_PBUF), MEMP_NUM_PBUF);
	ck_assert_int_eq(vnet_udp_sendto(u, IP_B, 7, d, sizeof(d)), -ENOMEM);
	while (np > 0)
		pbuf_free(pbufs[--np]);
	ck_assert_int_eq(vnet_udp_sendto(u, IP_B, 7, d, sizeof(d)), 0);
	vnet_udp_close(u);
	settle(&P, 20);
}
END_TEST

/* No route: off the subnet without a gateway (IPv4), no usable source
 * address yet (IPv6, before duplicate address detection passed). */
START_TEST(udp_unreachable)
{
	struct vnet_udp *u;
	struct vnet_addr to;
	uint8_t d[16] = {0};

	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 0, NULL, NULL, &u), 0);
	ck_assert_int_eq(vnet_udp_sendto(u, 0xC0A80001u, 7, d, sizeof(d)), -EHOSTUNREACH);
	ck_assert_int_eq(vnet_iface_parse_addr(LL_B ":7", &to), 0);
	ck_assert_int_eq(vnet_udp_sendto_addr(u, &to, d, sizeof(d)), -EHOSTUNREACH);
	vnet_udp_close(u);
	ck_assert_uint_eq(memp_used(MEMP_UDP_PCB), 0);
}
END_TEST

static bool ip6_all_usable(struct vnet_iface *ifc)
{
	struct vnet_iface_ip6 v;
	unsigned i;

	for (i = 0; vnet_iface_ip6(ifc, i, &v) == 0; i++)
		if (!v.usable)
			return false;
	return i > 0;
}

static bool ip6_both_usable(void *arg)
{
	(void)arg;
	return ip6_all_usable(P.a.ifc) && ip6_all_usable(P.b.ifc);
}

struct from6 {
	unsigned n;
	uint32_t src_ip;
	uint16_t src_port;
};

static void from6_recv(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port, void *arg)
{
	struct from6 *f = arg;

	(void)u;
	(void)data;
	(void)len;
	f->n++;
	f->src_ip = ip;
	f->src_port = port;
}

static void echo6_recv(struct vnet_udp *u, const void *data, size_t len, const struct vnet_addr *src, void *arg)
{
	(void)arg;
	ck_assert_int_eq(vnet_udp_sendto_addr(u, src, data, len), 0);
}

static bool from6_got(void *arg)
{
	return ((struct from6 *)arg)->n > 0;
}

/* The IPv4 receive callback on an IPv6 endpoint: the sender's address is
 * 0 (it has no IPv4 form), its port is there. */
START_TEST(udp_ip6_sender_in_ip4_callback)
{
	struct vnet_udp *echo, *cli;
	struct from6 f;

	memset(&f, 0, sizeof(f));
	pair_up(&P, NULL, NULL);
	ck_assert_msg(pair_run(&P, ip6_both_usable, NULL, NULL, 10000000, 5000), "IPv6 addresses never usable");
	ck_assert_int_eq(vnet_udp_bind_addr(P.b.ifc, 7, echo6_recv, NULL, &echo), 0);
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, LL_B ":7", from6_recv, &f, &cli), 0);
	ck_assert_int_eq(vnet_udp_send(cli, "six", 3), 0);
	ck_assert(pair_run(&P, from6_got, NULL, &f, 100000, 3000));
	ck_assert_uint_eq(f.src_ip, 0);
	ck_assert_uint_eq(f.src_port, 7);
	vnet_udp_close(cli);
	vnet_udp_close(echo);
}
END_TEST

/* --------------------------------------------------- lwIP's errors -- */

/* Every lwIP error the glue may pass on has its errno. */
START_TEST(lwip_errors_mapped)
{
	static const struct {
		err_t e;
		int want;
	} map[] = {
		{ERR_OK, 0}, {ERR_MEM, -ENOMEM}, {ERR_BUF, -ENOBUFS}, {ERR_TIMEOUT, -ETIMEDOUT},
		{ERR_RTE, -EHOSTUNREACH}, {ERR_INPROGRESS, -EINPROGRESS}, {ERR_VAL, -EINVAL},
		{ERR_WOULDBLOCK, -EAGAIN}, {ERR_USE, -EADDRINUSE}, {ERR_ALREADY, -EALREADY},
		{ERR_ISCONN, -EISCONN}, {ERR_CONN, -ENOTCONN}, {ERR_IF, -ENETDOWN},
		{ERR_ABRT, -ECONNABORTED}, {ERR_RST, -ECONNRESET}, {ERR_CLSD, -ENOTCONN},
		{ERR_ARG, -EINVAL}, {(err_t)-100, -EIO},
	};
	unsigned i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		ck_assert_int_eq(err_to_errno(map[i].e), map[i].want);
}
END_TEST

static Suite *errors_suite(void)
{
	Suite *s = suite_create("lwip_iface_errors");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, fixture_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, sleeptime_before_and_after_init); /* first: before any interface */
	tcase_add_test(tc, iface_bad_arguments);
	tcase_add_test(tc, rx_copy_switch);
	tcase_add_test(tc, default_netif_moves);
	tcase_add_test(tc, init_survives_each_allocation_failing);
	tcase_add_test(tc, init_mrg_survives_each_allocation_failing);
	tcase_add_test(tc, init_jumbo_pool_not_shared);
	tcase_add_test(tc, tcp_bad_arguments);
	tcase_add_test(tc, tcp_failed_dial_frees_its_handle);
	tcase_add_test(tc, tcp_late_reader_gets_data_and_fin);
	tcase_add_test(tc, tcp_close_before_wake);
	tcase_add_test(tc, tcp_accept_table_full_resets);
	tcase_add_test(tc, tcp_stop_inside_recv);
	tcase_add_test(tc, tcp_connection_edges);
	tcase_add_test(tc, tcp_pcb_pools_exhausted);
	tcase_add_test(tc, tcp_accept_without_pcb);
	tcase_add_test(tc, tcp_listen_partly_taken);
	tcase_add_test(tc, tcp_send_heap_exhausted);
	tcase_add_test(tc, udp_bad_arguments);
	tcase_add_test(tc, udp_port_taken_for_ip6);
	tcase_add_test(tc, udp_no_callback_drops);
	tcase_add_test(tc, udp_pools_exhausted);
	tcase_add_test(tc, udp_unreachable);
	tcase_add_test(tc, udp_ip6_sender_in_ip4_callback);
	tcase_add_test(tc, lwip_errors_mapped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(errors_suite());
}
