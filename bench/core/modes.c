/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "base/platform.h"
#include "core/frame.h"
#include "core/modes.h"

/* The probe's fields and the headers: what a sent frame needs written. */
#define FILL_HEAD 64

static inline uint64_t stamp(const struct bench_stages *st)
{
	return st ? vnet_cycles() : 0;
}

void bench_fill(const struct bench_lane *l, struct vnet_buf **b, uint16_t n)
{
	uint32_t head = l->frame < FILL_HEAD ? l->frame : FILL_HEAD;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (l->tmpl)
			memcpy(b[i]->data, l->tmpl, head);
		b[i]->len = l->frame;
	}
}

static int any_ours(struct vnet_buf *const *b, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (bench_frame_ours(b[i]->data, b[i]->len))
			return 1;
	return 0;
}

uint16_t bench_txonly(const struct bench_lane *l, struct bench_stages *st)
{
	struct vnet_buf *b[BENCH_MAX_BURST];
	uint64_t t0, t1, t2;
	uint16_t n, room, sent = 0;

	t0 = stamp(st);
	n = l->burst;
	if (l->reclaim_first) {
		vnet_tx_reclaim(l->dev, l->q);
		room = vnet_tx_free(l->dev, l->q);
		n = room < n ? room : n;
	}
	t1 = stamp(st);
	if (n && vnet_pool_alloc_bulk(l->pool, b, n) == 0) {
		bench_fill(l, b, n);
		t2 = stamp(st);
		sent = bench_tx_timed(l->dev, l->q, b, n, st);
		if (sent < n)
			vnet_pool_free_bulk(b + sent, (uint32_t)(n - sent));
	} else {
		if (!l->reclaim_first) /* the pool is out: in the TX ring */
			vnet_tx_reclaim(l->dev, l->q);
		t2 = t1;
	}
	if (st && sent)
		bench_stages_add(st, sent, t1 - t0, t2 - t1, 0);
	return sent;
}

uint16_t bench_rxonly(const struct bench_lane *l, struct bench_stages *st, int *seen)
{
	struct vnet_buf *b[BENCH_MAX_BURST];
	uint64_t t0, t1, t2;
	uint16_t n;

	t0 = stamp(st);
	n = vnet_rx_burst(l->dev, l->q, b, l->burst);
	t1 = stamp(st);
	if (seen)
		*seen = any_ours(b, n);
	if (l->rx_note && n)
		l->rx_note(l->rx_note_arg, l->q, b, n);
	vnet_pool_free_bulk(b, n);
	t2 = stamp(st);
	vnet_rx_refill(l->dev, l->q);
	if (st && n)
		bench_stages_add(st, n, t1 - t0, t2 - t1, stamp(st) - t2);
	return n;
}

uint16_t bench_forward(const struct bench_lane *l, struct bench_stages *st, int *seen)
{
	struct vnet_buf *b[BENCH_MAX_BURST];
	uint64_t t0, t1, t2, t3;
	uint16_t n, sent = 0, i;

	t0 = stamp(st);
	n = vnet_rx_burst(l->dev, l->q, b, l->burst);
	t1 = stamp(st);
	if (seen)
		*seen = any_ours(b, n);
	for (i = 0; i < n; i++)
		bench_macswap(b[i]->data);
	t2 = stamp(st);
	if (n)
		sent = bench_tx_timed(l->dev, l->q, b, n, st);
	t3 = stamp(st);
	if (sent < n)
		vnet_pool_free_bulk(b + sent, (uint32_t)(n - sent));
	vnet_rx_refill(l->dev, l->q);
	if (st && sent)
		bench_stages_add(st, sent, t1 - t0, t2 - t1, stamp(st) - t3);
	return sent;
}

uint16_t bench_step(const struct bench_lane *l, enum bench_mode mode, struct bench_stages *st, int *seen)
{
	if (l->poll)
		l->poll(l->poll_arg);
	switch (mode) {
	case BENCH_TXONLY:
		return bench_txonly(l, st);
	case BENCH_RXONLY:
		return bench_rxonly(l, st, seen);
	default:
		return bench_forward(l, st, seen);
	}
}

uint16_t bench_tx_chains(const struct bench_lane *l, uint16_t segs)
{
	static struct vnet_buf *bufs[BENCH_MAX_BURST * VNET_TX_MAX_SEGS];
	struct vnet_buf *heads[BENCH_MAX_BURST];
	uint32_t ns = segs, frame = l->frame, head = frame >= 54 + ns ? 54 : frame / ns, rest = frame - head;
	uint32_t i, k;
	uint16_t n;

	if (vnet_pool_alloc_bulk(l->pool, bufs, (uint32_t)l->burst * ns)) {
		vnet_tx_reclaim(l->dev, l->q);
		return 0;
	}
	for (i = 0; i < l->burst; i++) {
		struct vnet_buf **c = bufs + (size_t)i * ns;

		for (k = 0; k < ns; k++) {
			c[k]->len = k == 0 ? head : k + 1 < ns ? rest / (ns - 1) : rest - (ns - 2) * (rest / (ns - 1));
			c[k]->next = k + 1 < ns ? c[k + 1] : NULL;
		}
		c[0]->nb_segs = (uint16_t)ns;
		heads[i] = c[0];
	}
	n = vnet_tx_burst(l->dev, l->q, heads, l->burst);
	for (i = n; i < l->burst; i++)
		vnet_buf_free_chain(heads[i]);
	return n;
}

int bench_probe_send(const struct bench_lane *l, uint32_t seq, struct bench_stages *st, uint64_t *t_sent)
{
	struct vnet_buf *b = vnet_buf_alloc(l->pool);
	uint64_t ts;

	if (!b) {
		vnet_tx_reclaim(l->dev, l->q);
		return -ENOBUFS;
	}
	bench_fill(l, &b, 1);
	memcpy(b->data + BENCH_OFF_SEQ, &seq, 4);
	ts = vnet_cycles();
	memcpy(b->data + BENCH_OFF_TS, &ts, 8);
	if (bench_tx_timed(l->dev, l->q, &b, 1, st) != 1) {
		vnet_buf_free(b);
		return -ENOBUFS;
	}
	*t_sent = ts;
	return 0;
}

int bench_rtt(const struct bench_lane *l, uint32_t seq, uint64_t timeout, uint32_t max_polls,
              struct bench_stages *st, uint64_t *rtt, uint64_t *other)
{
	struct vnet_buf *in[BENCH_MAX_BURST];
	uint64_t t_sent, deadline;
	uint32_t polls;
	int got = 0;

	if (bench_probe_send(l, seq, st, &t_sent))
		return -ENOBUFS;
	deadline = t_sent + timeout;
	for (polls = 0; polls < max_polls && !got; polls++) {
		uint64_t t0, t1, t2;
		uint16_t n, i;

		if (l->poll)
			l->poll(l->poll_arg);
		t0 = vnet_cycles();
		n = vnet_rx_burst(l->dev, l->q, in, BENCH_MAX_BURST);
		t1 = vnet_cycles();
		for (i = 0; i < n; i++) {
			if (bench_frame_is_seq(in[i]->data, in[i]->len, seq))
				got = 1;
			else
				(*other)++;
		}
		if (got)
			*rtt = t1 - t_sent; /* the reply is the application's from here */
		vnet_pool_free_bulk(in, n);
		t2 = vnet_cycles();
		if (n)
			vnet_rx_refill(l->dev, l->q);
		if (got && st)
			bench_stages_add(st, 1, t1 - t0, t2 - t1, vnet_cycles() - t2);
		if (t1 >= deadline)
			break;
	}
	return got;
}

void bench_stats_add(struct vnet_queue_stats *sum, const struct vnet_queue_stats *s)
{
	sum->packets += s->packets;
	sum->bytes += s->bytes;
	sum->bursts += s->bursts;
	sum->kicks += s->kicks;
	sum->drop_bad_id += s->drop_bad_id;
	sum->drop_bad_len += s->drop_bad_len;
	sum->drop_bad_idx += s->drop_bad_idx;
	sum->drop_pool_empty += s->drop_pool_empty;
	sum->drop_ring_full += s->drop_ring_full;
}
