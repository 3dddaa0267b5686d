/* SPDX-License-Identifier: BSD-3-Clause */
/* vnet-bench-bm: the benchmark as a bare-metal image (see main.c). */
#ifndef VNET_BENCH_BM_H
#define VNET_BENCH_BM_H

#include <stdint.h>

#include <vnet/vnet.h>

#include "core/frame.h"
#include "core/hist.h"
#include "core/opts.h"
#include "core/stages.h"

#define BM_MAX_QUEUES 16 /* queue pairs the bench drives (queues=N) */

struct bm_opts {
	enum bench_mode mode; /* txonly, rxonly, forward or latency */
	uint32_t frame;
	uint16_t burst, ring, txring;
	uint32_t pool;
	uint64_t duration_us, warmup_us;
	uint64_t wait_us;     /* rxonly/forward/latency: first-frame wait */
	uint64_t timeout_us;  /* latency: one round trip's limit */
	struct bench_frame_conf fc; /* src: the device's MAC, sport: per pair */
	int stages;           /* per-stage cycle accounting */
	int hist;             /* print the latency histogram */
	int relax;            /* PAUSE on an idle poll */
	uint16_t queues;      /* queue pairs, one loop body each */
	int log;              /* the library's log level (enum vnet_log_level) */
	uint32_t idle_us;     /* rxonly/forward: halt after this long without a frame (0: spin) */
	uint32_t txwait_us;   /* txonly: halt this long when less than a burst fits (0: spin) */
	uint64_t drain_us;    /* rxonly: after the window, take frames until none came for this long (0: stop) */
	int rss;              /* configure RSS (VNET_F_RSS) */
	int rss_queue;        /* RSS: every table entry names this pair (-1: the default round-robin table) */
	int hash;             /* ask for hash reports (VNET_F_HASH_REPORT) */
};

struct bm_result {
	uint64_t packets, bytes;
	uint64_t cycles;              /* measured window */
	uint64_t lost, other;         /* latency: timeouts; frames not ours */
	uint64_t idle_polls;
	uint64_t halts;       /* idle_us, txwait_us: halts in the measured window */
	uint64_t halt_cycles; /* ... and the cycles they took: the rest of the window was busy */
	uint64_t drained;     /* drain_us: frames taken after the window */
	struct vnet_queue_stats rx, tx;   /* summed over the queue pairs */
	/* per queue pair: packets in the measured window, whole-run counters */
	uint64_t q_packets[BM_MAX_QUEUES];
	struct vnet_queue_stats rxq[BM_MAX_QUEUES], txq[BM_MAX_QUEUES];
	struct bench_stages st;
	uint64_t hist[BENCH_HIST_BUCKETS]; /* latency: round trips in TSC cycles */
	uint64_t samples, max_cycles;
	uint64_t ref_ns;                /* the window in ns */
	int ref_hpet;                   /* ... by the HPET (else by the TSC) */
};

struct bm_rig {
	struct vnet_transport *t;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	const char *transport;
	int irq;              /* MSI-X programmed: the loop may halt (idle_us) */
};

/* clock.c: the HPET, to check the TSC rate against (0 or -ENODEV) */
int bm_clock_init(void);
int bm_clock_ns(uint64_t *ns);

/* rss.c: RSS / hash report set-up after open (0 or -errno), the RX
 * note that records each flow's queue and hash, and their report */
int bm_rss_setup(struct bm_rig *r, const struct bm_opts *o);
void bm_rss_note(void *arg, uint16_t q, struct vnet_buf *const *b, uint16_t n);
void bm_rss_report(const struct bm_rig *r, const struct bm_opts *o);

/* run.c: the measured loops over the window, and their report */
int bm_run(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res);
void bm_report(const struct bm_rig *r, const struct bm_opts *o, const struct bm_result *res);

#endif
