/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The measured loops. Each is the run-to-completion loop of vnet (poll,
 * harvest, work, refill, send; docs/ARCHITECTURE.md),
 * with the stages timed around the public calls when stages=1:
 *   harvest = vnet_rx_burst, app = the mode's own work (fill, macswap,
 *   free), refill = vnet_rx_refill, publish/kick = vnet_tx_burst (split
 *   by whether the TX queue's kick counter moved during the call).
 * With queues=N, one iteration runs the body once per queue pair, each
 * for its own pair (on one vCPU the N loops take turns); latency uses
 * pair 0. Every loop is bounded by the clock and by an iteration count.
 */
#include <errno.h>
#include <string.h>

#include <vnet/baremetal.h>

#include "bm.h"
#include "base/platform.h"

#define MAX_ITERS (1ull << 36)
#define DRAIN_MAX_US 30000000u /* drain=: at most this long */
#define LAT_MAX_LOST_IN_A_ROW 1000
#define CAL_TRAIN 64
#define SEQ_CAL 0x80000000u

enum { W_WAIT, W_WARM, W_MEASURE, W_DONE };

/*
 * The measured window, timed by the HPET when there is one (clock.c): the
 * boot-time TSC calibration can be tens of percent off on a loaded host,
 * which would stretch or shrink a window counted in cycles. The clock is
 * read about once a millisecond (an HPET read is an exit to QEMU), spaced
 * by the TSC; without an HPET, time is the TSC at its boot-time rate.
 */
struct window {
	uint64_t hz;                          /* boot-time TSC rate */
	uint64_t check_every, next_check;     /* cycles between clock reads */
	uint64_t t_wait_end, t_warm_end, t_end; /* deadlines, ns */
	uint64_t c_lo, c_hi, ns_lo, ns_hi;    /* the window's ends: cycles and ns */
	int state, have_ref;
	const struct bm_opts *o;
};

static uint64_t us_to_cycles(uint64_t us, uint64_t hz)
{
	return us * (hz / 1000000) + us * (hz % 1000000) / 1000000;
}

static uint64_t win_ns(const struct window *w, uint64_t cycles)
{
	uint64_t ns;

	if (w->have_ref && bm_clock_ns(&ns) == 0)
		return ns;
	return (uint64_t)((unsigned __int128)cycles * 1000000000u / w->hz);
}

static void win_init(struct window *w, const struct bm_opts *o, int wait_first)
{
	uint64_t now = vnet_cycles(), ns, dummy;

	memset(w, 0, sizeof(*w));
	w->o = o;
	w->hz = vnet_cycles_hz();
	w->have_ref = bm_clock_ns(&dummy) == 0;
	w->check_every = w->hz / 1000;
	w->next_check = now + w->check_every;
	ns = win_ns(w, now);
	w->state = wait_first ? W_WAIT : W_WARM;
	w->t_wait_end = ns + o->wait_us * 1000;
	w->t_warm_end = ns + o->warmup_us * 1000;
}

/* Advance the window's state at TSC time @now; @got_traffic starts the
 * warm-up of a mode that waits for its first frame. */
static void win_tick(struct window *w, uint64_t now, int got_traffic)
{
	uint64_t ns;

	if (now < w->next_check && !(got_traffic && w->state == W_WAIT))
		return;
	w->next_check = now + w->check_every;
	ns = win_ns(w, now);
	switch (w->state) {
	case W_WAIT:
		if (got_traffic) {
			w->state = W_WARM;
			w->t_warm_end = ns + w->o->warmup_us * 1000;
		} else if (ns >= w->t_wait_end) {
			w->state = W_DONE;
		}
		break;
	case W_WARM:
		if (ns >= w->t_warm_end) {
			w->state = W_MEASURE;
			w->c_lo = vnet_cycles();
			w->ns_lo = ns;
			w->t_end = ns + w->o->duration_us * 1000;
		}
		break;
	case W_MEASURE:
		/* packets of the iteration that crossed the end were counted */
		if (ns >= w->t_end) {
			w->state = W_DONE;
			w->c_hi = vnet_cycles();
			w->ns_hi = ns;
		}
		break;
	default:
		break;
	}
}

/* The window's length into @res; -ETIMEDOUT if it never closed. */
static int win_result(const struct window *w, struct bm_result *res)
{
	if (w->ns_hi <= w->ns_lo || w->c_hi <= w->c_lo)
		return -ETIMEDOUT;
	res->cycles = w->c_hi - w->c_lo;
	res->ref_ns = w->ns_hi - w->ns_lo;
	res->ref_hpet = w->have_ref;
	return 0;
}

static inline uint64_t stamp(int on)
{
	return on ? vnet_cycles() : 0;
}

static uint64_t tx_kicks(const struct bm_rig *r, uint16_t q)
{
	struct vnet_queue_stats s;

	vnet_queue_stats(r->dev, q, false, &s);
	return s.kicks;
}

/* One vnet_tx_burst on queue @q, timed and classified when @st is not NULL. */
static uint16_t tx_timed(struct bm_rig *r, uint16_t q, struct vnet_buf **b, uint16_t n, struct bm_stages *st)
{
	uint64_t k0, t0, t1;
	uint16_t sent;

	if (!st)
		return vnet_tx_burst(r->dev, q, b, n);
	k0 = tx_kicks(r, q);
	t0 = vnet_cycles();
	sent = vnet_tx_burst(r->dev, q, b, n);
	t1 = vnet_cycles();
	if (sent == 0)
		return 0; /* ring full: no packet to charge it to */
	if (tx_kicks(r, q) != k0) {
		st->tx_kick += t1 - t0;
		st->n_kick++;
		st->pk_kick += sent;
		st->h[BM_ST_TX_KICK][bm_hist_bucket((t1 - t0) / sent)]++;
	} else {
		st->tx_nokick += t1 - t0;
		st->n_nokick++;
		st->pk_nokick += sent;
		st->h[BM_ST_TX_NOKICK][bm_hist_bucket((t1 - t0) / sent)]++;
	}
	return sent;
}

static void add_stages(struct bm_stages *st, uint16_t n, uint64_t harvest, uint64_t app, uint64_t refill)
{
	st->harvest += harvest;
	st->app += app;
	st->refill += refill;
	st->h[BM_ST_HARVEST][bm_hist_bucket(harvest / n)]++;
	st->h[BM_ST_APP][bm_hist_bucket(app / n)]++;
	st->h[BM_ST_REFILL][bm_hist_bucket(refill / n)]++;
}

static void fill_burst(struct vnet_buf **b, uint16_t n, const uint8_t *tmpl, uint32_t frame)
{
	uint32_t head = frame < 64 ? frame : 64;
	uint16_t i;

	for (i = 0; i < n; i++) {
		memcpy(b[i]->data, tmpl, head);
		b[i]->len = frame;
	}
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Send one probe: 0, or -ENOBUFS when the pool or the TX ring is full. */
static int send_probe(struct bm_rig *r, const uint8_t *tmpl, uint32_t frame, uint32_t seq,
                      struct bm_stages *st, uint64_t *t_sent)
{
	struct vnet_buf *b = vnet_buf_alloc(r->pool);
	uint64_t ts;

	if (!b) {
		vnet_tx_reclaim(r->dev, 0);
		return -ENOBUFS;
	}
	fill_burst(&b, 1, tmpl, frame);
	memcpy(b->data + BM_OFF_SEQ, &seq, 4);
	ts = vnet_cycles();
	memcpy(b->data + BM_OFF_TS, &ts, 8);
	if (tx_timed(r, 0, &b, 1, st) != 1) {
		vnet_buf_free(b);
		return -ENOBUFS;
	}
	*t_sent = ts;
	return 0;
}

/* A train of back-to-back probes: most of these calls find the device
 * still busy and do not kick, which gives publish's own cost even when
 * every ping-pong send kicks. Replies are drained later as "other". */
static void calibrate(struct bm_rig *r, const uint8_t *tmpl, uint32_t frame, struct bm_stages *st)
{
	uint64_t ts, nokick = st->tx_nokick, n = st->n_nokick, pk = st->pk_nokick, kick = st->tx_kick;
	uint64_t nk = st->n_kick, pkk = st->pk_kick;
	uint32_t i;

	/* Called before anything is counted in the window: borrow the no-kick
	 * histogram, move what the train put there, drop the rest. */
	for (i = 0; i < CAL_TRAIN; i++)
		send_probe(r, tmpl, frame, SEQ_CAL | i, st, &ts);
	st->cal_nokick = st->tx_nokick - nokick;
	st->cal_n = st->n_nokick - n;
	memcpy(st->h[BM_ST_CAL], st->h[BM_ST_TX_NOKICK], sizeof(st->h[0]));
	memset(st->h[BM_ST_TX_NOKICK], 0, sizeof(st->h[0]));
	memset(st->h[BM_ST_TX_KICK], 0, sizeof(st->h[0]));
	st->tx_nokick = nokick;
	st->n_nokick = n;
	st->pk_nokick = pk;
	st->tx_kick = kick;
	st->n_kick = nk;
	st->pk_kick = pkk;
}

/* Is one of these frames the bench's (the peer's generator or pinger)? */
static int ours(struct vnet_buf *const *b, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		if (b[i]->len >= BM_OFF_SEQ && get32(b[i]->data + BM_OFF_MAGIC) == BM_MAGIC)
			return 1;
	return 0;
}

/* One pass of the run-to-completion body for queue pair @q: txonly
 * reclaims and sends a burst; rxonly harvests, frees and refills; forward
 * harvests, swaps the MACs, sends back and refills. Returns the packets
 * it moved (sent, for forward) and times the stages into @st when set.
 * With @check, *@seen says whether a harvest held one of the bench's
 * frames (a scan kept out of the measured window). */
static uint16_t step(struct bm_rig *r, const struct bm_opts *o, uint16_t q, const uint8_t *tmpl,
                     struct bm_stages *st, int check, int *seen)
{
	struct vnet_buf *b[BM_MAX_BURST];
	uint64_t t0, t1, t2, t3, t4;
	uint16_t n, sent = 0, i;

	t0 = stamp(st != NULL);
	if (o->mode == BM_TXONLY) {
		/* take back what the device sent, then fill only free slots:
		 * the TX reclaim is this mode's harvest */
		uint16_t room;

		vnet_tx_reclaim(r->dev, q);
		room = vnet_tx_free(r->dev, q);
		n = room < o->burst ? room : o->burst;
		t1 = stamp(st != NULL);
		if (n && vnet_pool_alloc_bulk(r->pool, b, n) == 0) {
			fill_burst(b, n, tmpl, o->frame);
			t2 = stamp(st != NULL);
			sent = tx_timed(r, q, b, n, st);
			if (sent < n)
				vnet_pool_free_bulk(b + sent, (uint32_t)(n - sent));
		} else {
			t2 = t1;
		}
		if (st && sent)
			add_stages(st, sent, t1 - t0, t2 - t1, 0);
		return sent;
	}
	n = vnet_rx_burst(r->dev, q, b, o->burst);
	t1 = stamp(st != NULL);
	if (check)
		*seen = ours(b, n);
	if (o->mode == BM_RXONLY) {
		vnet_pool_free_bulk(b, n);
		t2 = t3 = stamp(st != NULL);
	} else {
		for (i = 0; i < n; i++)
			bm_macswap(b[i]->data);
		t2 = stamp(st != NULL);
		sent = n ? tx_timed(r, q, b, n, st) : 0;
		t3 = stamp(st != NULL);
		if (sent < n)
			vnet_pool_free_bulk(b + sent, (uint32_t)(n - sent));
		n = sent;
	}
	vnet_rx_refill(r->dev, q);
	t4 = stamp(st != NULL);
	if (st && n)
		add_stages(st, n, t1 - t0, t2 - t1, t4 - t3);
	return n;
}

/* idle_us: every RX queue armed, none with a frame already: halt until
 * the next frame's MSI-X message or 5 ms. @return 1 when it halted. */
static int idle_halt(struct bm_rig *r, const struct bm_opts *o)
{
	int ready = 0, halted = 0;
	uint16_t q;

	for (q = 0; q < o->queues; q++)
		ready |= vnet_dev_rx_intr_enable(r->dev, q) != 0;
#ifdef VNET_BAREMETAL_HAS_IDLE
	if (!ready)
		halted = vnet_idle_wait(5000) >= 0;
#endif
	for (q = 0; q < o->queues; q++)
		vnet_dev_rx_intr_disable(r->dev, q);
	return halted;
}

/* drain=: rxonly, after the window, keep taking frames (every pair) until
 * none came for o->drain_us: the whole-run counters then hold every frame
 * the device took in, which a peer's sent count can be held against. */
static void drain_rx(struct bm_rig *r, const struct bm_opts *o, const uint8_t (*tmpl)[BM_MAX_FRAME],
                     struct bm_result *res)
{
	uint64_t hz = vnet_cycles_hz(), quiet = us_to_cycles(o->drain_us, hz), last = vnet_cycles();
	uint64_t bound = last + us_to_cycles(DRAIN_MAX_US, hz), it;

	for (it = 0; it < MAX_ITERS; it++) {
		uint64_t now;
		uint32_t moved = 0;
		uint16_t q;

		for (q = 0; q < o->queues; q++)
			moved += step(r, o, q, tmpl[q], NULL, 0, NULL);
		res->drained += moved;
		now = vnet_cycles();
		if (moved)
			last = now;
		else if (now - last >= quiet || now >= bound)
			break;
	}
}

/* txonly, rxonly, forward: throughput, over o->queues pairs in turn. */
static int run_pps(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res)
{
	/* one template per pair: pair q sends from UDP port BM_UDP_PORT + q,
	 * one flow per queue (pair 0's frames are the single-queue ones) */
	static uint8_t tmpl[BM_MAX_QUEUES][BM_MAX_FRAME];
	struct bm_opts qo = *o;
	struct window w;
	uint64_t it, now, idle_since = 0, idle_cyc;
	uint16_t q;
	int calibrated = 0;

	for (q = 0; q < o->queues; q++) {
		qo.sport = (uint16_t)(BM_UDP_PORT + q);
		bm_frame_build(tmpl[q], &qo, o->frame);
	}
	win_init(&w, o, o->mode != BM_TXONLY);
	idle_cyc = r->irq && o->mode != BM_TXONLY ? us_to_cycles(o->idle_us, vnet_cycles_hz()) : 0;
	for (it = 0; it < MAX_ITERS && w.state != W_DONE; it++) {
		struct bm_stages *st;
		uint32_t moved = 0;
		int seen_any = 0;

		if (o->mode == BM_FORWARD && o->stages && w.state == W_MEASURE && !calibrated) {
			calibrate(r, tmpl[0], o->frame, &res->st);
			calibrated = 1;
		}
		/* count stages only inside the measured window */
		st = (o->stages && w.state == W_MEASURE) ? &res->st : NULL;
		for (q = 0; q < o->queues; q++) {
			int seen = 1;
			uint16_t n = step(r, o, q, tmpl[q], st, w.state == W_WAIT, &seen);

			if (n == 0) {
				if (w.state == W_MEASURE)
					res->idle_polls++;
				continue;
			}
			moved += n;
			seen_any |= seen;
			if (w.state == W_MEASURE) {
				res->packets += n;
				res->q_packets[q] += n;
				res->bytes += (uint64_t)n * o->frame;
			}
		}
		if (moved == 0 && o->relax)
			vnet_cpu_relax();
		now = vnet_cycles();
		if (moved != 0 || !idle_cyc) {
			idle_since = 0;
		} else if (!idle_since) {
			idle_since = now;
		} else if (now - idle_since >= idle_cyc) {
			if (idle_halt(r, o) && w.state == W_MEASURE)
				res->halts++;
			idle_since = 0;
			now = vnet_cycles(); /* after the halt */
		}
		/* the window opens on the first bench frame, not on whatever the
		 * host stack says when the tap comes up (IPv6 ND, MLD) */
		win_tick(&w, now, moved != 0 && seen_any);
	}
	if (res->packets == 0)
		return -ETIMEDOUT; /* never saw traffic */
	if (o->mode == BM_RXONLY && o->drain_us)
		drain_rx(r, o, (const uint8_t (*)[BM_MAX_FRAME])tmpl, res);
	return win_result(&w, res);
}

/* latency: ping-pong with a reflector on the other end (the host peer's
 * `reflect`, or another vnet-bench in forward mode). */
static int run_latency(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res)
{
	static uint8_t tmpl[BM_MAX_FRAME];
	struct vnet_buf *in[BM_MAX_BURST];
	struct bm_stages *st;
	struct window w;
	uint64_t timeout, it, lost_in_a_row = 0;
	uint32_t seq = 0;
	int calibrated = 0;

	bm_frame_build(tmpl, o, o->frame);
	win_init(&w, o, 1);
	timeout = us_to_cycles(o->timeout_us, w.hz);
	for (it = 0; it < MAX_ITERS && w.state != W_DONE; it++) {
		uint64_t t_sent, t_deadline, now = 0, t0 = 0, t1 = 0, t2;
		uint32_t spins;
		int got = 0;

		if (w.state == W_MEASURE && !calibrated && o->stages) {
			calibrate(r, tmpl, o->frame, &res->st);
			calibrated = 1;
		}
		st = (o->stages && w.state == W_MEASURE) ? &res->st : NULL;
		seq = (seq + 1) & ~SEQ_CAL;
		if (send_probe(r, tmpl, o->frame, seq, st, &t_sent)) {
			win_tick(&w, vnet_cycles(), 0);
			continue;
		}
		t_deadline = t_sent + timeout;
		/* poll for the reply: bounded by the deadline and a spin count */
		for (spins = 0; spins < 100000000u && !got; spins++) {
			uint16_t n, i;

			t0 = vnet_cycles();
			n = vnet_rx_burst(r->dev, 0, in, BM_MAX_BURST);
			t1 = vnet_cycles();
			for (i = 0; i < n; i++) {
				const uint8_t *d = in[i]->data;
				if (in[i]->len >= BM_OFF_TS + 8 && get32(d + BM_OFF_MAGIC) == BM_MAGIC &&
				    get32(d + BM_OFF_SEQ) == seq)
					got = 1;
				else
					res->other++;
			}
			if (got)
				now = t1; /* the reply is the application's from here */
			vnet_pool_free_bulk(in, n);
			t2 = vnet_cycles();
			if (n)
				vnet_rx_refill(r->dev, 0);
			if (got && st)
				add_stages(st, 1, t1 - t0, t2 - t1, vnet_cycles() - t2);
			if (t1 >= t_deadline)
				break;
		}
		if (got) {
			lost_in_a_row = 0;
			if (w.state == W_MEASURE) {
				uint64_t c = now - t_sent;
				res->hist[bm_hist_bucket(c)]++;
				if (c > res->max_cycles)
					res->max_cycles = c;
				res->samples++;
				res->packets++;
				res->q_packets[0]++;
				res->bytes += o->frame;
			}
		} else {
			if (w.state == W_MEASURE)
				res->lost++;
			if (w.state != W_WAIT && ++lost_in_a_row > LAT_MAX_LOST_IN_A_ROW)
				break;
		}
		win_tick(&w, vnet_cycles(), got);
	}
	if (res->samples == 0)
		return -ETIMEDOUT;
	return win_result(&w, res);
}

static void stats_add(struct vnet_queue_stats *sum, const struct vnet_queue_stats *s)
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

int bm_run(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res)
{
	uint16_t q;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = o->mode == BM_LATENCY ? run_latency(r, o, res) : run_pps(r, o, res);
	for (q = 0; q < o->queues; q++) {
		vnet_queue_stats(r->dev, q, true, &res->rxq[q]);
		vnet_queue_stats(r->dev, q, false, &res->txq[q]);
		stats_add(&res->rx, &res->rxq[q]);
		stats_add(&res->tx, &res->txq[q]);
	}
	return rc;
}
