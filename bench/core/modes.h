/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmark's modes, once for vnet-bench (Linux) and vnet-bench-bm
 * (bare metal): each is one pass of vnet's run-to-completion body (poll,
 * harvest, work, refill, send; docs/ARCHITECTURE.md) on one queue pair,
 * through the public API only. The front ends own the device, the clock
 * and the measured window, and call these in their loops.
 */
#ifndef VNET_BENCH_MODES_H
#define VNET_BENCH_MODES_H

#include <stdint.h>

#include <vnet/vnet.h>

#include "core/opts.h"
#include "core/stages.h"

#define BENCH_MAX_BURST 256

/* One queue pair of a device, and how the bench drives it. */
struct bench_lane {
	struct vnet_dev *dev;
	struct vnet_pool *pool;
	uint16_t q;
	uint16_t burst;
	uint32_t frame;        /* bytes per frame */
	const uint8_t *tmpl;   /* frame.h's frame, copied into what is sent
	                        * (NULL: txonly sets the length only) */
	/* txonly: take back what the device sent, then fill only the free
	 * slots (the reclaim is the harvest stage); else fill a whole burst
	 * and let vnet_tx_burst reclaim, as the driver's instruction count
	 * (tools/ipp) expects */
	int reclaim_first;
	/* the device's side of the work when it runs in this thread (the
	 * model): called before each pass and each poll for a reply */
	void (*poll)(void *arg);
	void *poll_arg;
	/* rxonly: shown each harvest before it is freed (NULL: nothing), for
	 * a front end that looks at what arrived where (vnet-bench-bm's RSS
	 * flows) */
	void (*rx_note)(void *arg, uint16_t q, struct vnet_buf *const *b, uint16_t n);
	void *rx_note_arg;
};

/* Give @n buffers the lane's frame: its first 64 bytes (headers and
 * probe fields) from the template, and its length. */
void bench_fill(const struct bench_lane *l, struct vnet_buf **b, uint16_t n);

/*
 * One pass of a mode. txonly sends a burst (see reclaim_first); rxonly
 * harvests, frees
 * and refills; forward harvests, swaps the MACs, sends back and refills.
 * They return the packets moved (sent, for forward) and time the stages
 * into @st when it is not NULL. With @seen, *@seen says whether a harvest
 * held one of the bench's frames (frame.h's magic).
 */
uint16_t bench_txonly(const struct bench_lane *l, struct bench_stages *st);
uint16_t bench_rxonly(const struct bench_lane *l, struct bench_stages *st, int *seen);
uint16_t bench_forward(const struct bench_lane *l, struct bench_stages *st, int *seen);
/* The lane's poll, then one pass of @mode (txonly, rxonly or forward). */
uint16_t bench_step(const struct bench_lane *l, enum bench_mode mode, struct bench_stages *st, int *seen);

/* txonly with chains: a burst of frames, each @segs buffers (the first
 * with 54 bytes of headers, the payload spread over the others). */
uint16_t bench_tx_chains(const struct bench_lane *l, uint16_t segs);

/* Latency probes: the lane's frame with sequence number @seq and the
 * sending time in cycles (*@t_sent). 0, or -ENOBUFS when the pool or the
 * TX ring is full (the TX ring then reclaimed). */
int bench_probe_send(const struct bench_lane *l, uint32_t seq, struct bench_stages *st, uint64_t *t_sent);
/*
 * One round trip: send probe @seq, then poll for its reply until
 * @timeout cycles went by or @max_polls polls. 1: *@rtt is the cycles from
 * the send to the harvest that took it; 0: no reply; -ENOBUFS: not sent.
 * Frames that are not the reply are freed and counted in *@other.
 */
int bench_rtt(const struct bench_lane *l, uint32_t seq, uint64_t timeout, uint32_t max_polls,
              struct bench_stages *st, uint64_t *rtt, uint64_t *other);

/* Sum a queue's counters into @sum. */
void bench_stats_add(struct vnet_queue_stats *sum, const struct vnet_queue_stats *s);

#endif
