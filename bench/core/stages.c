/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "base/platform.h"
#include "core/modes.h"
#include "core/stages.h"

#define CAL_TRAIN 64

static uint64_t tx_kicks(struct vnet_dev *dev, uint16_t q)
{
	struct vnet_queue_stats s;

	vnet_queue_stats(dev, q, false, &s);
	return s.kicks;
}

uint16_t bench_tx_timed(struct vnet_dev *dev, uint16_t q, struct vnet_buf **b, uint16_t n,
                        struct bench_stages *st)
{
	uint64_t k0, t0, t1;
	uint16_t sent;

	if (!st)
		return vnet_tx_burst(dev, q, b, n);
	k0 = tx_kicks(dev, q);
	t0 = vnet_cycles();
	sent = vnet_tx_burst(dev, q, b, n);
	t1 = vnet_cycles();
	if (sent == 0)
		return 0; /* ring full: no packet to charge it to */
	if (tx_kicks(dev, q) != k0) {
		st->tx_kick += t1 - t0;
		st->n_kick++;
		st->pk_kick += sent;
		st->h[BENCH_ST_TX_KICK][bench_hist_bucket((t1 - t0) / sent)]++;
	} else {
		st->tx_nokick += t1 - t0;
		st->n_nokick++;
		st->pk_nokick += sent;
		st->h[BENCH_ST_TX_NOKICK][bench_hist_bucket((t1 - t0) / sent)]++;
	}
	return sent;
}

void bench_stages_add(struct bench_stages *st, uint16_t n, uint64_t harvest, uint64_t app, uint64_t refill)
{
	st->harvest += harvest;
	st->app += app;
	st->refill += refill;
	st->h[BENCH_ST_HARVEST][bench_hist_bucket(harvest / n)]++;
	st->h[BENCH_ST_APP][bench_hist_bucket(app / n)]++;
	st->h[BENCH_ST_REFILL][bench_hist_bucket(refill / n)]++;
}

void bench_calibrate(const struct bench_lane *l, struct bench_stages *st)
{
	uint64_t ts, nokick = st->tx_nokick, n = st->n_nokick, pk = st->pk_nokick, kick = st->tx_kick;
	uint64_t nk = st->n_kick, pkk = st->pk_kick;
	uint32_t i;

	/* Borrow the no-kick histogram, move what the train put there, drop
	 * the rest. */
	for (i = 0; i < CAL_TRAIN; i++)
		bench_probe_send(l, BENCH_SEQ_CAL | i, st, &ts);
	st->cal_nokick = st->tx_nokick - nokick;
	st->cal_n = st->n_nokick - n;
	memcpy(st->h[BENCH_ST_CAL], st->h[BENCH_ST_TX_NOKICK], sizeof(st->h[0]));
	memset(st->h[BENCH_ST_TX_NOKICK], 0, sizeof(st->h[0]));
	memset(st->h[BENCH_ST_TX_KICK], 0, sizeof(st->h[0]));
	st->tx_nokick = nokick;
	st->n_nokick = n;
	st->pk_nokick = pk;
	st->tx_kick = kick;
	st->n_kick = nk;
	st->pk_kick = pkk;
}

static uint64_t hist_sum(const uint64_t *h)
{
	uint64_t n = 0;
	uint32_t b;

	for (b = 0; b < BENCH_HIST_BUCKETS; b++)
		n += h[b];
	return n;
}

static double hist_p50(const uint64_t *h)
{
	uint64_t n = hist_sum(h);

	return n ? bench_hist_pct(h, n, 50) : 0;
}

/* The kick is what calls that kicked cost beyond a call that did not,
 * spread over all packets. With few calls that did not kick (ping-pong
 * kicks every time), the calibration train stands in for them. */
void bench_stage_costs(const struct bench_stages *s, uint64_t packets, double mean[5], double p50[5])
{
	double pk = packets ? (double)packets : 1, per_call = 0, kick = 0, frac;
	const uint64_t *pub = s->h[BENCH_ST_TX_NOKICK];

	if (s->n_nokick >= 16 || !s->cal_n)
		per_call = s->n_nokick ? (double)s->tx_nokick / (double)s->n_nokick : 0;
	else
		per_call = (double)s->cal_nokick / (double)s->cal_n;
	if (s->n_kick) {
		kick = (double)s->tx_kick - per_call * (double)s->n_kick;
		if (kick < 0)
			kick = 0;
	}
	mean[0] = (double)s->harvest / pk;
	mean[1] = (double)s->app / pk;
	mean[2] = (double)s->refill / pk;
	mean[3] = ((double)(s->tx_nokick + s->tx_kick) - kick) / pk;
	mean[4] = kick / pk;

	if (hist_sum(pub) < 16 && hist_sum(s->h[BENCH_ST_CAL]))
		pub = s->h[BENCH_ST_CAL];
	p50[0] = hist_p50(s->h[BENCH_ST_HARVEST]);
	p50[1] = hist_p50(s->h[BENCH_ST_APP]);
	p50[2] = hist_p50(s->h[BENCH_ST_REFILL]);
	p50[3] = hist_p50(pub);
	frac = s->pk_kick + s->pk_nokick ? (double)s->pk_kick / (double)(s->pk_kick + s->pk_nokick) : 0;
	p50[4] = s->n_kick ? (hist_p50(s->h[BENCH_ST_TX_KICK]) - p50[3]) * frac : 0;
	if (p50[4] < 0)
		p50[4] = 0;
	if (s->n_kick && !hist_sum(pub)) {
		/* every call kicked, the calibration train's too: publish is
		 * not separable, and "kick" holds the whole call (-1 = n/a) */
		p50[3] = mean[3] = -1;
		mean[4] = (double)s->tx_kick / pk;
	}
}
