/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The measured loops and their report. Each iteration runs one pass of
 * the mode (bench/core/modes.c: vnet's run-to-completion body) for each
 * queue pair in turn (on one vCPU the N loops take turns; latency uses
 * pair 0), with the stages timed when stages=1 (bench/core/stages.h),
 * inside a window timed by the HPET when there is one. Every loop is
 * bounded by the clock and by an iteration count.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vnet/baremetal.h>

#include "bm.h"
#include "base/platform.h"
#include "core/modes.h"
#include "core/out.h"

#define MAX_ITERS (1ull << 36)
#define DRAIN_MAX_US 30000000u /* drain=: at most this long */
#define LAT_MAX_LOST_IN_A_ROW 1000
#define LAT_MAX_POLLS 100000000u

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

/* Pair @q's lane: its frames from template @tmpl. */
static void lane_init(struct bench_lane *l, const struct bm_rig *r, const struct bm_opts *o, uint16_t q,
                      const uint8_t *tmpl)
{
	memset(l, 0, sizeof(*l));
	l->dev = r->dev;
	l->pool = r->pool;
	l->q = q;
	l->burst = o->burst;
	l->frame = o->frame;
	l->tmpl = tmpl;
	l->reclaim_first = 1;
	if (o->rss || o->hash)
		l->rx_note = bm_rss_note;
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

/* txwait_us: less than a burst fitted in the TX ring, which holds far
 * more than txwait_us of the device's work: halt until the timer (no
 * interrupt is armed for TX) instead of polling for room. @return 1 when
 * it halted. */
static int tx_wait(const struct bm_opts *o)
{
#ifdef VNET_BAREMETAL_HAS_IDLE
	return vnet_idle_wait(o->txwait_us) >= 0;
#else
	(void)o;
	return 0;
#endif
}

/* After a halt (@did) that began at TSC time @since: count it and its
 * cycles when the window is measuring. @return the time after it. */
static uint64_t halted(struct bm_result *res, const struct window *w, uint64_t since, int did)
{
	uint64_t now = vnet_cycles();

	if (did && w->state == W_MEASURE) {
		res->halts++;
		res->halt_cycles += now - since;
	}
	return now;
}

/* drain=: rxonly, after the window, keep taking frames (every pair) until
 * none came for o->drain_us: the whole-run counters then hold every frame
 * the device took in, which a peer's sent count can be held against. */
static void drain_rx(const struct bench_lane *lanes, const struct bm_opts *o, struct bm_result *res)
{
	uint64_t hz = vnet_cycles_hz(), quiet = us_to_cycles(o->drain_us, hz), last = vnet_cycles();
	uint64_t bound = last + us_to_cycles(DRAIN_MAX_US, hz), it;

	for (it = 0; it < MAX_ITERS; it++) {
		uint64_t now;
		uint32_t moved = 0;
		uint16_t q;

		for (q = 0; q < o->queues; q++)
			moved += bench_step(&lanes[q], o->mode, NULL, NULL);
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
	/* one template per pair: pair q sends from UDP port BENCH_UDP_PORT + q,
	 * one flow per queue (pair 0's frames are the single-queue ones) */
	static uint8_t tmpl[BM_MAX_QUEUES][BENCH_MAX_FRAME];
	static struct bench_lane lanes[BM_MAX_QUEUES];
	struct bench_frame_conf fc = o->fc;
	struct window w;
	uint64_t it, now, idle_since = 0, idle_cyc;
	uint16_t q;
	int calibrated = 0, txwait;

	for (q = 0; q < o->queues; q++) {
		fc.sport = (uint16_t)(BENCH_UDP_PORT + q);
		bench_frame_build(tmpl[q], &fc, o->frame);
		lane_init(&lanes[q], r, o, q, tmpl[q]);
	}
	win_init(&w, o, o->mode != BENCH_TXONLY);
	idle_cyc = r->irq && o->mode != BENCH_TXONLY ? us_to_cycles(o->idle_us, vnet_cycles_hz()) : 0;
	txwait = o->mode == BENCH_TXONLY && o->txwait_us;
	for (it = 0; it < MAX_ITERS && w.state != W_DONE; it++) {
		struct bench_stages *st;
		uint32_t moved = 0;
		int seen_any = 0;

		if (o->mode == BENCH_FORWARD && o->stages && w.state == W_MEASURE && !calibrated) {
			bench_calibrate(&lanes[0], &res->st);
			calibrated = 1;
		}
		/* count stages only inside the measured window */
		st = (o->stages && w.state == W_MEASURE) ? &res->st : NULL;
		for (q = 0; q < o->queues; q++) {
			int seen = 1;
			uint16_t n = bench_step(&lanes[q], o->mode, st, w.state == W_WAIT ? &seen : NULL);

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
			now = halted(res, &w, now, idle_halt(r, o));
			idle_since = 0;
		}
		if (txwait && moved < (uint32_t)o->burst * o->queues)
			now = halted(res, &w, now, tx_wait(o));
		/* the window opens on the first bench frame, not on whatever the
		 * host stack says when the tap comes up (IPv6 ND, MLD) */
		win_tick(&w, now, moved != 0 && seen_any);
	}
	if (res->packets == 0)
		return -ETIMEDOUT; /* never saw traffic */
	if (o->mode == BENCH_RXONLY && o->drain_us)
		drain_rx(lanes, o, res);
	return win_result(&w, res);
}

/* latency: ping-pong with a reflector on the other end (the host peer's
 * `reflect`, or another vnet-bench in forward mode). */
static int run_latency(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res)
{
	static uint8_t tmpl[BENCH_MAX_FRAME];
	struct bench_lane lane;
	struct bench_stages *st;
	struct window w;
	uint64_t timeout, it, lost_in_a_row = 0;
	uint32_t seq = 0;
	int calibrated = 0;

	bench_frame_build(tmpl, &o->fc, o->frame);
	lane_init(&lane, r, o, 0, tmpl);
	win_init(&w, o, 1);
	timeout = us_to_cycles(o->timeout_us, w.hz);
	for (it = 0; it < MAX_ITERS && w.state != W_DONE; it++) {
		uint64_t c = 0;
		int got;

		if (w.state == W_MEASURE && !calibrated && o->stages) {
			bench_calibrate(&lane, &res->st);
			calibrated = 1;
		}
		st = (o->stages && w.state == W_MEASURE) ? &res->st : NULL;
		seq = (seq + 1) & ~BENCH_SEQ_CAL;
		got = bench_rtt(&lane, seq, timeout, LAT_MAX_POLLS, st, &c, &res->other);
		if (got < 0) { /* pool or TX ring full: try again */
			win_tick(&w, vnet_cycles(), 0);
			continue;
		}
		if (got) {
			lost_in_a_row = 0;
			if (w.state == W_MEASURE) {
				res->hist[bench_hist_bucket(c)]++;
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

int bm_run(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res)
{
	uint16_t q;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = o->mode == BENCH_LATENCY ? run_latency(r, o, res) : run_pps(r, o, res);
	for (q = 0; q < o->queues; q++) {
		vnet_queue_stats(r->dev, q, true, &res->rxq[q]);
		vnet_queue_stats(r->dev, q, false, &res->txq[q]);
		bench_stats_add(&res->rx, &res->rxq[q]);
		bench_stats_add(&res->tx, &res->txq[q]);
	}
	return rc;
}

/* ---- the report: bench/core/out.c's JSON line and table, then the
 * bare-metal image's own lines (per queue, stages, histogram) ---------- */

/* Each pair's counts: a JSON line and one text line per pair. */
static void report_queues(const struct bm_opts *o, const struct bm_result *res)
{
	static const char *const keys[4] = {"window", "rx", "tx", "rx_pool_empty"};
	uint16_t q;
	int k;

	printf("{\"per_queue\":\"%s\",\"frame\":%u,\"queues\":%u", bench_mode_names[o->mode], (unsigned)o->frame,
	       (unsigned)o->queues);
	for (k = 0; k < 4; k++) {
		printf(",\"%s\":[", keys[k]);
		for (q = 0; q < o->queues; q++) {
			uint64_t v = k == 0 ? res->q_packets[q] : k == 1 ? res->rxq[q].packets :
			             k == 2 ? res->txq[q].packets : res->rxq[q].drop_pool_empty;
			printf("%s%llu", q ? "," : "", (unsigned long long)v);
		}
		printf("]");
	}
	printf("}\n");
	for (q = 0; q < o->queues; q++)
		printf("queue %u: %llu packets in the window; %llu received, %llu sent in the whole run\n", (unsigned)q,
		       (unsigned long long)res->q_packets[q], (unsigned long long)res->rxq[q].packets,
		       (unsigned long long)res->txq[q].packets);
}

static void report_stages(const struct bm_opts *o, const struct bm_result *res, double hz, const double c[5],
                          const double mean[5])
{
	static const char *const stage[5] = {"harvest", "app", "refill", "publish", "kick"};
	int i;

	printf("stages: median harvest %.0f app %.0f refill %.0f publish %.0f kick %.0f cycles/packet; "
	       "means %.0f %.0f %.0f %.0f %.0f (tsc %.0f MHz by the %s; %llu of %llu tx calls kicked; %llu idle polls; "
	       "%llu other frames)\n",
	       c[0], c[1], c[2], c[3], c[4], mean[0], mean[1], mean[2], mean[3], mean[4], hz / 1e6,
	       res->ref_hpet ? "HPET over the window" : "boot calibration", (unsigned long long)res->st.n_kick,
	       (unsigned long long)(res->st.n_kick + res->st.n_nokick), (unsigned long long)res->idle_polls,
	       (unsigned long long)res->other);
	if (!o->stages)
		return;
	printf("{\"stages\":\"%s\",\"frame\":%u,\"unit\":\"cycles/packet\",\"tsc_mhz\":%.0f,\"p50\":{",
	       bench_mode_names[o->mode], (unsigned)o->frame, hz / 1e6);
	for (i = 0; i < 5; i++)
		printf("%s\"%s\":%.0f", i ? "," : "", stage[i], c[i]);
	printf("},\"mean\":{");
	for (i = 0; i < 5; i++)
		printf("%s\"%s\":%.0f", i ? "," : "", stage[i], mean[i]);
	printf("},\"tx_calls\":%llu,\"tx_calls_kicked\":%llu}\n",
	       (unsigned long long)(res->st.n_kick + res->st.n_nokick), (unsigned long long)res->st.n_kick);
}

/* The share of the measured window the vCPU was not halted. */
static double busy_share(const struct bm_result *res)
{
	uint64_t halt = res->halt_cycles < res->cycles ? res->halt_cycles : res->cycles;

	return res->cycles ? (double)(res->cycles - halt) / (double)res->cycles : 0;
}

void bm_report(const struct bm_rig *r, const struct bm_opts *o, const struct bm_result *res)
{
	char backend[16];
	struct bench_row row = {0};
	/* the TSC rate over the window by the HPET when there is one; else the
	 * platform's boot-time calibration */
	double hz = res->ref_ns ? (double)res->cycles * 1e9 / (double)res->ref_ns : (double)vnet_cycles_hz();
	double secs = (double)res->ref_ns / 1e9, mean[5], c[5], ns = 1e9 / hz;
	int lat = o->mode == BENCH_LATENCY;

	bench_stage_costs(&res->st, res->packets, mean, c);
	snprintf(backend, sizeof(backend), "qemu-%s", r->transport);
	bench_row_str(&row, "backend", backend);
	bench_row_str(&row, "mode", bench_mode_names[o->mode]);
	bench_row_u64(&row, "frame", o->frame);
	bench_row_u64(&row, "burst", lat ? 1 : o->burst);
	bench_row_u64(&row, "ring", o->ring);
	bench_row_u64(&row, "queues", o->queues);
	bench_row_u64(&row, "idle_us", r->irq ? o->idle_us : 0);
	bench_row_u64(&row, "halts", res->halts);
	bench_row_u64(&row, "txwait_us", o->mode == BENCH_TXONLY ? o->txwait_us : 0);
	/* what the guest spent per packet: the window's cycles less those it
	 * spent halted, over the packets (a loop that spins is busy all along) */
	bench_row_num(&row, "busy_share", "%.4f", busy_share(res));
	bench_row_num(&row, "busy_cyc_per_pkt", "%.0f",
	              res->packets ? busy_share(res) * (double)res->cycles / (double)res->packets : 0);
	bench_row_rate(&row, res->packets, res->bytes, secs, "%.4f");
	bench_row_kicks(&row, &res->rx, &res->tx);
	bench_row_u64(&row, "lost", res->lost);
	bench_row_pcts(&row, lat ? res->hist : NULL, res->samples, ns, (double)res->max_cycles * ns);
	bench_row_num(&row, "cyc_harvest", "%.0f", c[0]);
	bench_row_num(&row, "cyc_app", "%.0f", c[1]);
	bench_row_num(&row, "cyc_refill", "%.0f", c[2]);
	bench_row_num(&row, "cyc_publish", "%.0f", c[3]);
	bench_row_num(&row, "cyc_kick", "%.0f", c[4]);
	/* whole-run counters (warm-up and the tail included): what a peer
	 * counted over the whole run is compared with these */
	bench_row_u64(&row, "rx_total", res->rx.packets);
	bench_row_u64(&row, "tx_total", res->tx.packets);
	bench_emit(&row);
	report_queues(o, res);
	bm_rss_report(r, o);
	if (o->mode == BENCH_RXONLY && o->drain_us)
		printf("vnet-bench-bm: drained %llu frames after the window (until none came for %llu ms); "
		       "the whole-run counts hold them\n",
		       (unsigned long long)res->drained, (unsigned long long)(o->drain_us / 1000));
	report_stages(o, res, hz, c, mean);
	if (lat && o->hist) {
		/* buckets were kept in cycles: their lower edges, converted */
		printf("{\"hist\":\"guest_rtt\",\"unit\":\"ns\",\"frame\":%u,\"buckets\":[", (unsigned)o->frame);
		bench_hist_json(stdout, res->hist, ns);
		printf("]}\n");
	}
}
