/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A TCP transfer between the two interfaces of the rig (lwip_rig.h): A
 * dials B, sends a pattern of @total bytes and closes; B checks every
 * byte. Shared by the lwIP test programs.
 */
#ifndef VNET_TESTS_LWIP_XFER_H
#define VNET_TESTS_LWIP_XFER_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip_rig.h"

struct xfer {
	struct pair *p;
	uint64_t total, sent, received, bad;
	struct vnet_tcp *client, *server;
	struct vnet_tcp_listener *l;
	int dial_err;
	bool connected, dial_done, eof, server_closed, client_closed;
	uint64_t t0, t1;
	/* link-down test: flip the link when this much arrived (0: never) */
	uint64_t link_down_at;
	bool link_flipped;
	uint8_t chunk[65536];
};

static inline void srv_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct xfer *x = arg;
	const uint8_t *d = data;
	size_t k;

	if (len == 0) {
		x->eof = true;
		ck_assert_int_eq(vnet_tcp_close(c), 0);
		x->server = NULL;
		x->server_closed = true;
		x->t1 = rig_now_us();
		return;
	}
	for (k = 0; k < len; k++)
		if (d[k] != pattern_at(x->received + k))
			x->bad++;
	x->received += len;
}

static inline void srv_err(struct vnet_tcp *c, int err, void *arg)
{
	struct xfer *x = arg;

	(void)c;
	fprintf(stderr, "server connection error %d\n", err);
	x->server = NULL;
}

static inline void srv_accept(struct vnet_tcp *c, void *arg)
{
	struct xfer *x = arg;

	x->server = c;
	vnet_tcp_set_callbacks(c, srv_recv, NULL, srv_err, x);
}

static inline void cli_err(struct vnet_tcp *c, int err, void *arg)
{
	struct xfer *x = arg;

	(void)c;
	fprintf(stderr, "client connection error %d\n", err);
	x->client = NULL;
}

static inline void xfer_feed(struct xfer *x)
{
	size_t n, room;
	int r;
	unsigned guard;

	for (guard = 0; guard < 8 && x->client != NULL && x->sent < x->total; guard++) {
		room = vnet_tcp_sndbuf(x->client);
		if (room == 0)
			return;
		n = x->total - x->sent < sizeof(x->chunk) ? (size_t)(x->total - x->sent) : sizeof(x->chunk);
		if (n > room)
			n = room;
		pattern_fill(x->chunk, x->sent, n);
		r = vnet_tcp_send(x->client, x->chunk, n);
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

static inline void cli_sent(struct vnet_tcp *c, size_t acked, void *arg)
{
	(void)c;
	(void)acked;
	xfer_feed(arg);
}

static inline void cli_connected(struct vnet_tcp *c, int err, void *arg)
{
	struct xfer *x = arg;

	x->dial_done = true;
	x->dial_err = err;
	if (err != 0)
		return;
	x->connected = true;
	x->client = c;
	x->t0 = rig_now_us();
	vnet_tcp_set_callbacks(c, NULL, cli_sent, cli_err, x);
	xfer_feed(x);
}

static inline bool xfer_done(void *arg)
{
	struct xfer *x = arg;

	return (x->server_closed && x->received == x->total) || (x->dial_done && x->dial_err != 0);
}

static inline void xfer_tick(void *arg)
{
	struct xfer *x = arg;

	xfer_feed(x);
	if (x->link_down_at && !x->link_flipped && x->received >= x->link_down_at) {
		x->link_flipped = true;
		vnet_model_set_link(x->p->a.m, false);
	}
}

/* A dials B at @host ("10.0.0.2", "[fd00::2]") and @port. */
static inline struct xfer *xfer_start_at(struct pair *p, uint64_t total, uint16_t port, const char *host)
{
	struct xfer *x = calloc(1, sizeof(*x));
	char addr[80];

	ck_assert_ptr_nonnull(x);
	x->p = p;
	x->total = total;
	ck_assert_int_eq(vnet_tcp_listen(p->b.ifc, port, srv_accept, x, &x->l), 0);
	snprintf(addr, sizeof(addr), "%s:%u", host, (unsigned)port);
	ck_assert_int_eq(vnet_tcp_dial(p->a.ifc, addr, 5000, cli_connected, x, NULL), 0);
	return x;
}

static inline struct xfer *xfer_start(struct pair *p, uint64_t total, uint16_t port)
{
	return xfer_start_at(p, total, port, "10.0.0.2");
}

static inline void xfer_finish(struct xfer *x, const char *what)
{
	double secs = (double)(x->t1 - x->t0) / 1e6;

	ck_assert_int_eq(x->dial_err, 0);
	ck_assert_uint_eq(x->received, x->total);
	ck_assert_uint_eq(x->bad, 0);
	ck_assert(x->eof);
	printf("lwip %-28s %8.2f MiB in %6.3f s = %8.1f MB/s\n", what,
	       (double)x->total / (1024.0 * 1024.0), secs,
	       secs > 0 ? (double)x->total / secs / 1e6 : 0.0);
	vnet_tcp_listener_close(x->l);
	free(x);
}

/* Let FIN/ACK exchanges finish so lwIP holds nothing of ours. */
static inline void settle(struct pair *p, uint32_t ms)
{
	pair_run(p, NULL, NULL, NULL, 1000000, ms);
}

#endif
