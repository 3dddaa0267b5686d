/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cycles spent in each stage of a mode's pass, timed around the public
 * calls: harvest = vnet_rx_burst (txonly: the TX reclaim), app = the
 * mode's own work (fill, macswap, free), refill = vnet_rx_refill,
 * publish/kick = vnet_tx_burst. The kick is not separable from
 * vnet_tx_burst from outside, so calls are split by whether the queue's
 * kick counter moved. vnet-bench-bm reports these; vnet-bench has the
 * library's own VNET_STAGE_CYCLES instead.
 */
#ifndef VNET_BENCH_STAGES_H
#define VNET_BENCH_STAGES_H

#include <stdint.h>

#include <vnet/vnet.h>

#include "core/hist.h"

struct bench_lane;

enum { BENCH_ST_HARVEST, BENCH_ST_APP, BENCH_ST_REFILL, BENCH_ST_TX_NOKICK, BENCH_ST_TX_KICK, BENCH_ST_CAL,
       BENCH_ST_N };

/* Over iterations that moved packets. */
struct bench_stages {
	uint64_t harvest, app, refill;
	uint64_t tx_nokick, tx_kick;      /* cycles in vnet_tx_burst calls */
	uint64_t n_nokick, n_kick;        /* number of such calls */
	uint64_t pk_nokick, pk_kick;      /* packets those calls accepted */
	uint64_t cal_nokick, cal_n;       /* calibration train (bench_calibrate) */
	/* the same, per packet, as histograms of cycles (hist.h): means
	 * suffer from a loaded host's stalls, medians much less */
	uint64_t h[BENCH_ST_N][BENCH_HIST_BUCKETS];
};

/* Sequence numbers of the calibration train's probes have this bit. */
#define BENCH_SEQ_CAL 0x80000000u

/* One vnet_tx_burst on queue @q, timed and classified when @st is not NULL. */
uint16_t bench_tx_timed(struct vnet_dev *dev, uint16_t q, struct vnet_buf **b, uint16_t n,
                        struct bench_stages *st);
/* Charge @n packets with the cycles of harvest, app and refill. */
void bench_stages_add(struct bench_stages *st, uint16_t n, uint64_t harvest, uint64_t app, uint64_t refill);
/* A train of back-to-back probes on @l: most of these calls find the
 * device still busy and do not kick, which gives publish's own cost even
 * when every ping-pong send kicks. Call it before anything is counted;
 * the replies come back later as frames not the bench's reply. */
void bench_calibrate(const struct bench_lane *l, struct bench_stages *st);
/* Cycles per packet of each stage over @packets, means (@mean) and
 * medians (@p50): harvest, app, refill, publish, kick; -1 where publish
 * is not separable from the kick. */
void bench_stage_costs(const struct bench_stages *s, uint64_t packets, double mean[5], double p50[5]);

#endif
