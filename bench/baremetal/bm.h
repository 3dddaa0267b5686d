/* SPDX-License-Identifier: BSD-3-Clause */
/* vnet-bench-bm: the benchmark as a bare-metal image (see main.c). */
#ifndef VNET_BENCH_BM_H
#define VNET_BENCH_BM_H

#include <stdint.h>

#include <vnet/vnet.h>

#define BM_MAX_BURST 256
#define BM_MAX_QUEUES 16 /* queue pairs the bench drives (queues=N) */
#define BM_HIST_BUCKETS 512

/* Payload layout after Ethernet(14) + IPv4(20) + UDP(8), shared with the
 * host peer (tools/vmbench/vmb-peer.c): it fits the smallest 60-byte frame. */
#define BM_OFF_MAGIC 42 /* u32 BM_MAGIC */
#define BM_OFF_SEQ   46 /* u32 sequence number */
#define BM_OFF_TS    50 /* u64 sender's timestamp (cycles or ns) */
#define BM_MAGIC     0x564e4554u /* "VNET" */
#define BM_UDP_PORT  9           /* discard: what the host sink counts */
#define BM_MIN_FRAME 60
#define BM_MAX_FRAME 1518

enum bm_mode { BM_TXONLY, BM_RXONLY, BM_FORWARD, BM_LATENCY };

struct bm_opts {
	enum bm_mode mode;
	uint32_t frame;
	uint16_t burst, ring, txring;
	uint32_t pool;
	uint64_t duration_us, warmup_us;
	uint64_t wait_us;     /* rxonly/forward/latency: first-frame wait */
	uint64_t timeout_us;  /* latency: one round trip's limit */
	uint8_t mac[6], peer[6];
	uint32_t ip, peer_ip; /* host byte order */
	int stages;           /* per-stage cycle accounting */
	int hist;             /* print the latency histogram */
	int relax;            /* PAUSE on an idle poll */
	uint16_t queues;      /* queue pairs, one loop body each */
	uint16_t sport;       /* UDP source port of generated frames (0: BM_UDP_PORT) */
	int log;              /* the library's log level (enum vnet_log_level) */
	uint32_t idle_us;     /* rxonly/forward: halt after this long without a frame (0: spin) */
	uint64_t drain_us;    /* rxonly: after the window, take frames until none came for this long (0: stop) */
};

enum { BM_ST_HARVEST, BM_ST_APP, BM_ST_REFILL, BM_ST_TX_NOKICK, BM_ST_TX_KICK, BM_ST_CAL, BM_ST_N };

/* Cycles spent in each stage of the loop, over iterations that moved
 * packets. The kick is not separable from vnet_tx_burst from outside, so
 * calls are split by whether the queue's kick counter moved. */
struct bm_stages {
	uint64_t harvest, app, refill;
	uint64_t tx_nokick, tx_kick;      /* cycles in vnet_tx_burst calls */
	uint64_t n_nokick, n_kick;        /* number of such calls */
	uint64_t pk_nokick, pk_kick;      /* packets those calls accepted */
	uint64_t cal_nokick, cal_n;       /* calibration train (latency mode) */
	/* the same, per packet, as histograms of cycles (bm_hist_bucket):
	 * means suffer from a loaded host's stalls, medians much less */
	uint64_t h[BM_ST_N][BM_HIST_BUCKETS];
};

struct bm_result {
	uint64_t packets, bytes;
	uint64_t cycles;              /* measured window */
	uint64_t lost, other;         /* latency: timeouts; frames not ours */
	uint64_t idle_polls;
	uint64_t halts;       /* idle_us: halts in the measured window */
	uint64_t drained;     /* drain_us: frames taken after the window */
	struct vnet_queue_stats rx, tx;   /* summed over the queue pairs */
	/* per queue pair: packets in the measured window, whole-run counters */
	uint64_t q_packets[BM_MAX_QUEUES];
	struct vnet_queue_stats rxq[BM_MAX_QUEUES], txq[BM_MAX_QUEUES];
	struct bm_stages st;
	uint64_t hist[BM_HIST_BUCKETS]; /* latency: round trips in TSC cycles */
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

/* frame.c */
void bm_frame_build(uint8_t *dst, const struct bm_opts *o, uint32_t len);
void bm_macswap(uint8_t *frame);

/* hist.c (log-linear buckets of any integer unit: 16 per power of two) */
uint32_t bm_hist_bucket(uint64_t ns);
double bm_bucket_ns(uint32_t b);
double bm_hist_pct(const uint64_t *h, uint64_t total, double pct);

/* clock.c: the HPET, to check the TSC rate against (0 or -ENODEV) */
int bm_clock_init(void);
int bm_clock_ns(uint64_t *ns);

/* run.c */
int bm_run(struct bm_rig *r, const struct bm_opts *o, struct bm_result *res);

#endif
