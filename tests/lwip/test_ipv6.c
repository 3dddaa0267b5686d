/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 on the lwIP interface, end to end over the device model's wire:
 * addresses (link-local from the MAC, static with its prefix), TCP echo
 * over IPv6 on a dual-stack listener, UDP on both families, ICMPv6 echo,
 * and the offloads over IPv6: checksums both ways, TSO6 frames on TX (the
 * segments the device cuts checked one by one), large segments received
 * whole (GUEST_TSO6 over MRG_RXBUF chains), hostile device headers and
 * frames dropped and counted. Every transfer's content is checked; after
 * every test each pool holds what it held at the start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/ip_addr.h"
#include "lwip/raw.h"
#include "lwip/stats.h"

#include "lwip_fixture.h"
#include "lwip_xfer.h"

#define BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define CSUMS (VNET_F_CSUM | VNET_F_GUEST_CSUM)
#define TSOS (VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6 | VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)
#define MSS6 1440u /* 1500 - 40 - 20 */

/* fd00::1 and fd00::2, the link-local addresses of MACs 52:54:00:00:00:01/02 */
static const uint8_t IP6_A[16] = {0xfd, [15] = 1};
static const uint8_t IP6_B[16] = {0xfd, [15] = 2};
static const uint8_t LL_A[16] = {0xfe, 0x80, [8] = 0x50, 0x54, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01};
static const uint8_t LL_B[16] = {0xfe, 0x80, [8] = 0x50, 0x54, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x02};

static bool all_usable(struct vnet_iface *ifc)
{
	struct vnet_iface_ip6 v;
	unsigned i;

	for (i = 0; vnet_iface_ip6(ifc, i, &v) == 0; i++)
		if (!v.usable)
			return false;
	return i > 0;
}

static bool both_usable(void *arg)
{
	(void)arg;
	return all_usable(P.a.ifc) && all_usable(P.b.ifc);
}

/* The pair with A = fd00::1/@plen_a, B = fd00::2/@plen_b (0: 64), once
 * both have passed duplicate address detection. */
static void up6_prefix(const struct rig_opts *oa, const struct rig_opts *ob, const uint8_t a6[16], uint8_t pa,
                       const uint8_t b6[16], uint8_t pb)
{
	struct vnet_iface_conf ca, cb;

	pair_open_opts(&P, oa, ob);
	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	memcpy(ca.ip6, a6, 16);
	ca.ip6_prefix_len = pa;
	memcpy(cb.ip6, b6, 16);
	cb.ip6_prefix_len = pb;
	pair_up(&P, &ca, &cb);
	ck_assert_msg(pair_run(&P, both_usable, NULL, NULL, 10000000, 5000), "IPv6 addresses never usable");
}

static void up6(const struct rig_opts *oa, const struct rig_opts *ob)
{
	up6_prefix(oa, ob, IP6_A, 0, IP6_B, 0);
}

static bool connected(void *arg)
{
	return ((struct xfer *)arg)->connected;
}

static void run_xfer6(uint64_t total, uint16_t port, const char *host, const char *what)
{
	struct xfer *x = xfer_start_at(&P, total, port, host);

	ck_assert_msg(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000),
	              "%s stuck: sent %llu received %llu", what, (unsigned long long)x->sent,
	              (unsigned long long)x->received);
	settle(&P, 50);
	xfer_finish(x, what);
}

/* ----------------------------------------------------------- addresses -- */

static void fmt_is(const uint8_t a[16], const char *want)
{
	char buf[VNET_IFACE_IP6_STRLEN];
	uint8_t back[16];

	ck_assert_int_eq(vnet_iface_format_ip6(a, buf, sizeof(buf)), (int)strlen(want));
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(vnet_iface_parse_ip6(buf, back), 0);
	ck_assert_mem_eq(back, a, 16);
}

START_TEST(ip6_text_forms)
{
	static const char *bad[] = {"", ":", ":::", "1:2", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::",
	                            "g::1", "1:", ":1", "1::2:", "::1 ", " ::1", "fe80::1%1", "::ffff:1.2.3.4",
	                            "1:2:3:4:5:6:7:8::"};
	uint8_t a[16], all[16];
	struct vnet_addr ad;
	char small[8];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vnet_iface_parse_ip6(bad[i], a) == -EINVAL, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(vnet_iface_parse_ip6("FD00:0:0:0:0:0:0:1", a), 0);
	ck_assert_mem_eq(a, IP6_A, 16);
	ck_assert_int_eq(vnet_iface_parse_ip6("1:2:3:4:5:6:7::", a), 0);
	ck_assert_uint_eq(a[14] | a[15], 0);
	fmt_is(IP6_A, "fd00::1");
	fmt_is(LL_A, "fe80::5054:ff:fe00:1");
	memset(all, 0, 16);
	fmt_is(all, "::");
	all[15] = 1;
	fmt_is(all, "::1");
	memset(all, 0, 16);
	all[0] = 0x20; all[1] = 0x01; all[2] = 0x0d; all[3] = 0xb8; /* 2001:db8:0:0:1:0:0:1 */
	all[9] = 1; all[15] = 1;
	ck_assert_int_eq(vnet_iface_parse_ip6("2001:db8:0:0:1:0:0:1", a), 0);
	ck_assert_mem_eq(a, all, 16);
	fmt_is(all, "2001:db8::1:0:0:1"); /* RFC 5952 4.2.3: the first of equal runs */
	ck_assert_int_eq(vnet_iface_parse_ip6("2001:db8:0:1:1:1:1:1", a), 0);
	fmt_is(a, "2001:db8:0:1:1:1:1:1"); /* RFC 5952 4.2.2: one zero group stays */
	for (i = 0; i < 16; i++)
		all[i] = 0xab;
	fmt_is(all, "abab:abab:abab:abab:abab:abab:abab:abab");
	ck_assert_int_eq(vnet_iface_format_ip6(all, small, sizeof(small)), -ENOSPC);

	ck_assert_int_eq(vnet_iface_parse_addr("[fd00::2]:7", &ad), 0);
	ck_assert_uint_eq(ad.family, VNET_ADDR_IP6);
	ck_assert_uint_eq(ad.port, 7);
	ck_assert_mem_eq(ad.ip6, IP6_B, 16);
	ck_assert_int_eq(vnet_iface_parse_addr("10.0.0.2:65535", &ad), 0);
	ck_assert_uint_eq(ad.family, VNET_ADDR_IP4);
	ck_assert_uint_eq(ad.ip4, IP_B);
	ck_assert_uint_eq(ad.port, 65535);
	ck_assert_int_eq(vnet_iface_parse_addr("[::]:9", &ad), 0);
	ck_assert_int_eq(vnet_iface_parse_addr("[fd00::2]7", &ad), -EINVAL);
	ck_assert_int_eq(vnet_iface_parse_addr("[fd00::2]:65536", &ad), -EINVAL);
	ck_assert_int_eq(vnet_iface_parse_addr("fd00::2:7", &ad), -EINVAL);
	ck_assert_int_eq(vnet_iface_parse_addr("[fd00::2:7", &ad), -EINVAL);
}
END_TEST

/* The link-local address from the MAC and the static one, usable once
 * duplicate address detection has passed; bad configurations refused; an
 * interface without IPv6 has no address and hands IPv6 frames to the hook. */
START_TEST(ip6_addresses)
{
	static const uint8_t mc[16] = {0xff, 0x02, [15] = 1}, loop[16] = {[15] = 1};
	struct vnet_iface_conf ca, cb;
	struct vnet_iface_ip6 v;
	struct vnet_iface_stats sb;
	struct vnet_iface *bad = NULL;

	pair_open(&P, 0);
	memset(&ca, 0, sizeof(ca));
	ca.ip = IP_A;
	ca.netmask = MASK24;
	memcpy(ca.ip6, mc, 16);
	ck_assert_int_eq(vnet_iface_init_conf(&bad, P.a.dev, &ca), -EINVAL);
	memcpy(ca.ip6, loop, 16);
	ck_assert_int_eq(vnet_iface_init_conf(&bad, P.a.dev, &ca), -EINVAL);
	memcpy(ca.ip6, IP6_A, 16);
	ca.ip6_prefix_len = 129;
	ck_assert_int_eq(vnet_iface_init_conf(&bad, P.a.dev, &ca), -EINVAL);
	ca.ip6_prefix_len = 0;
	ca.no_ip6 = true;
	ck_assert_int_eq(vnet_iface_init_conf(&bad, P.a.dev, &ca), -EINVAL);
	ck_assert_ptr_null(bad);

	memset(&ca, 0, sizeof(ca));
	memcpy(ca.ip6, IP6_A, 16);
	ca.ip6_prefix_len = 56;
	memset(&cb, 0, sizeof(cb));
	cb.no_ip6 = true;
	pair_up(&P, &ca, &cb);
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 0, &v), 0);
	ck_assert_mem_eq(v.addr, LL_A, 16);
	ck_assert(v.link_local);
	ck_assert_uint_eq(v.prefix_len, 64);
	ck_assert(!v.usable); /* tentative: duplicate address detection runs */
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 1, &v), 0);
	ck_assert_mem_eq(v.addr, IP6_A, 16);
	ck_assert(!v.link_local);
	ck_assert_uint_eq(v.prefix_len, 56);
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 2, &v), -ENOENT);
	ck_assert_int_eq(vnet_iface_ip6(P.b.ifc, 0, &v), -ENOENT);
	settle(&P, 2500);
	ck_assert(all_usable(P.a.ifc));
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 1, &v), 0);
	ck_assert(v.usable && !v.duplicate);
	/* A's probes (neighbour solicitations) reached B, which has no IPv6 */
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	ck_assert_uint_ge(sb.rx_unknown, 2);
}
END_TEST

/* ------------------------------------------------------------ TCP echo -- */

struct echo6 {
	struct vnet_tcp *srv, *cli;
	struct vnet_tcp_listener *l;
	struct vnet_addr peer;
	int peer4_rc, dial_err;
	bool connected, done;
	uint64_t total, sent, got, bad, queued;
	uint8_t pend[1 << 18];   /* server: bytes received, not yet echoed */
	size_t head, len;
	uint8_t chunk[16384];
};

static void echo_flush(struct echo6 *e)
{
	unsigned guard;

	for (guard = 0; guard < 4 && e->len > 0 && e->srv != NULL; guard++) {
		size_t n = e->len, room = sizeof(e->pend) - e->head;
		int r;

		if (n > room)
			n = room;
		r = vnet_tcp_send(e->srv, e->pend + e->head, n);
		if (r <= 0)
			return;
		e->head = (e->head + (size_t)r) % sizeof(e->pend);
		e->len -= (size_t)r;
		ck_assert_int_eq(vnet_tcp_recved(e->srv, (size_t)r), 0);
	}
}

static void echo_srv_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct echo6 *e = arg;
	size_t tail, first;

	if (len == 0) {
		ck_assert_int_eq(vnet_tcp_close(c), 0);
		e->srv = NULL;
		return;
	}
	ck_assert_uint_le(e->len + len, sizeof(e->pend)); /* the window (manual) bounds it */
	tail = (e->head + e->len) % sizeof(e->pend);
	first = len < sizeof(e->pend) - tail ? len : sizeof(e->pend) - tail;
	memcpy(e->pend + tail, data, first);
	memcpy(e->pend, (const uint8_t *)data + first, len - first);
	e->len += len;
	echo_flush(e);
}

static void echo_srv_sent(struct vnet_tcp *c, size_t acked, void *arg)
{
	(void)c;
	(void)acked;
	echo_flush(arg);
}

static void echo_accept(struct vnet_tcp *c, void *arg)
{
	struct echo6 *e = arg;
	uint32_t ip4;
	uint16_t port;

	e->srv = c;
	ck_assert_int_eq(vnet_tcp_peer_addr(c, &e->peer), 0);
	e->peer4_rc = vnet_tcp_peer(c, &ip4, &port);
	vnet_tcp_set_callbacks(c, echo_srv_recv, echo_srv_sent, NULL, e);
	ck_assert_int_eq(vnet_tcp_set_manual_window(c, true), 0);
}

static void echo_cli_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct echo6 *e = arg;
	const uint8_t *d = data;
	size_t k;

	(void)c;
	for (k = 0; k < len; k++)
		if (d[k] != pattern_at(e->got + k))
			e->bad++;
	e->got += len;
	if (e->got == e->total && e->cli != NULL) {
		ck_assert_int_eq(vnet_tcp_close(e->cli), 0);
		e->cli = NULL;
		e->done = true;
	}
}

static void echo_feed(void *arg)
{
	struct echo6 *e = arg;
	unsigned guard;

	for (guard = 0; guard < 4 && e->cli != NULL && e->sent < e->total; guard++) {
		size_t n = e->total - e->sent < sizeof(e->chunk) ? (size_t)(e->total - e->sent) : sizeof(e->chunk);
		int r;

		pattern_fill(e->chunk, e->sent, n);
		r = vnet_tcp_send(e->cli, e->chunk, n);
		if (r <= 0)
			return;
		e->sent += (uint64_t)r;
	}
}

static void echo_connected(struct vnet_tcp *c, int err, void *arg)
{
	struct echo6 *e = arg;

	e->dial_err = err;
	if (err != 0) {
		e->done = true;
		return;
	}
	e->connected = true;
	e->cli = c;
	vnet_tcp_set_callbacks(c, echo_cli_recv, NULL, NULL, e);
}

static bool echo_done(void *arg)
{
	struct echo6 *e = arg;

	return e->done && e->srv == NULL;
}

/* Echo @total bytes through B's listener @l, dialled at @addr. */
static void echo_once(struct echo6 *e, const char *addr, uint64_t total)
{
	e->srv = e->cli = NULL;
	e->connected = e->done = false;
	e->total = total;
	e->sent = e->got = e->bad = 0;
	e->head = e->len = 0;
	e->dial_err = 0;
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, addr, 5000, echo_connected, e, NULL), 0);
	ck_assert_msg(pair_run(&P, echo_done, echo_feed, e, 20000000, 30000), "echo via %s stuck: %llu/%llu", addr,
	              (unsigned long long)e->got, (unsigned long long)total);
	ck_assert_int_eq(e->dial_err, 0);
	ck_assert_uint_eq(e->got, total);
	ck_assert_uint_eq(e->bad, 0);
	settle(&P, 20);
}

/* One listener takes IPv6 (static and link-local) and IPv4 connections. */
START_TEST(tcp6_echo_dual_stack)
{
	struct echo6 *e = calloc(1, sizeof(*e));
	struct vnet_iface_stats sa, sb;
	char addr[64], txt[VNET_IFACE_IP6_STRLEN];

	ck_assert_ptr_nonnull(e);
	up6(NULL, NULL);
	ck_assert_int_eq(vnet_tcp_listen(P.b.ifc, 7, echo_accept, e, &e->l), 0);

	echo_once(e, "[fd00::2]:7", 1u << 20);
	ck_assert_uint_eq(e->peer.family, VNET_ADDR_IP6);
	ck_assert_mem_eq(e->peer.ip6, IP6_A, 16);
	ck_assert_int_eq(e->peer4_rc, -EAFNOSUPPORT);

	vnet_iface_format_ip6(LL_B, txt, sizeof(txt));
	snprintf(addr, sizeof(addr), "[%s]:7", txt);
	echo_once(e, addr, 256u << 10);
	ck_assert_uint_eq(e->peer.family, VNET_ADDR_IP6);
	ck_assert_mem_eq(e->peer.ip6, LL_A, 16); /* link-local to link-local */

	echo_once(e, "10.0.0.2:7", 256u << 10);
	ck_assert_uint_eq(e->peer.family, VNET_ADDR_IP4);
	ck_assert_uint_eq(e->peer.ip4, IP_A);
	ck_assert_int_eq(e->peer4_rc, 0);

	stats2(&sa, &sb);
	ck_assert_uint_gt(sa.ip6.xmit, 700); /* 1.25 MiB in 1440-byte segments */
	ck_assert_uint_gt(sb.ip6.recv, 700);
	ck_assert_uint_eq(sb.ip6.drop, 0);
	vnet_tcp_listener_close(e->l);
	free(e);
}
END_TEST

/* Static addresses with a /48 prefix: the /64 around each is on-link
 * (lwIP 2.1.3's rule, whatever the length), the rest of the /48 needs a
 * router, and there is none: a dial to another /64 fails. */
START_TEST(prefix48_on_link_is_the_64)
{
	static const uint8_t a6[16] = {0xfd, 0x00, 0x00, 0x01, [15] = 1};
	static const uint8_t b6[16] = {0xfd, 0x00, 0x00, 0x01, [15] = 2};
	struct vnet_iface_ip6 v;
	struct xfer *x;

	up6_prefix(NULL, NULL, a6, 48, b6, 48);
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 1, &v), 0);
	ck_assert_uint_eq(v.prefix_len, 48);
	run_xfer6(1u << 20, 5601, "[fd00:1::2]", "tcp6 1 MiB (/48, same /64)");
	x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	x->p = &P;
	ck_assert_int_eq(vnet_tcp_dial(P.a.ifc, "[fd00:1:0:5::2]:5602", 500, cli_connected, x, NULL), 0);
	ck_assert(pair_run(&P, xfer_done, NULL, x, 1000000, 5000));
	ck_assert_int_eq(x->dial_err, -ETIMEDOUT);
	free(x);
}
END_TEST

/* ----------------------------------------------------------------- UDP -- */

struct u6 {
	unsigned got, bad;
	size_t want;
	struct vnet_addr src;
	uint32_t src4;
	uint8_t buf[65536];
};

static void u6_srv(struct vnet_udp *u, const void *data, size_t len, const struct vnet_addr *src, void *arg)
{
	(void)arg;
	ck_assert_int_eq(vnet_udp_sendto_addr(u, src, data, len), 0);
}

static void u6_cli(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port, void *arg)
{
	struct u6 *e = arg;

	(void)u;
	(void)port;
	e->src4 = ip;
	if (len != e->want || memcmp(data, e->buf, len) != 0)
		e->bad++;
	e->got++;
}

static void u6_cli_addr(struct vnet_udp *u, const void *data, size_t len, const struct vnet_addr *src, void *arg)
{
	struct u6 *e = arg;

	(void)u;
	e->src = *src;
	if (len != e->want || memcmp(data, e->buf, len) != 0)
		e->bad++;
	e->got++;
}

static bool u6_done(void *arg)
{
	return ((struct u6 *)arg)->got > 0;
}

static void u6_roundtrip(struct u6 *e, struct vnet_udp *cli, const struct vnet_addr *to, size_t len, unsigned seed)
{
	e->want = len;
	e->got = 0;
	pattern_fill(e->buf, seed * 7919u, len);
	if (to != NULL)
		ck_assert_int_eq(vnet_udp_sendto_addr(cli, to, e->buf, len), 0);
	else
		ck_assert_int_eq(vnet_udp_send(cli, e->buf, len), 0);
	ck_assert_msg(pair_run(&P, u6_done, NULL, e, 100000, 5000), "no echo of %zu bytes", len);
	ck_assert_uint_eq(e->bad, 0);
}

/* Datagrams of the given sizes (some past the MTU: IPv6 fragments) echoed
 * by B over IPv6 and IPv4; both interfaces bind port 7 on both families. */
static void udp6_sizes(const size_t *sizes, unsigned n)
{
	struct vnet_udp *srv, *cli, *dial, *a7, *v4only;
	struct vnet_addr to;
	struct u6 *e = calloc(1, sizeof(*e));
	unsigned i;

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(vnet_udp_bind_addr(P.b.ifc, 7, u6_srv, NULL, &srv), 0);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 7, u6_srv, NULL, &a7), 0); /* same port, other interface */
	ck_assert_int_eq(vnet_udp_bind_addr(P.b.ifc, 7, u6_srv, NULL, &dial), -EADDRINUSE);
	ck_assert_int_eq(vnet_udp_bind_addr(P.a.ifc, 0, u6_cli_addr, e, &cli), 0);
	memset(&to, 0, sizeof(to));
	to.family = VNET_ADDR_IP6;
	memcpy(to.ip6, IP6_B, 16);
	to.port = 7;
	for (i = 0; i < n; i++) {
		u6_roundtrip(e, cli, &to, sizes[i], i);
		ck_assert_uint_eq(e->src.family, VNET_ADDR_IP6);
		ck_assert_mem_eq(e->src.ip6, IP6_B, 16);
		ck_assert_uint_eq(e->src.port, 7);
	}
	to.family = VNET_ADDR_IP4;
	to.ip4 = IP_B;
	u6_roundtrip(e, cli, &to, 100, 99);
	ck_assert_uint_eq(e->src.family, VNET_ADDR_IP4);
	ck_assert_uint_eq(e->src.ip4, IP_B);
	vnet_udp_close(cli);

	/* dialled over IPv6 (to the link-local address), the IPv4-style callback */
	ck_assert_int_eq(vnet_udp_dial(P.a.ifc, NULL, "[fe80::5054:ff:fe00:2]:7", u6_cli, e, &dial), 0);
	u6_roundtrip(e, dial, NULL, 1000, 7);
	ck_assert_uint_eq(e->src4, 0); /* an IPv6 sender */
	ck_assert_int_eq(vnet_udp_sendto(dial, IP_B, 7, e->buf, 10), -EAFNOSUPPORT);
	vnet_udp_close(dial);
	/* an IPv4-only endpoint cannot send to IPv6 */
	ck_assert_int_eq(vnet_udp_bind(P.a.ifc, 0, u6_cli, e, &v4only), 0);
	memcpy(to.ip6, IP6_B, 16);
	to.family = VNET_ADDR_IP6;
	ck_assert_int_eq(vnet_udp_sendto_addr(v4only, &to, e->buf, 10), -EAFNOSUPPORT);
	vnet_udp_close(v4only);
	vnet_udp_close(a7);
	vnet_udp_close(srv);
	free(e);
}

START_TEST(udp6_echo)
{
	static const size_t sizes[] = {1, 1232, 1452, 1453, 3000, 20000, 65000};

	up6(NULL, NULL);
	udp6_sizes(sizes, sizeof(sizes) / sizeof(sizes[0]));
}
END_TEST

/* ---------------------------------------------------------- ICMPv6 echo -- */

struct ping6 {
	struct raw_pcb *pcb;
	unsigned replies, seq;
};

static u8_t ping6_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	struct ping6 *pg = arg;
	uint8_t type;

	(void)pcb;
	(void)addr;
	/* raw PCBs see the packet from the IPv6 header (no extension headers here) */
	if (pbuf_copy_partial(p, &type, 1, 40) == 1 && type == 129) {
		pg->replies++;
		pbuf_free(p);
		return 1;
	}
	return 0;
}

static void ping6_send(struct ping6 *pg, const uint8_t dst[16])
{
	struct pbuf *p = pbuf_alloc(PBUF_IP, 8 + 32, PBUF_RAM);
	uint8_t *h;
	ip_addr_t d;

	ck_assert_ptr_nonnull(p);
	h = p->payload;
	memset(h, 0, 8 + 32);
	h[0] = 128; /* echo request */
	h[4] = 0x12;
	h[5] = 0x34;
	h[7] = (uint8_t)++pg->seq;
	ip_addr_set_zero_ip6(&d);
	memcpy(ip_2_ip6(&d)->addr, dst, 16);
	ck_assert_int_eq(raw_sendto(pg->pcb, p, &d), ERR_OK);
	pbuf_free(p);
}

static bool ping6_done(void *arg)
{
	struct ping6 *pg = arg;

	return pg->replies >= pg->seq;
}

START_TEST(icmp6_echo_and_filter)
{
	struct vnet_iface_stats sb;
	struct ping6 pg;
	uint64_t filtered0;
	int i;

	up6(NULL, NULL);
	memset(&pg, 0, sizeof(pg));
	pg.pcb = raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6);
	ck_assert_ptr_nonnull(pg.pcb);
	pg.pcb->chksum_reqd = 1;
	pg.pcb->chksum_offset = 2;
	raw_bind_netif(pg.pcb, vnet_iface_netif(P.a.ifc));
	raw_recv(pg.pcb, ping6_recv, &pg);
	ck_assert_int_eq(vnet_iface_enable_icmp(P.b.ifc, true), 0);
	for (i = 0; i < 5; i++) {
		ping6_send(&pg, i % 2 ? LL_B : IP6_B);
		ck_assert(pair_run(&P, ping6_done, NULL, &pg, 100000, 5000));
	}
	ck_assert_uint_eq(pg.replies, 5);
	/* off: requests are dropped before lwIP, neighbour discovery goes on */
	ck_assert_int_eq(vnet_iface_enable_icmp(P.b.ifc, false), 0);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	filtered0 = sb.rx_icmp_filtered;
	ping6_send(&pg, IP6_B);
	ck_assert(!pair_run(&P, ping6_done, NULL, &pg, 100000, 300));
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	ck_assert_uint_eq(sb.rx_icmp_filtered, filtered0 + 1);
	raw_remove(pg.pcb);
}
END_TEST

/* ----------------------------------------------------- checksum offload -- */

/* TCP over IPv6 with checksums left to the device, the model's verdict
 * trusted on RX (DATA_VALID); three frames the device corrupts after its
 * check are caught by lwIP and sent again. */
START_TEST(csum6_offload_data_valid)
{
	struct rig_opts o;
	struct vnet_iface_stats sa, sb;
	struct vnet_model_stats ma, mb;
	uint64_t chk0;

	memset(&o, 0, sizeof(o));
	o.offer = BASE | VNET_F_MTU | CSUMS;
	o.want = o.offer;
	o.rx_csum = VNET_MODEL_RX_CSUM_VALID;
	up6(&o, &o);
	chk0 = chkerrs();
	run_xfer6(8u << 20, 5701, "[fd00::2]", "tcp6 8 MiB (csum offload, VALID)");
	stats2(&sa, &sb);
	vnet_model_stats(P.a.m, &ma);
	printf("csum6 VALID: A tx_csum_offload %llu, model A completed %llu, B trusted %llu\n",
	       (unsigned long long)sa.tx_csum_offload, (unsigned long long)ma.tx_csum,
	       (unsigned long long)sb.rx_csum_trusted);
	ck_assert_uint_gt(sa.tx_csum_offload, 5000);
	ck_assert_uint_ge(ma.tx_csum, sa.tx_csum_offload);
	ck_assert_uint_gt(sb.rx_csum_trusted, 5000);
	ck_assert_uint_eq(chkerrs(), chk0);
	{
		struct xfer *x = xfer_start_at(&P, 4u << 20, 5702, "[fd00::2]");

		ck_assert(pair_run(&P, connected, xfer_tick, x, 1000000, 5000));
		vnet_model_fault(P.b.m, VNET_FAULT_BAD_CSUM, 3);
		ck_assert(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000));
		settle(&P, 50);
		xfer_finish(x, "tcp6 4 MiB (3 bad frames)");
	}
	vnet_model_stats(P.b.m, &mb);
	ck_assert_uint_eq(mb.faults_fired, 3);
	ck_assert_uint_eq(chkerrs() - chk0, 3);
}
END_TEST

/* Partial checksums passed on unfinished (PARTIAL): trusted by layout;
 * UDP datagrams past the MTU (fragments) summed in software. */
START_TEST(csum6_offload_partial)
{
	static const size_t sizes[] = {100, 1452, 3000, 20000};
	struct rig_opts o;
	struct vnet_iface_stats sa, sb;
	struct vnet_model_stats mb;
	uint64_t chk0;

	memset(&o, 0, sizeof(o));
	o.offer = BASE | VNET_F_MTU | CSUMS;
	o.want = o.offer;
	o.rx_csum = VNET_MODEL_RX_CSUM_PARTIAL;
	up6(&o, &o);
	chk0 = chkerrs();
	run_xfer6(8u << 20, 5703, "[fd00::2]", "tcp6 8 MiB (csum offload, partial)");
	udp6_sizes(sizes, sizeof(sizes) / sizeof(sizes[0]));
	stats2(&sa, &sb);
	vnet_model_stats(P.b.m, &mb);
	printf("csum6 PARTIAL: A tx_csum_offload %llu, B partial %llu, model B partial %llu\n",
	       (unsigned long long)sa.tx_csum_offload, (unsigned long long)sb.rx_csum_partial,
	       (unsigned long long)mb.rx_partial);
	ck_assert_uint_gt(sb.rx_csum_partial, 5000);
	ck_assert_uint_eq(sb.rx_csum_partial, mb.rx_partial);
	ck_assert_uint_eq(sb.rx_csum_finished, 0);
	ck_assert_uint_eq(chkerrs(), chk0);
}
END_TEST

/* --------------------------------------------------------------- TSO6 -- */

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

/* Every TCP/IPv6 frame leaving A's device, as the device cut it: the IPv6
 * payload length is the frame's, the TCP checksum (pseudo-header over
 * addresses, length and next header) is right, and no segment carries
 * more than the MSS. */
struct seg_tap {
	uint64_t segs, full, bad_len, bad_sum, too_big, bytes;
};

static void seg_tap_fn(const uint8_t *f, uint32_t len, void *arg)
{
	struct seg_tap *t = arg;
	uint32_t plen, doff, s;

	if (len < 14 + 40 + 20 || f[12] != 0x86 || f[13] != 0xdd || f[14 + 6] != 6)
		return;
	plen = (uint32_t)f[18] << 8 | f[19];
	t->segs++;
	if (14 + 40 + plen != len) {
		t->bad_len++;
		return;
	}
	s = sum16(0, f + 22, 32) + plen + 6;
	if (fold(sum16(s, f + 54, plen)) != 0xffff)
		t->bad_sum++;
	doff = (uint32_t)(f[54 + 12] >> 4) * 4u;
	if (plen - doff > MSS6)
		t->too_big++;
	if (plen - doff == MSS6)
		t->full++;
	t->bytes += plen - doff;
}

/* TSO6 frames as they leave A whole for a GUEST_TSO6 receiver: the IPv6
 * payload length covers every segment, and the TCP checksum field holds
 * the pseudo-header sum over that length (folded, not complemented: what
 * NEEDS_CSUM with csum_start at TCP asks the device to complete). */
struct whole_tap {
	uint64_t frames, bad_len, bad_pseudo;
};

static void whole_tap_fn(const uint8_t *f, uint32_t len, void *arg)
{
	struct whole_tap *t = arg;
	uint32_t plen;

	if (len <= 1514 || f[12] != 0x86 || f[13] != 0xdd || f[14 + 6] != 6)
		return;
	t->frames++;
	plen = (uint32_t)f[18] << 8 | f[19];
	if (14 + 40 + plen != len)
		t->bad_len++;
	if (((uint32_t)f[54 + 16] << 8 | f[54 + 17]) != fold(sum16(0, f + 22, 32) + plen + 6))
		t->bad_pseudo++;
}

static void tso6_opts(struct rig_opts *oa, struct rig_opts *ob, bool lro)
{
	memset(oa, 0, sizeof(*oa));
	oa->offer = BASE | VNET_F_MTU | CSUMS | TSOS | VNET_F_MRG_RXBUF;
	oa->want = BASE | VNET_F_MTU | VNET_F_CSUM | VNET_F_HOST_TSO6;
	oa->jumbo_count = 32;
	*ob = *oa;
	ob->jumbo_count = 0;
	ob->want = lro ? BASE | VNET_F_MTU | CSUMS | VNET_F_GUEST_TSO6 | VNET_F_MRG_RXBUF : BASE | VNET_F_MTU;
	ob->rx_csum = VNET_MODEL_RX_CSUM_VALID;
}

/* A coalesces TCPv6 segments into TSO6 frames; the device cuts them. */
START_TEST(tso6_cut_by_device)
{
	struct rig_opts oa, ob;
	struct vnet_iface_info ia;
	struct vnet_iface_stats sa, sb;
	struct vnet_model_stats ma;
	struct seg_tap t;
	uint64_t chk0;

	tso6_opts(&oa, &ob, false);
	up6(&oa, &ob);
	ck_assert_int_eq(vnet_iface_info(P.a.ifc, &ia), 0);
	ck_assert_uint_eq(ia.offloads & (VNET_IFACE_OFF_TSO | VNET_IFACE_OFF_TSO6), VNET_IFACE_OFF_TSO6);
	memset(&t, 0, sizeof(t));
	chk0 = chkerrs();
	vnet_model_set_tap(P.a.m, seg_tap_fn, &t);
	run_xfer6(16u << 20, 5801, "[fd00::2]", "tcp6 16 MiB (TSO6, cut)");
	vnet_model_set_tap(P.a.m, NULL, NULL);
	stats2(&sa, &sb);
	vnet_model_stats(P.a.m, &ma);
	printf("tso6: A tx %llu frames, gso6 %llu (%llu segments), model A tso %llu cut into %llu; tap %llu segs "
	       "(%llu of %u bytes), B rx %llu\n", (unsigned long long)sa.tx_frames, (unsigned long long)sa.tx_gso6,
	       (unsigned long long)sa.tx_gso6_segs, (unsigned long long)ma.tx_tso,
	       (unsigned long long)ma.tx_tso_segs, (unsigned long long)t.segs, (unsigned long long)t.full, MSS6,
	       (unsigned long long)sb.rx_frames);
	ck_assert_uint_gt(sa.tx_gso6, 50);
	ck_assert_uint_eq(sa.tx_gso6, sa.tx_gso);       /* all of them IPv6 */
	ck_assert_uint_eq(sa.tx_gso6_segs, sa.tx_gso_segs);
	/* large send is IPv4 only: lwIP's IPv6 fragments are never joined */
	ck_assert_uint_eq(sa.tx_large, 0);
	ck_assert_uint_eq(sa.tx_large_conns, 0);
	ck_assert_uint_ge(sa.tx_gso6_segs, 2 * sa.tx_gso6);
	ck_assert_uint_eq(ma.tx_bad_hdr, 0);            /* gso_type, gso_size, csum_start/offset accepted */
	ck_assert_uint_eq(ma.tx_tso, sa.tx_gso6);
	ck_assert_uint_eq(ma.tx_tso_segs, sa.tx_gso6_segs);
	ck_assert_uint_eq(t.bad_len, 0);
	ck_assert_uint_eq(t.bad_sum, 0);
	ck_assert_uint_eq(t.too_big, 0);
	ck_assert_uint_gt(t.full, (16u << 20) / MSS6 / 2); /* gso_size = the MSS: most segments full */
	ck_assert_uint_ge(t.bytes, 16u << 20);
	ck_assert_uint_eq(sb.rx_gso, 0);
	ck_assert_uint_eq(chkerrs(), chk0);
}
END_TEST

/* ... and B takes them whole: GUEST_TSO6 over MRG_RXBUF chains. */
START_TEST(tso6_to_lro6_receiver)
{
	struct rig_opts oa, ob;
	struct vnet_iface_info ib;
	struct vnet_iface_stats sa, sb;
	struct vnet_model_stats ma, mb;
	struct whole_tap wt;
	uint64_t chk0;

	tso6_opts(&oa, &ob, true);
	up6(&oa, &ob);
	ck_assert_int_eq(vnet_iface_info(P.b.ifc, &ib), 0);
	ck_assert_uint_eq(ib.offloads & (VNET_IFACE_OFF_LRO | VNET_IFACE_OFF_LRO6 | VNET_IFACE_OFF_MRG),
	                  VNET_IFACE_OFF_LRO6 | VNET_IFACE_OFF_MRG);
	chk0 = chkerrs();
	memset(&wt, 0, sizeof(wt));
	vnet_model_set_tap(P.a.m, whole_tap_fn, &wt);
	run_xfer6(16u << 20, 5802, "[fd00::2]", "tcp6 16 MiB (TSO6 -> LRO6)");
	vnet_model_set_tap(P.a.m, NULL, NULL);
	stats2(&sa, &sb);
	vnet_model_stats(P.a.m, &ma);
	vnet_model_stats(P.b.m, &mb);
	printf("tso6+lro6: A gso6 %llu (%llu segments); B rx %llu frames, gso6 %llu, chained %llu, partial %llu\n",
	       (unsigned long long)sa.tx_gso6, (unsigned long long)sa.tx_gso6_segs,
	       (unsigned long long)sb.rx_frames, (unsigned long long)sb.rx_gso6,
	       (unsigned long long)sb.rx_chained, (unsigned long long)sb.rx_csum_partial);
	ck_assert_uint_gt(sa.tx_gso6, 50);
	ck_assert_uint_eq(ma.tx_bad_hdr, 0);
	ck_assert_uint_eq(wt.frames, sa.tx_gso6);
	ck_assert_uint_eq(wt.bad_len, 0);
	ck_assert_uint_eq(wt.bad_pseudo, 0);
	ck_assert_uint_eq(sb.rx_gso6, sa.tx_gso6);
	ck_assert_uint_eq(sb.rx_gso, sb.rx_gso6);
	ck_assert_uint_eq(mb.rx_gso, sb.rx_gso6);
	ck_assert_uint_ge(sb.rx_chained, sb.rx_gso6);   /* each spans several 2 KiB buffers */
	ck_assert_uint_ge(sb.rx_csum_partial, sb.rx_gso6); /* NEEDS_CSUM at TCP, trusted */
	ck_assert_uint_eq(sb.rx_bad_gso, 0);
	ck_assert_uint_eq(sb.rx_held, 0);
	ck_assert_uint_eq(chkerrs(), chk0);
}
END_TEST

/* --------------------------------------------------- hostile headers -- */

/*
 * A device whose RX header does not describe the frame: a large segment
 * arrives as gso_type TCPV6 over a frame that is not TCP right after an
 * IPv6 header. The test turns the model into such a device through its
 * tap, which sees the frame it is about to deliver whole (this writes
 * through the tap's const pointer on purpose: a hostile device). B drops
 * the frame and counts it; TCP sends the data again and the transfer
 * completes.
 */
struct spoil {
	unsigned left, done;
};

static void spoil_fn(const uint8_t *cf, uint32_t len, void *arg)
{
	struct spoil *s = arg;
	uint8_t *f = (uint8_t *)(uintptr_t)cf;

	if (s->left == 0 || len < 14 + 40 + 20 + 2000 || f[12] != 0x86 || f[13] != 0xdd)
		return; /* a large TCPv6 segment, delivered whole */
	if (s->done % 2 == 0)
		f[14 + 6] = 17;  /* next header: UDP */
	else
		f[12] = 0x08, f[13] = 0x00; /* ethertype IPv4 (the version nibble says 6) */
	s->left--;
	s->done++;
}

START_TEST(gso6_hostile_header_dropped)
{
	struct rig_opts oa, ob;
	struct vnet_iface_stats sb;
	struct vnet_model_stats mb;
	struct spoil sp = {4, 0};
	struct xfer *x;

	tso6_opts(&oa, &ob, true);
	up6(&oa, &ob);
	x = xfer_start_at(&P, 8u << 20, 5901, "[fd00::2]");
	ck_assert(pair_run(&P, connected, xfer_tick, x, 1000000, 5000));
	vnet_model_set_tap(P.a.m, spoil_fn, &sp);
	ck_assert(pair_run(&P, xfer_done, xfer_tick, x, 40000000, 60000));
	vnet_model_set_tap(P.a.m, NULL, NULL);
	settle(&P, 50);
	xfer_finish(x, "tcp6 8 MiB (4 bad GSO headers)");
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	vnet_model_stats(P.b.m, &mb);
	ck_assert_uint_eq(sp.done, 4);
	ck_assert_uint_eq(sb.rx_bad_gso, 4);
	ck_assert_uint_eq(mb.rx_gso, sb.rx_gso + 4);
	ck_assert_uint_eq(sb.rx_held, 0);
}
END_TEST

/* Hand-made IPv6 frames with NEEDS_CSUM straight onto A's TX ring, passed
 * on unfinished to B (PARTIAL): an ICMPv6 echo request (csum_offset 2:
 * not a TCP/UDP layout) is finished in B's glue and answered; a TCP frame
 * whose payload length claims more than the frame holds is finished as
 * any other layout and then dropped by lwIP for its length; a UDP frame
 * whose checksum field lies past B's first receive buffer is dropped. */
static struct vnet_buf *raw_ip6(struct vnet_pool *pool, uint32_t len, uint8_t nh, uint16_t plen)
{
	struct vnet_buf *b = raw_eth(pool, len, 0x86dd);
	uint8_t *f = b->data;

	f[14] = 0x60;
	put16be(f + 18, plen);
	f[20] = nh;
	f[21] = 64;
	memcpy(f + 22, IP6_A, 16);
	memcpy(f + 38, IP6_B, 16);
	return b;
}

static bool b_saw_all(void *arg)
{
	struct vnet_iface_stats s;

	(void)arg;
	vnet_iface_stats(P.b.ifc, &s);
	return s.rx_csum_finished >= 2 && s.rx_bad_hdr > 0;
}

START_TEST(ipv6_hostile_frames)
{
	struct rig_opts o;
	struct vnet_iface_stats sb;
	struct vnet_buf *b;
	uint64_t chk0, icmp6_xmit0, lenerr0;
	uint32_t s;
	uint8_t *f;

	memset(&o, 0, sizeof(o));
	o.offer = BASE | CSUMS | VNET_F_MRG_RXBUF;
	o.want = o.offer;
	o.mtu = 9000;
	o.rx_csum = VNET_MODEL_RX_CSUM_PARTIAL;
	o.jumbo_count = 4;
	o.jumbo_size = 9216;
	up6(&o, &o);
	vnet_iface_enable_icmp(P.b.ifc, true);
	/* neighbours both ways first: B answers A only once it knows A's MAC */
	{
		static const size_t one[] = {10};

		udp6_sizes(one, 1);
	}
	chk0 = chkerrs();
	icmp6_xmit0 = lwip_stats.icmp6.xmit;
	lenerr0 = lwip_stats.ip6.lenerr;

	b = raw_ip6(P.a.pool, 14 + 40 + 8 + 56, 58, 8 + 56);
	f = b->data;
	f[54] = 128;                                  /* echo request */
	put16be(f + 58, 0x1234);
	memset(f + 62, 0xa5, 56);
	s = fold(sum16(0, f + 22, 32) + (8 + 56) + 58); /* the pseudo-header sum: what a partial field holds */
	put16be(f + 56, (uint16_t)s);
	send_partial(b, 54, 2);
	b = raw_ip6(P.a.pool, 14 + 40 + 20 + 100, 6, 20 + 1000); /* claims 900 bytes it does not have */
	f = b->data;
	f[54 + 12] = 0x50;
	f[54 + 13] = 0x10;
	send_partial(b, 54, 16);
	b = raw_ip6(P.a.jumbo, 5000, 17, 5000 - 54);
	put16be(b->data + 54, 9);
	put16be(b->data + 56, 9);
	put16be(b->data + 58, 5000 - 54);
	send_partial(b, 54, 4900);                        /* inside the frame, past B's first buffer */
	ck_assert(pair_run(&P, b_saw_all, NULL, NULL, 100000, 5000));
	settle(&P, 20);
	ck_assert_int_eq(vnet_iface_stats(P.b.ifc, &sb), 0);
	ck_assert_uint_eq(sb.rx_csum_finished, 2);
	ck_assert_uint_eq(sb.rx_bad_hdr, 1);
	ck_assert_uint_eq(chkerrs(), chk0);               /* finished right: lwIP agreed */
	ck_assert_uint_eq(lwip_stats.icmp6.xmit, icmp6_xmit0 + 1); /* B answered */
	ck_assert_uint_eq(lwip_stats.ip6.lenerr, lenerr0 + 1);     /* the liar dropped */
}
END_TEST

/* What is negotiated is what is used: TSO6/LRO6 appear with their
 * features only, and the interface's feature list asks for them. */
START_TEST(offloads6_follow_negotiation)
{
	struct rig_opts o;
	struct vnet_iface_conf c;
	struct vnet_iface_info ia, ib;

	ck_assert_uint_eq(VNET_IFACE_FEATURES & (VNET_F_HOST_TSO6 | VNET_F_GUEST_TSO6),
	                  VNET_F_HOST_TSO6 | VNET_F_GUEST_TSO6);
	memset(&o, 0, sizeof(o));
	o.offer = BASE | VNET_F_MTU | CSUMS | TSOS | VNET_F_MRG_RXBUF;
	o.want = VNET_IFACE_FEATURES;
	o.jumbo_count = 4;
	pair_open_opts(&P, &o, &o);
	memset(&c, 0, sizeof(c));
	c.no_ip6 = true;
	pair_up(&P, NULL, &c);
	ck_assert_int_eq(vnet_iface_info(P.a.ifc, &ia), 0);
	ck_assert_int_eq(vnet_iface_info(P.b.ifc, &ib), 0);
	ck_assert_uint_eq(ia.offloads, VNET_IFACE_OFF_TX_CSUM | VNET_IFACE_OFF_RX_CSUM | VNET_IFACE_OFF_TSO |
	                                VNET_IFACE_OFF_TSO6 | VNET_IFACE_OFF_LRO | VNET_IFACE_OFF_LRO6 |
	                                VNET_IFACE_OFF_MRG);
	/* without IPv6 there is nothing to coalesce over IPv6 */
	ck_assert_uint_eq(ib.offloads & VNET_IFACE_OFF_TSO6, 0);
}
END_TEST

/* The MTU floors: an interface MTU asked below IPv4's 68 is refused; a
 * device MTU below IPv6's 1280 leaves the interface IPv4 only (no
 * link-local address, no TSO6), and refuses an IPv6 address asked for. */
START_TEST(mtu_floors)
{
	struct rig_opts o;
	struct vnet_iface_conf c;
	struct vnet_iface_ip6 a6;
	struct vnet_iface_info info;
	struct vnet_iface *x = NULL;
	struct xfer *x2;

	memset(&o, 0, sizeof(o));
	o.offer = BASE | VNET_F_MTU;
	o.mtu = 1000;
	pair_open_opts(&P, &o, &o);
	memset(&c, 0, sizeof(c));
	c.ip = IP_A;
	c.netmask = MASK24;
	c.pool = P.a.pool;
	c.mtu = 67;
	ck_assert_int_eq(vnet_iface_init_conf(&x, P.a.dev, &c), -EINVAL);
	ck_assert_ptr_null(x);
	c.mtu = 0;
	memcpy(c.ip6, IP6_A, 16);
	ck_assert_int_eq(vnet_iface_init_conf(&x, P.a.dev, &c), -EINVAL);
	ck_assert_ptr_null(x);
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_iface_info(P.a.ifc, &info), 0);
	ck_assert_uint_eq(info.mtu, 1000);
	ck_assert_uint_eq(info.offloads & VNET_IFACE_OFF_TSO6, 0);
	ck_assert_int_eq(vnet_iface_ip6(P.a.ifc, 0, &a6), -ENOENT); /* not even link-local */
	/* IPv4 works at that MTU */
	x2 = xfer_start(&P, 100000, 7100);
	ck_assert(pair_run(&P, xfer_done, xfer_tick, x2, 4000000, 20000));
	settle(&P, 50);
	xfer_finish(x2, "tcp over IPv4 at MTU 1000");
}
END_TEST

/* Each offload only when offered, and with what it depends on (spec
 * 5.1.3.1): HOST_TSO6 without CSUM (not asked for) is not negotiated;
 * TSO6 not offered is not used while TSO4 is. */
START_TEST(tso6_only_when_offered)
{
	struct rig_opts oa, ob;
	struct vnet_iface_info ia, ib;

	memset(&oa, 0, sizeof(oa));
	oa.offer = BASE | CSUMS | VNET_F_HOST_TSO6 | VNET_F_GUEST_TSO6 | VNET_F_MRG_RXBUF;
	oa.want = VNET_IFACE_FEATURES & ~VNET_F_CSUM;
	oa.jumbo_count = 4;
	ob = oa;
	ob.offer = BASE | CSUMS | VNET_F_HOST_TSO4 | VNET_F_MRG_RXBUF;
	ob.want = VNET_IFACE_FEATURES;
	pair_open_opts(&P, &oa, &ob);
	pair_up(&P, NULL, NULL);
	ck_assert_int_eq(vnet_iface_info(P.a.ifc, &ia), 0);
	ck_assert_int_eq(vnet_iface_info(P.b.ifc, &ib), 0);
	ck_assert_uint_eq(ia.features & (VNET_F_HOST_TSO6 | VNET_F_GUEST_TSO6), VNET_F_GUEST_TSO6);
	ck_assert_uint_eq(ia.offloads & (VNET_IFACE_OFF_TSO6 | VNET_IFACE_OFF_LRO6), VNET_IFACE_OFF_LRO6);
	ck_assert_uint_eq(ib.features & (VNET_F_HOST_TSO6 | VNET_F_GUEST_TSO6), 0);
	ck_assert_uint_eq(ib.offloads & (VNET_IFACE_OFF_TSO | VNET_IFACE_OFF_TSO6 | VNET_IFACE_OFF_LRO6),
	                  VNET_IFACE_OFF_TSO);
}
END_TEST

static Suite *ipv6_suite(void)
{
	Suite *s = suite_create("lwip-ipv6");
	TCase *tc = tcase_create("ipv6");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ip6_text_forms);
	tcase_add_test(tc, ip6_addresses);
	tcase_add_test(tc, tcp6_echo_dual_stack);
	tcase_add_test(tc, prefix48_on_link_is_the_64);
	tcase_add_test(tc, udp6_echo);
	tcase_add_test(tc, icmp6_echo_and_filter);
	tcase_add_test(tc, csum6_offload_data_valid);
	tcase_add_test(tc, csum6_offload_partial);
	tcase_add_test(tc, tso6_cut_by_device);
	tcase_add_test(tc, tso6_to_lro6_receiver);
	tcase_add_test(tc, gso6_hostile_header_dropped);
	tcase_add_test(tc, ipv6_hostile_frames);
	tcase_add_test(tc, offloads6_follow_negotiation);
	tcase_add_test(tc, tso6_only_when_offered);
	tcase_add_test(tc, mtu_floors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(ipv6_suite());
}
