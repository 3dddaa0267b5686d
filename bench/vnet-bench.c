/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet-bench: packets per second and latency of the vnet fast path.
 *
 *   vnet-bench --backend=model|vhost-user:PATH|pci:BDF
 *              --mode=txonly|rxonly|forward|flowgen|latency|tcp
 *              [--frame=64[,1518...]] [--burst=32] [--ring=256]
 *              [--duration=2] [--warmup=0.2] [--packets=N] [--cpu=N]
 *              [--queues=N] [--reconnect] [--vhost-server]
 *
 * Prints one JSON line per result on stdout, then a table. With
 * --packets the run is a fixed amount of work, for callgrind. Built with
 * VNET_STAGE_CYCLES, each row also carries cycles per stage of the fast
 * path (harvest, refill, post, publish, kick).
 *
 * The modes, the frames, the histogram and the output are bench/core/,
 * shared with the bare-metal image (bench/baremetal/); this file is what
 * is Linux's: the transports, the CPU, argv and the run's clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vnet/linux.h>
#include <vnet/model.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "base/platform.h"
#include "core/frame.h"
#include "core/hist.h"
#include "core/modes.h"
#include "core/opts.h"
#include "core/out.h"
#ifdef VNET_BENCH_TCP
#include "bench_tcp.h"
#endif
#if VNET_STAGE_CYCLES
#include "base/stage.h"
#endif

#define MAX_FRAMES 16
#define MAX_QUEUES 8          /* --queues: as many as vhost-user drives */
#define RECONNECT_MAX_MS 500  /* --reconnect: cap of the transport's backoff */

/* Where the device is: the in-process model, a vhost-user backend's
 * socket, or a virtio-net PCI function (libpciaccess, in a VM). */
enum backend_kind { BK_MODEL, BK_VHOST, BK_PCI };

/* Checked every this many microseconds on long runs, never per burst. */
#define LIVENESS_US 100000
struct opts {
	enum bench_mode mode;
	const char *backend;
	enum backend_kind kind;
	const char *be_arg;     /* socket path or PCI address */
	uint32_t inflight;      /* forward: frames put in circulation (ring/2) */
	uint32_t frames[MAX_FRAMES];
	int nframes;
	uint16_t burst, ring;
	double duration, warmup;
	uint64_t packets;
	int cpu;
	int quiet;
	int packed;             /* --packed: VIRTIO_F_RING_PACKED */
	int in_order;           /* --in-order: the model offers VIRTIO_F_IN_ORDER */
	int indirect;           /* --indirect: VIRTIO_F_INDIRECT_DESC offered and asked */
	uint16_t segs;          /* --segs: txonly frames as chains of this many buffers */
	uint16_t queues;        /* --queues: queue pairs, one lane (poll loop) each */
	int reconnect;          /* --reconnect: a vhost-user backend that goes away is waited for */
	int vhost_server;       /* --vhost-server: vnet listens on the socket, the backend connects */
};

struct result {
	uint64_t packets, bytes;
	double seconds;
	struct vnet_queue_stats rx, tx;
	/* latency: the round trips' histogram is hist[] */
	double max; /* ns */
	uint64_t samples, lost;
	uint64_t tx_packets;  /* flowgen: frames sent */
	int gone;             /* the backend went away mid-run */
	uint64_t stage_cyc[8], stage_calls[8];
	uint64_t q_pkts[MAX_QUEUES];     /* packets per queue pair over the whole run */
	uint64_t q_after[MAX_QUEUES];    /* --reconnect: per pair since the last reconnect */
	uint64_t reconnects, disconnects;
	uint32_t pool_in_use;            /* buffers not back in the pool after the device closed */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vnet-bench [--backend=model|vhost-user:PATH|pci:BDF]\n"
	        "                  --mode=txonly|rxonly|forward|flowgen|latency|tcp\n"
	        "                  [--frame=64[,1518,...]] [--burst=32] [--ring=256] [--inflight=N]\n"
	        "                  [--duration=SEC] [--warmup=SEC] [--packets=N] [--cpu=N] [--quiet]\n"
	        "                  [--packed] [--in-order] [--indirect] [--segs=N]\n"
	        "                  [--queues=N] [--reconnect] [--vhost-server]\n"
	        "  txonly: send only (model: the device sinks; peer: rxonly)\n"
	        "  rxonly: receive only (model: the device generates; peer: txonly)\n"
	        "  forward: macswap what comes in and send it back, --inflight frames\n"
	        "           put in circulation first (model: loopback; peer: macswap)\n"
	        "  flowgen: send bursts and count what comes back (peer: macswap)\n"
	        "  latency: one frame at a time, round trip (model: loopback; peer: macswap)\n"
	        "  tcp: two lwIP interfaces over the model's wire (model only)\n"
	        "  vhost-user:PATH connects to a backend's unix socket (DPDK net_vhost,\n"
	        "  testpmd); pci:BDF opens that virtio-net PCI function through\n"
	        "  libpciaccess (root, unbound device, inside a VM).\n"
	        "  --packed asks for the packed ring (the model offers it); --in-order makes\n"
	        "  the model offer VIRTIO_F_IN_ORDER (batched TX completions).\n"
	        "  --segs=N (txonly): each frame a chain of N buffers, 54 header bytes\n"
	        "  in the first; --indirect: the model offers VIRTIO_F_INDIRECT_DESC and\n"
	        "  the driver asks for it (a chain takes one descriptor; else copied).\n"
	        "  --queues=N (txonly, rxonly, forward, flowgen): N queue pairs, each its\n"
	        "  own lane of the loop (vhost-user: the MQ protocol feature).\n"
	        "  --reconnect (vhost-user): when the backend goes away, wait for it on\n"
	        "  the same socket, reconnect and go on (per-pair counts since then).\n"
	        "  --vhost-server (vhost-user): listen on PATH and wait for the backend\n"
	        "  to connect (DPDK net_vhost with client=1); a restarted backend is\n"
	        "  accepted on the same socket.\n"
	        "Output: one JSON line per result, then a table; a progress line each\n"
	        "second on stderr for runs of 3 s or more.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"backend", required_argument, 0, 'b'}, {"mode", required_argument, 0, 'm'},
		{"frame", required_argument, 0, 'f'},   {"burst", required_argument, 0, 'B'},
		{"ring", required_argument, 0, 'r'},    {"duration", required_argument, 0, 'd'},
		{"warmup", required_argument, 0, 'w'},  {"packets", required_argument, 0, 'n'},
		{"cpu", required_argument, 0, 'c'},     {"quiet", no_argument, 0, 'q'},
		{"inflight", required_argument, 0, 'i'},
		{"packed", no_argument, 0, 'P'},        {"in-order", no_argument, 0, 'O'},
		{"indirect", no_argument, 0, 'I'},      {"segs", required_argument, 0, 'S'},
		{"queues", required_argument, 0, 'Q'},  {"reconnect", no_argument, 0, 'R'},
		{"vhost-server", no_argument, 0, 'V'},
		{"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
	unsigned long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->backend = "model";
	o->burst = 32;
	o->ring = 256;
	o->duration = 2.0;
	o->warmup = 0.2;
	o->cpu = -1;
	o->queues = 1;
	o->mode = BENCH_MODE_COUNT;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->backend = optarg;
			break;
		case 'm':
			if (bench_mode_parse(optarg, &o->mode)) {
				fprintf(stderr, "vnet-bench: unknown mode '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'f': {
			char *s = optarg, *tok, *save = NULL;
			o->nframes = 0;
			for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (o->nframes >= MAX_FRAMES || bench_parse_u(tok, BENCH_MIN_FRAME, BENCH_MAX_FRAME, &v)) {
					fprintf(stderr, "vnet-bench: frame sizes are %d..%d bytes, at most %d\n", BENCH_MIN_FRAME,
					        BENCH_MAX_FRAME, MAX_FRAMES);
					return -EINVAL;
				}
				o->frames[o->nframes++] = (uint32_t)v;
			}
			break;
		}
		case 'B':
			if (bench_parse_u(optarg, 1, BENCH_MAX_BURST, &v)) {
				fprintf(stderr, "vnet-bench: burst is 1..%d\n", BENCH_MAX_BURST);
				return -EINVAL;
			}
			o->burst = (uint16_t)v;
			break;
		case 'r':
			if (bench_parse_u(optarg, 2, 32768, &v) || !bench_pow2(v)) {
				fprintf(stderr, "vnet-bench: ring size is a power of two, 2..32768\n");
				return -EINVAL;
			}
			o->ring = (uint16_t)v;
			break;
		case 'd':
		case 'w': {
			char *end;
			double d = strtod(optarg, &end);
			if (end == optarg || *end || d < 0 || d > 3600) {
				fprintf(stderr, "vnet-bench: bad time '%s'\n", optarg);
				return -EINVAL;
			}
			if (c == 'd')
				o->duration = d;
			else
				o->warmup = d;
			break;
		}
		case 'n':
			if (bench_parse_u(optarg, 1, 1UL << 40, &v)) {
				fprintf(stderr, "vnet-bench: bad packet count\n");
				return -EINVAL;
			}
			o->packets = v;
			break;
		case 'c':
			if (bench_parse_u(optarg, 0, 1023, &v)) {
				fprintf(stderr, "vnet-bench: bad cpu\n");
				return -EINVAL;
			}
			o->cpu = (int)v;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'P':
			o->packed = 1;
			break;
		case 'O':
			o->in_order = 1;
			break;
		case 'I':
			o->indirect = 1;
			break;
		case 'S':
			if (bench_parse_u(optarg, 1, VNET_TX_MAX_SEGS, &v)) {
				fprintf(stderr, "vnet-bench: segs is 1..%d\n", VNET_TX_MAX_SEGS);
				return -EINVAL;
			}
			o->segs = (uint16_t)v;
			break;
		case 'Q':
			if (bench_parse_u(optarg, 1, MAX_QUEUES, &v)) {
				fprintf(stderr, "vnet-bench: queues is 1..%d\n", MAX_QUEUES);
				return -EINVAL;
			}
			o->queues = (uint16_t)v;
			break;
		case 'R':
			o->reconnect = 1;
			break;
		case 'V':
			o->vhost_server = 1;
			break;
		case 'i':
			if (bench_parse_u(optarg, 1, 65535, &v)) {
				fprintf(stderr, "vnet-bench: inflight is 1..65535\n");
				return -EINVAL;
			}
			o->inflight = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc || o->mode == BENCH_MODE_COUNT) {
		usage(stderr);
		return -EINVAL;
	}
	if (!strcmp(o->backend, "model")) {
		o->kind = BK_MODEL;
	} else if (!strncmp(o->backend, "vhost-user:", 11) && o->backend[11]) {
		o->kind = BK_VHOST;
		o->be_arg = o->backend + 11;
	} else if (!strncmp(o->backend, "pci:", 4) && o->backend[4]) {
#ifdef VNET_HAVE_PCIACCESS
		o->kind = BK_PCI;
		o->be_arg = o->backend + 4;
#else
		fprintf(stderr, "vnet-bench: this build has no libpciaccess (pci backend)\n");
		return -ENOTSUP;
#endif
	} else {
		fprintf(stderr, "vnet-bench: backend is model, vhost-user:PATH or pci:BDF, not '%s'\n",
		        o->backend);
		return -EINVAL;
	}
	if (o->kind != BK_MODEL && o->mode == BENCH_TCP) {
		fprintf(stderr, "vnet-bench: tcp mode runs on the model only\n");
		return -EINVAL;
	}
	if (o->kind == BK_MODEL && o->mode == BENCH_FLOWGEN) {
		fprintf(stderr, "vnet-bench: flowgen needs a peer (vhost-user or pci)\n");
		return -EINVAL;
	}
	if (o->queues > 1 && (o->mode == BENCH_LATENCY || o->mode == BENCH_TCP || o->segs > 1)) {
		fprintf(stderr, "vnet-bench: --queues is for txonly, rxonly, forward and flowgen\n");
		return -EINVAL;
	}
	if (o->reconnect && (o->kind != BK_VHOST || o->mode == BENCH_LATENCY)) {
		fprintf(stderr, "vnet-bench: --reconnect is for vhost-user, in the packet-rate modes\n");
		return -EINVAL;
	}
	if (o->vhost_server && o->kind != BK_VHOST) {
		fprintf(stderr, "vnet-bench: --vhost-server is for vhost-user\n");
		return -EINVAL;
	}
	if (o->ring < o->burst) {
		fprintf(stderr, "vnet-bench: ring %u is smaller than the burst %u\n", o->ring, o->burst);
		return -EINVAL;
	}
	if (!o->nframes)
		o->frames[o->nframes++] = 64;
	return 0;
}

/* ---- one device + driver, set up for a mode ---------------------------- */

struct rig {
	struct vnet_model *m;      /* BK_MODEL only */
	struct vnet_transport *t;  /* BK_VHOST / BK_PCI: ours to close */
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	uint64_t next_check;       /* cycles: next liveness check */
	uint64_t check_every;
	uint32_t pool_in_use;      /* after the device closed: a leak if not 0 */
};

static void rig_close(struct rig *r)
{
	vnet_dev_close(r->dev);
	r->dev = NULL;
	r->pool_in_use = r->pool ? vnet_pool_in_use(r->pool) : 0;
	vnet_transport_close(r->t);
	vnet_model_destroy(r->m);
	if (r->pool)
		vnet_pool_destroy(r->pool);
	memset(r, 0, sizeof(*r));
}

static void log_sink(enum vnet_log_level level, const char *msg, void *arg)
{
	static const char *lv[] = {"error", "warning", "info", "debug"};
	(void)arg;
	fprintf(stderr, "vnet-bench: %s: %s\n", lv[level], msg);
}

static int open_transport(struct rig *r, const struct opts *o)
{
	int rc = -EINVAL;

	if (o->kind == BK_VHOST) {
		struct vnet_vhost_user_opts vo = {0};
		vo.queue_max = o->ring > 1024 ? o->ring : 1024;
		vo.reconnect = o->reconnect != 0;
		vo.reconnect_max_ms = RECONNECT_MAX_MS;
		vo.server = o->vhost_server != 0;
		rc = vnet_vhost_user_open(&r->t, o->be_arg, &vo);
	}
#ifdef VNET_HAVE_PCIACCESS
	if (o->kind == BK_PCI) {
		struct vnet_pciaccess_opts po = {0};
		po.bdf = o->be_arg;
		rc = vnet_pciaccess_open(&r->t, &po);
	}
#endif
	return rc;
}

static int rig_open(struct rig *r, const struct opts *o, enum vnet_model_backend be, uint32_t frame)
{
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct vnet_transport *t;
	int rc;

	memset(r, 0, sizeof(*r));
	if (o->kind == BK_MODEL) {
		mc.backend = be;
		mc.source_len = (uint16_t)frame;
		mc.queue_max = o->ring > 1024 ? o->ring : 1024;
		mc.features = VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX |
		              (o->packed ? VNET_F_RING_PACKED : 0) | (o->in_order ? VNET_F_IN_ORDER : 0) |
		              (o->indirect ? VNET_F_INDIRECT_DESC : 0) |
		              (o->queues > 1 ? VNET_F_MQ | VNET_F_CTRL_VQ : 0);
		mc.max_pairs = o->queues;
		rc = vnet_model_create(&r->m, &mc);
	} else {
		/* first: the PCI transport switches DMA memory to hugepages */
		rc = open_transport(r, o);
	}
	if (rc) {
		fprintf(stderr, "vnet-bench: %s: %s\n", o->backend, vnet_strerror(rc));
		rig_close(r);
		return rc;
	}
	t = r->m ? vnet_model_transport(r->m) : r->t;
	pc.count = 2u * o->ring + 4u * BENCH_MAX_BURST;
	if (o->segs > 1) /* a ring and a burst of chains */
		pc.count += ((uint32_t)o->ring + o->burst) * o->segs;
	if (o->kind == BK_PCI) /* fit the hugepages: 2 MiB each */
		pc.count = 2u * o->ring + 4u * o->burst + (o->inflight ? o->inflight : o->ring / 2);
	pc.count *= o->queues;
	if ((rc = vnet_pool_create(&r->pool, &pc))) {
		fprintf(stderr, "vnet-bench: pool of %u buffers: %s\n", pc.count, vnet_strerror(rc));
		rig_close(r);
		return rc;
	}
	dc.pool = r->pool;
	dc.rx_ring_size = dc.tx_ring_size = o->ring;
	dc.queue_pairs = o->queues;
	dc.features = VNET_F_DEFAULT | (o->packed ? VNET_F_RING_PACKED : 0) | (o->indirect ? VNET_F_INDIRECT_DESC : 0);
	rc = vnet_dev_open(&r->dev, t, &dc);
	if (rc) {
		fprintf(stderr, "vnet-bench: vnet_dev_open: %s\n", vnet_strerror(rc));
		rig_close(r);
	}
	r->check_every = vnet_cycles_hz() / (1000000 / LIVENESS_US);
	r->next_check = vnet_cycles() + r->check_every;
	return rc;
}

/* The device side of the work: the model runs in this thread; a real
 * backend runs on its own. */
static void model_poll(void *m)
{
	vnet_model_poll(m);
}

/* Off the fast path: is the backend still there? 1 if it went away. */
static int rig_gone(struct rig *r, uint64_t now)
{
	if (r->m || now < r->next_check)
		return 0;
	r->next_check = now + r->check_every;
	if (vnet_dev_broken(r->dev)) {
		fprintf(stderr, "vnet-bench: the device went away or broke\n");
		return 1;
	}
	return 0;
}

/* --reconnect: the backend went away. Every buffer comes back and the
 * device is brought up again once a backend listens on the socket (the
 * transport's backoff paces the attempts), or the run's end passes.
 * 0: traffic can go on. */
static int rig_reconnect(struct rig *r, uint64_t end, struct result *res)
{
	res->disconnects++;
	fprintf(stderr, "vnet-bench: the backend went away; waiting for it to come back\n");
	while (vnet_cycles() < end) {
		if (vnet_dev_recover(r->dev) == 0) {
			res->reconnects++;
			fprintf(stderr, "vnet-bench: reconnected; %u buffers in the RX rings\n",
			        (unsigned)vnet_pool_in_use(r->pool));
			return 0;
		}
		usleep(20000);
	}
	fprintf(stderr, "vnet-bench: the backend did not come back before the run's end\n");
	return -ETIMEDOUT;
}

/* The bench's frame (core/frame.h): from a locally administered MAC to
 * QEMU's first, 10.99.0.2 to 10.99.0.1. txonly sets the length only: the
 * model's sink and a peer in rxonly count frames without reading them. */
static void lane_init(struct bench_lane *l, const struct rig *r, const struct opts *o, uint32_t frame,
                      uint8_t *tmpl)
{
	static const struct bench_frame_conf fc = {.src = {0x02, 0, 0, 0, 0, 2},
	                                           .dst = {0x52, 0x54, 0, 0, 0, 1},
	                                           .ip = 0x0a630002,
	                                           .peer_ip = 0x0a630001};

	bench_frame_build(tmpl, &fc, frame);
	memset(l, 0, sizeof(*l));
	l->dev = r->dev;
	l->pool = r->pool;
	l->burst = o->burst;
	l->frame = frame;
	l->tmpl = o->mode == BENCH_TXONLY ? NULL : tmpl;
	l->poll = r->m ? model_poll : NULL;
	l->poll_arg = r->m;
}

/* Run until the packet budget or the deadline; returns packets counted
 * after warm-up. One step of the loop is the run-to-completion body. */
struct clock {
	uint64_t start, warm_end, end;
	uint64_t hz;
	int warm;
	uint64_t next_progress;
};

static void clock_init(struct clock *c, const struct opts *o)
{
	c->hz = vnet_cycles_hz();
	c->start = vnet_cycles();
	c->warm_end = o->packets ? c->start : c->start + (uint64_t)(o->warmup * (double)c->hz);
	c->end = c->warm_end + (uint64_t)(o->duration * (double)c->hz);
	c->warm = o->packets ? 0 : 1;
	c->next_progress = c->warm_end + c->hz;
}

static void progress(struct clock *c, const struct opts *o, uint64_t now, uint64_t pkts)
{
	if (o->quiet || now < c->next_progress || o->duration < 3)
		return;
	fprintf(stderr, "vnet-bench: %s %.0f s: %.3f Mpps\n", bench_mode_names[o->mode],
	        (double)(now - c->warm_end) / (double)c->hz,
	        (double)pkts / ((double)(now - c->warm_end) / (double)c->hz) / 1e6);
	c->next_progress += c->hz;
}

static void stages_reset(void)
{
#if VNET_STAGE_CYCLES
	memset(vnet_stage_cycles, 0, sizeof(vnet_stage_cycles));
	memset(vnet_stage_calls, 0, sizeof(vnet_stage_calls));
#endif
}

static void stages_take(struct result *res)
{
#if VNET_STAGE_CYCLES
	int i;
	for (i = 0; i < VNET_STAGE__COUNT && i < 8; i++) {
		res->stage_cyc[i] = vnet_stage_cycles[i];
		res->stage_calls[i] = vnet_stage_calls[i];
	}
#else
	(void)res;
#endif
}

/* forward: put frames in circulation first, like testpmd's tx_first. */
static void circulate(const struct bench_lane *l, const struct opts *o, int model)
{
	struct vnet_buf *bufs[BENCH_MAX_BURST];
	uint32_t want = o->inflight ? o->inflight : (model ? o->burst : o->ring / 2u), put = 0;

	while (put < want) {
		uint16_t k, m = (uint16_t)(want - put < o->burst ? want - put : o->burst);
		if (vnet_pool_alloc_bulk(l->pool, bufs, m))
			break;
		bench_fill(l, bufs, m);
		k = vnet_tx_burst(l->dev, l->q, bufs, m);
		vnet_pool_free_bulk(bufs + k, (uint32_t)(m - k));
		put += k;
		if (k < m)
			break;
	}
}

/* One pass of the mode (core/modes.h); flowgen adds what it sent to *@txp. */
static uint16_t pass(const struct bench_lane *l, const struct opts *o, uint64_t *txp)
{
	uint16_t n;

	if (o->mode == BENCH_TXONLY && o->segs > 1) {
		if (l->poll)
			l->poll(l->poll_arg);
		return bench_tx_chains(l, o->segs);
	}
	if (o->mode != BENCH_FLOWGEN)
		return bench_step(l, o->mode, NULL, NULL);
	/* flowgen: receive and drop; then a fresh burst out */
	n = bench_step(l, BENCH_RXONLY, NULL, NULL);
	*txp += bench_txonly(l, NULL);
	return n;
}

/* One pass of every lane (one per queue pair); @got: each one's count. */
static uint16_t pass_all(const struct bench_lane *l, const struct opts *o, uint64_t *txp, uint16_t *got)
{
	uint16_t q, n = 0;

	for (q = 0; q < o->queues; q++) {
		got[q] = pass(&l[q], o, txp);
		n = (uint16_t)(n + got[q]);
	}
	return n;
}

static void count(struct result *res, const struct opts *o, const uint16_t *got, uint16_t n, uint32_t frame)
{
	uint16_t q;

	res->packets += n;
	res->bytes += (uint64_t)n * frame;
	for (q = 0; q < o->queues; q++) {
		res->q_pkts[q] += got[q];
		res->q_after[q] += got[q];
	}
}

/* The backend went away: end the run, or with --reconnect wait for it and
 * start over on every lane. 1: the run ends. */
static int backend_gone(struct rig *r, const struct opts *o, struct bench_lane *l, uint64_t end,
                        struct result *res)
{
	uint16_t q;

	if (!o->reconnect || rig_reconnect(r, end, res)) {
		res->gone = 1;
		return 1;
	}
	memset(res->q_after, 0, sizeof(res->q_after));
	for (q = 0; q < o->queues && o->mode == BENCH_FORWARD; q++)
		circulate(&l[q], o, 0);
	return 0;
}

static int run_pps(const struct opts *o, uint32_t frame, struct result *res)
{
	static const enum vnet_model_backend be[] = {VNET_MODEL_SINK, VNET_MODEL_SOURCE, VNET_MODEL_LOOPBACK};
	static uint8_t tmpl[BENCH_MAX_FRAME];
	struct bench_lane l[MAX_QUEUES];
	uint16_t got[MAX_QUEUES], q;
	struct clock ck;
	struct rig r;
	uint64_t iter = 0, txp = 0, txp_warm = 0;
	uint64_t budget = o->packets;
	int rc;

	rc = rig_open(&r, o, be[o->mode == BENCH_FLOWGEN ? BENCH_FORWARD : o->mode], frame);
	if (rc)
		return rc;
	for (q = 0; q < o->queues; q++) {
		lane_init(&l[q], &r, o, frame, tmpl);
		l[q].q = q;
		if (o->mode == BENCH_FORWARD)
			circulate(&l[q], o, r.m != NULL);
	}
	stages_reset();
	clock_init(&ck, o);
	for (;;) {
		uint16_t n = pass_all(l, o, &txp, got);
		uint64_t now;

		if (budget) {
			count(res, o, got, n, frame);
			if (res->packets >= budget || ++iter > budget * 4 + 1000)
				break;
			continue;
		}
		if ((++iter & 63) != 0) {
			if (!ck.warm)
				count(res, o, got, n, frame);
			continue;
		}
		now = vnet_cycles();
		if (ck.warm && now >= ck.warm_end) {
			ck.warm = 0;
			ck.warm_end = now;
			ck.end = now + (uint64_t)(o->duration * (double)ck.hz);
			ck.next_progress = now + ck.hz;
			txp_warm = txp;
			stages_reset();
			continue;
		}
		if (!ck.warm)
			count(res, o, got, n, frame);
		progress(&ck, o, now, res->packets);
		if (rig_gone(&r, now) && backend_gone(&r, o, l, ck.end, res))
			break;
		if (now >= ck.end)
			break;
	}
	res->seconds = (double)(vnet_cycles() - ck.warm_end) / (double)ck.hz;
	res->tx_packets = txp - txp_warm;
	stages_take(res);
	vnet_queue_stats(r.dev, 0, true, &res->rx);
	vnet_queue_stats(r.dev, 0, false, &res->tx);
	rig_close(&r);
	res->pool_in_use = r.pool_in_use;
	return 0;
}

/* ---- latency: ping-pong through the loopback device or a macswap peer -- */

#define LATENCY_LOST_US 100000 /* a frame not back by then is lost */
#define LATENCY_MAX_POLLS 100000000u

static uint64_t hist[BENCH_HIST_BUCKETS]; /* round trips in ns */
/* The driver's stages of the measured round trips (core/stages.h): where
 * a round trip's time goes on this side; the rest is the device's and
 * the wait for it. */
static struct bench_stages lat_st;

/* One probe's round trip; a full TX ring is reclaimed and tried again
 * once. 1: back, 0: lost, <0: could not send. Stages are timed into @st
 * when it is not NULL. */
static int ping(const struct bench_lane *l, uint32_t seq, uint64_t timeout, struct bench_stages *st,
                uint64_t *rtt)
{
	uint32_t polls = l->poll ? 1 : LATENCY_MAX_POLLS; /* the model answers in one poll */
	uint64_t other = 0;
	int rc = bench_rtt(l, seq, timeout, polls, st, rtt, &other);

	if (rc == -ENOBUFS)
		rc = bench_rtt(l, seq, timeout, polls, st, rtt, &other);
	return rc;
}

static int run_latency(const struct opts *o, uint32_t frame, struct result *res)
{
	static uint8_t tmpl[BENCH_MAX_FRAME];
	struct bench_lane l;
	struct clock ck;
	struct rig r;
	uint64_t samples = 0, maxc = 0, seq = 0, lost = 0, lost_cyc;
	int rc;

	memset(hist, 0, sizeof(hist));
	memset(&lat_st, 0, sizeof(lat_st));
	rc = rig_open(&r, o, VNET_MODEL_LOOPBACK, frame);
	if (rc)
		return rc;
	lane_init(&l, &r, o, frame, tmpl);
	lost_cyc = vnet_cycles_hz() / (1000000 / LATENCY_LOST_US);
	clock_init(&ck, o);
	for (;;) {
		uint64_t c = 0, now;
		int back = ping(&l, (uint32_t)seq, lost_cyc, ck.warm ? NULL : &lat_st, &c);

		if (back < 0)
			break;
		now = vnet_cycles();
		if (back && !ck.warm) {
			hist[bench_hist_bucket(c * 1000000000u / ck.hz)]++;
			if (c > maxc)
				maxc = c;
			samples++;
		}
		seq++;
		if (!back) {
			lost++;
			if (r.m)
				break; /* the model never loses one */
		}
		if (o->packets) {
			if (seq >= o->packets)
				break;
			continue;
		}
		if (ck.warm && now >= ck.warm_end) {
			ck.warm = 0;
			ck.warm_end = now;
			ck.end = now + (uint64_t)(o->duration * (double)ck.hz);
			ck.next_progress = now + ck.hz;
			lost = 0;
			/* publish alone, for when every probe kicks */
			bench_calibrate(&l, &lat_st);
		}
		if (!ck.warm)
			progress(&ck, o, now, samples);
		if (rig_gone(&r, now)) {
			res->gone = 1;
			break;
		}
		if (!ck.warm && now >= ck.end)
			break;
	}
	res->seconds = (double)(vnet_cycles() - ck.warm_end) / (double)ck.hz;
	res->packets = samples;
	res->bytes = samples * frame;
	res->samples = samples;
	res->lost = lost;
	res->max = (double)maxc * 1e9 / (double)ck.hz;
	vnet_queue_stats(r.dev, 0, true, &res->rx);
	vnet_queue_stats(r.dev, 0, false, &res->tx);
	rig_close(&r);
	if (!o->quiet && samples) {
		uint32_t bk;
		fprintf(stderr, "latency histogram (ns, count):\n");
		for (bk = 0; bk < BENCH_HIST_BUCKETS; bk++)
			if (hist[bk])
				fprintf(stderr, "  %10.0f %llu\n", bench_bucket_lo(bk), (unsigned long long)hist[bk]);
	}
	return samples ? 0 : -EIO;
}

static void emit_hist(const struct opts *o, uint32_t frame)
{
	/* the whole histogram as one JSON line, for the CDF plot */
	printf("{\"type\":\"latency_hist\",\"backend\":\"%s\",\"frame\":%u,\"buckets\":[", o->backend,
	       (unsigned)frame);
	bench_hist_json(stdout, hist, 1);
	printf("]}\n");
	fflush(stdout);
}

/*
 * Latency: the median cycles of each driver stage per round trip, in ns
 * (core/stages.h: harvest = the vnet_rx_burst that took the reply, app =
 * freeing it, refill = vnet_rx_refill, publish and kick = the
 * vnet_tx_burst that sent the probe), and what is left of the median
 * round trip after the stages inside it (publish, kick, harvest): the
 * device's work and the cross-CPU transfers, empty polls included.
 */
static void latency_stages_row(struct bench_row *row, const struct result *res)
{
	static const char *const name[5] = {"harvest_ns", "app_ns", "refill_ns", "publish_ns", "kick_ns"};
	double mean[5], p50[5], ns = 1e9 / (double)vnet_cycles_hz(), inside = 0, p50_ns;
	int i;

	bench_stage_costs(&lat_st, res->samples, mean, p50);
	for (i = 0; i < 5; i++)
		bench_row_num(row, name[i], "%.0f", p50[i] < 0 ? -1 : p50[i] * ns);
	for (i = 0; i < 5; i++)
		if (i != 1 && i != 2 && p50[i] > 0)
			inside += p50[i] * ns;
	p50_ns = bench_hist_pct(hist, res->samples, 50);
	bench_row_num(row, "device_wait_ns", "%.0f", p50_ns > inside ? p50_ns - inside : 0);
}

static void stages_row(struct bench_row *row, const struct result *res)
{
#if VNET_STAGE_CYCLES
	static const char *name[] = {"cyc_harvest", "cyc_refill", "cyc_post", "cyc_publish", "cyc_kick"};
	uint64_t pk = res->packets ? res->packets : 1, total = 0;
	int i;

	for (i = 0; i < VNET_STAGE__COUNT && i < 5; i++) {
		bench_row_num(row, name[i], "%.1f", (double)res->stage_cyc[i] / (double)pk);
		total += res->stage_cyc[i];
	}
	fprintf(stderr, "vnet-bench: cycles per packet by stage:");
	for (i = 0; i < VNET_STAGE__COUNT && i < 5; i++)
		fprintf(stderr, " %s %.1f (%llu calls)", name[i] + 4, (double)res->stage_cyc[i] / (double)pk,
		        (unsigned long long)res->stage_calls[i]);
	fprintf(stderr, "; total %.1f\n", (double)total / (double)pk);
#else
	(void)row;
	(void)res;
#endif
}

/* --queues and --reconnect: packets per pair (over the run, and since the
 * last reconnect), the reconnects, and what the pool missed at the end. */
static void queues_row(struct bench_row *row, const struct opts *o, const struct result *res)
{
	/* a row keeps the names, not copies */
	static const char *pk[MAX_QUEUES] = {"q0_pkts", "q1_pkts", "q2_pkts", "q3_pkts",
	                                     "q4_pkts", "q5_pkts", "q6_pkts", "q7_pkts"};
	static const char *af[MAX_QUEUES] = {"q0_after_reconnect", "q1_after_reconnect", "q2_after_reconnect",
	                                     "q3_after_reconnect", "q4_after_reconnect", "q5_after_reconnect",
	                                     "q6_after_reconnect", "q7_after_reconnect"};
	uint16_t q;

	if (o->queues > 1 || o->reconnect) {
		bench_row_u64(row, "queues", o->queues);
		for (q = 0; q < o->queues; q++)
			bench_row_u64(row, pk[q], res->q_pkts[q]);
		bench_row_u64(row, "pool_in_use_end", res->pool_in_use);
	}
	if (o->reconnect) {
		bench_row_u64(row, "disconnects", res->disconnects);
		bench_row_u64(row, "reconnects", res->reconnects);
		for (q = 0; q < o->queues; q++)
			bench_row_u64(row, af[q], res->q_after[q]);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	int i, rc = 0, gone = 0;

	if (parse_opts(argc, argv, &o))
		return 2;
	if (!o.quiet || o.kind != BK_MODEL)
		vnet_set_log(log_sink, NULL, o.quiet ? VNET_LOG_ERR : VNET_LOG_WARN);
	if (o.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("vnet-bench: sched_setaffinity");
			return 2;
		}
	}
	if (o.mode == BENCH_TCP) {
#ifdef VNET_BENCH_TCP
		return vnet_bench_tcp_main(o.duration, o.packets, o.quiet);
#else
		fprintf(stderr, "vnet-bench: tcp mode needs the lwIP interface (not in this build)\n");
		return 2;
#endif
	}
	for (i = 0; i < o.nframes && rc == 0 && !gone; i++) {
		struct result res;
		struct bench_row row = {0};

		memset(&res, 0, sizeof(res));
		rc = o.mode == BENCH_LATENCY ? run_latency(&o, o.frames[i], &res) : run_pps(&o, o.frames[i], &res);
		if (rc) {
			fprintf(stderr, "vnet-bench: %s failed: %s\n", bench_mode_names[o.mode], vnet_strerror(rc));
			break;
		}
		gone = res.gone;
		bench_row_str(&row, "backend", o.backend);
		bench_row_str(&row, "mode", bench_mode_names[o.mode]);
		bench_row_u64(&row, "frame", o.frames[i]);
		bench_row_u64(&row, "burst", o.burst);
		bench_row_u64(&row, "ring", o.ring);
		bench_row_str(&row, "layout", o.packed ? "packed" : o.in_order ? "split+in_order" : "split");
		bench_row_rate(&row, res.packets, res.bytes, res.seconds, "%.3f");
		bench_row_kicks(&row, &res.rx, &res.tx);
		if (o.mode == BENCH_FLOWGEN)
			bench_row_num(&row, "tx_mpps", "%.3f",
			              res.seconds > 0 ? (double)res.tx_packets / res.seconds / 1e6 : 0);
		if (o.mode == BENCH_LATENCY) {
			bench_row_pcts(&row, hist, res.samples, 1, res.max);
			bench_row_u64(&row, "lost", res.lost);
			latency_stages_row(&row, &res);
		}
		stages_row(&row, &res);
		queues_row(&row, &o, &res);
		if (gone)
			bench_row_str(&row, "end", "backend-gone");
		bench_emit(&row);
		if (o.mode == BENCH_LATENCY)
			emit_hist(&o, o.frames[i]);
	}
	if (!o.quiet)
		bench_table();
	return rc || gone ? 1 : 0;
}
