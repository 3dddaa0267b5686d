/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP throughput between two vnet interfaces over the model's wire: A
 * dials B and streams a pattern; B counts (and optionally checks) it. One
 * thread polls everything alternately, as an appliance's main loop would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vnet/iface.h>
#include <vnet/model.h>
#include <vnet/vnet.h>

#include "core/out.h"
#include "bench_tcp.h"
#include "base/platform.h"

#define IP_A 0x0A000001u
#define IP_B 0x0A000002u
#define PORT 5001
#define MSS 1460

#define OFFLOADS (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX | \
                  VNET_F_CSUM | VNET_F_GUEST_CSUM | VNET_F_HOST_TSO4 | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF)

struct end {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_pool *jumbo; /* TSO frames (offload) */
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
};

struct run {
	const struct vnet_bench_tcp_opts *o;
	struct vnet_tcp *cli;
	struct vnet_tcp_listener *l;
	uint8_t *chunk;
	uint64_t total;       /* 0: until the deadline */
	uint64_t sent, received, bad;
	uint64_t t0, t1, deadline;
	int dial_err;
	bool connected, dial_done, eof, closing;
};

static uint8_t pattern_at(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24) ^ 0x5a);
}

static void end_close(struct end *e)
{
	if (e->ifc)
		vnet_iface_close(e->ifc);
	if (e->dev)
		vnet_dev_close(e->dev);
	if (e->pool)
		vnet_pool_destroy(e->pool);
	if (e->jumbo)
		vnet_pool_destroy(e->jumbo);
	if (e->m)
		vnet_model_destroy(e->m);
	memset(e, 0, sizeof(*e));
}

static int end_open(struct end *e, uint8_t id, uint32_t ip, const struct vnet_bench_tcp_opts *o)
{
	struct vnet_model_conf mc;
	struct vnet_pool_conf pc;
	struct vnet_dev_conf dc;
	struct vnet_iface_conf ic;
	int rc;

	memset(e, 0, sizeof(*e));
	memset(&mc, 0, sizeof(mc));
	mc.backend = VNET_MODEL_WIRE;
	mc.mac[0] = 0x52; mc.mac[1] = 0x54; mc.mac[5] = id;
	memset(&pc, 0, sizeof(pc));
	pc.count = o->pool ? o->pool : 2048;
	memset(&dc, 0, sizeof(dc));
	dc.rx_ring_size = dc.tx_ring_size = o->ring ? o->ring : 256;
	if (o->offload) {
		mc.features = OFFLOADS;
		mc.rx_csum = VNET_MODEL_RX_CSUM_VALID;
		dc.features = OFFLOADS;
	}
	rc = vnet_model_create(&e->m, &mc);
	if (rc == 0)
		rc = vnet_pool_create(&e->pool, &pc);
	if (rc == 0 && o->offload) {
		struct vnet_pool_conf jc;

		memset(&jc, 0, sizeof(jc));
		jc.count = 64;
		jc.buf_size = 65536;
		rc = vnet_pool_create(&e->jumbo, &jc);
	}
	if (rc == 0) {
		dc.pool = e->pool;
		rc = vnet_dev_open(&e->dev, vnet_model_transport(e->m), &dc);
	}
	if (rc == 0) {
		memset(&ic, 0, sizeof(ic));
		ic.ip = ip;
		ic.netmask = 0xFFFFFF00u;
		ic.pool = e->pool;
		ic.rx_copy = o->rx_copy;
		ic.tx_jumbo_pool = e->jumbo;
		rc = vnet_iface_init_conf(&e->ifc, e->dev, &ic);
	}
	if (rc)
		end_close(e);
	return rc;
}

static void feed(struct run *r)
{
	size_t room, n, k;
	int sent;
	unsigned guard;

	for (guard = 0; guard < 8 && r->cli != NULL && !r->closing; guard++) {
		if (r->total ? r->sent >= r->total : vnet_now_us() >= r->deadline) {
			vnet_tcp_close(r->cli); /* FIN after what is queued */
			r->cli = NULL;
			r->closing = true;
			return;
		}
		room = vnet_tcp_sndbuf(r->cli);
		if (room == 0)
			return;
		n = r->o->chunk ? r->o->chunk : 65536;
		if (r->total && r->total - r->sent < n)
			n = (size_t)(r->total - r->sent);
		if (n > room)
			n = room;
		if (r->o->verify)
			for (k = 0; k < n; k++)
				r->chunk[k] = pattern_at(r->sent + k);
		sent = vnet_tcp_send(r->cli, r->chunk, n);
		if (sent <= 0)
			return;
		r->sent += (uint64_t)sent;
	}
}

static void srv_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct run *r = arg;
	const uint8_t *d = data;
	size_t k;

	if (len == 0) {
		r->eof = true;
		r->t1 = vnet_now_us();
		vnet_tcp_close(c);
		return;
	}
	if (r->o->verify)
		for (k = 0; k < len; k++)
			r->bad += d[k] != pattern_at(r->received + k);
	r->received += len;
}

static void srv_accept(struct vnet_tcp *c, void *arg)
{
	vnet_tcp_set_callbacks(c, srv_recv, NULL, NULL, arg);
}

static void cli_sent(struct vnet_tcp *c, size_t acked, void *arg)
{
	(void)c;
	(void)acked;
	feed(arg);
}

static void cli_err(struct vnet_tcp *c, int err, void *arg)
{
	struct run *r = arg;

	(void)c;
	r->cli = NULL;
	r->dial_err = err;
}

static void cli_connected(struct vnet_tcp *c, int err, void *arg)
{
	struct run *r = arg;

	r->dial_done = true;
	r->dial_err = err;
	if (err)
		return;
	r->connected = true;
	r->cli = c;
	r->t0 = vnet_now_us();
	if (!r->total)
		r->deadline = r->t0 + (uint64_t)((r->o->duration > 0 ? r->o->duration : 2.0) * 1e6);
	vnet_tcp_set_callbacks(c, NULL, cli_sent, cli_err, r);
	feed(r);
}

int vnet_bench_tcp(const struct vnet_bench_tcp_opts *o, struct vnet_bench_tcp_result *res)
{
	struct end a, b;
	struct run r;
	struct vnet_iface_stats sa, sb;
	uint64_t limit_us, start, steps;
	int rc, w;

	if (!o || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.total = o->bytes;
	r.chunk = calloc(1, o->chunk ? o->chunk : 65536);
	if (!r.chunk)
		return -ENOMEM;
	rc = end_open(&a, 1, IP_A, o);
	if (rc == 0) {
		rc = end_open(&b, 2, IP_B, o);
		if (rc)
			end_close(&a);
	}
	if (rc) {
		free(r.chunk);
		return rc;
	}
	rc = vnet_model_wire(a.m, b.m);
	if (rc == 0)
		rc = vnet_tcp_listen(b.ifc, PORT, srv_accept, &r, &r.l);
	if (rc == 0)
		rc = vnet_tcp_dial4(a.ifc, IP_B, PORT, 5000, cli_connected, &r, NULL);

	/* bounded: by time (the run's length plus slack, or the limit) and steps */
	if (o->bytes)
		limit_us = (uint64_t)((o->duration > 0 ? o->duration : 60.0) * 1e6);
	else
		limit_us = (uint64_t)(((o->duration > 0 ? o->duration : 2.0) + 10.0) * 1e6);
	start = vnet_now_us();
	for (steps = 0; rc == 0 && steps < (1ull << 40); steps++) {
		if (r.eof || (r.dial_done && r.dial_err))
			break;
		if (vnet_now_us() - start > limit_us) {
			rc = -ETIMEDOUT;
			break;
		}
		feed(&r);
		w = vnet_iface_poll(a.ifc);
		w += (int)vnet_model_poll(a.m);
		w += vnet_iface_poll(b.ifc);
		w += (int)vnet_model_poll(b.m);
		if (w == 0)
			usleep(50);
	}
	if (rc == 0 && r.dial_err)
		rc = r.dial_err;
	if (rc == 0 && r.total && r.received != r.total)
		rc = -EIO;

	vnet_iface_stats(a.ifc, &sa);
	vnet_iface_stats(b.ifc, &sb);
	res->bytes = r.received;
	res->seconds = r.t1 > r.t0 ? (double)(r.t1 - r.t0) / 1e6 : 0;
	res->mbytes_per_s = res->seconds > 0 ? (double)r.received / res->seconds / 1e6 : 0;
	res->segments = sb.rx_frames;
	res->ns_per_segment = r.received ? res->seconds * 1e9 / ((double)r.received / MSS) : 0;
	res->rx_zero_copy = sb.rx_zero_copy;
	res->rx_copied = sb.rx_copied;
	res->tx_ring_full = sa.tx_ring_full;
	res->bad_bytes = r.bad;
	if (rc == 0 && r.bad)
		rc = -EIO;

	vnet_tcp_listener_close(r.l);
	end_close(&a);
	end_close(&b);
	free(r.chunk);
	return rc;
}

int vnet_bench_tcp_main(double duration, uint64_t packets, int quiet)
{
	int i, rc = 0;

	for (i = 0; i < 3 && rc == 0; i++) {
		struct vnet_bench_tcp_opts o;
		struct vnet_bench_tcp_result r;
		struct bench_row row = {0};

		memset(&o, 0, sizeof(o));
		o.rx_copy = i == 1;
		o.offload = i == 2;
		o.bytes = packets ? packets * MSS : 0;
		o.duration = packets ? 0 : duration;
		rc = vnet_bench_tcp(&o, &r);
		if (rc) {
			fprintf(stderr, "vnet-bench: tcp (%s RX) failed: %s\n", o.rx_copy ? "copy" : "zero-copy",
			        vnet_strerror(rc));
			break;
		}
		bench_row_str(&row, "backend", "model");
		bench_row_str(&row, "mode", "tcp");
		bench_row_str(&row, "rx", o.rx_copy ? "copy" : o.offload ? "zero-copy+offload" : "zero-copy");
		bench_row_u64(&row, "bytes", r.bytes);
		bench_row_num(&row, "seconds", "%.3f", r.seconds);
		bench_row_num(&row, "MB_per_s", "%.1f", r.mbytes_per_s);
		bench_row_num(&row, "gbps", "%.3f", r.mbytes_per_s * 8 / 1e3);
		bench_row_num(&row, "ns_per_seg", "%.0f", r.ns_per_segment);
		bench_row_u64(&row, "segments", r.segments);
		bench_row_u64(&row, "rx_copied", r.rx_copied);
		bench_row_u64(&row, "tx_ring_full", r.tx_ring_full);
		bench_emit(&row);
	}
	if (!quiet)
		bench_table();
	return rc ? 1 : 0;
}
