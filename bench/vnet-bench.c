/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet-bench: packets per second and latency of the vnet fast path.
 *
 *   vnet-bench --backend=model|vhost-user:PATH|pci:BDF
 *              --mode=txonly|rxonly|forward|flowgen|latency|tcp
 *              [--frame=64[,1518...]] [--burst=32] [--ring=256]
 *              [--duration=2] [--warmup=0.2] [--packets=N] [--cpu=N]
 *
 * Prints one JSON line per result on stdout, then a table. With
 * --packets the run is a fixed amount of work, for callgrind. Built with
 * VNET_STAGE_CYCLES, each row also carries cycles per stage of the fast
 * path (harvest, refill, post, publish, kick).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/linux.h>
#include <vnet/model.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "bench_out.h"
#include "base/platform.h"
#ifdef VNET_BENCH_TCP
#include "bench_tcp.h"
#endif
#if VNET_STAGE_CYCLES
#include "base/stage.h"
#endif

#define MAX_BURST 256
#define MAX_FRAMES 16

enum mode { M_TXONLY, M_RXONLY, M_FORWARD, M_LATENCY, M_TCP, M_FLOWGEN, M__COUNT };
static const char *mode_names[] = {"txonly", "rxonly", "forward", "latency", "tcp", "flowgen"};

/* Where the device is: the in-process model, a vhost-user backend's
 * socket, or a virtio-net PCI function (libpciaccess, in a VM). */
enum backend_kind { BK_MODEL, BK_VHOST, BK_PCI };

/* Checked every this many microseconds on long runs, never per burst. */
#define LIVENESS_US 100000
struct opts {
	enum mode mode;
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
};

struct result {
	uint64_t packets, bytes;
	double seconds;
	struct vnet_queue_stats rx, tx;
	/* latency: percentiles in ns */
	double p50, p90, p99, p999, max;
	uint64_t samples, lost;
	uint64_t tx_packets;  /* flowgen: frames sent */
	int gone;             /* the backend went away mid-run */
	uint64_t stage_cyc[8], stage_calls[8];
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vnet-bench [--backend=model|vhost-user:PATH|pci:BDF]\n"
	        "                  --mode=txonly|rxonly|forward|flowgen|latency|tcp\n"
	        "                  [--frame=64[,1518,...]] [--burst=32] [--ring=256] [--inflight=N]\n"
	        "                  [--duration=SEC] [--warmup=SEC] [--packets=N] [--cpu=N] [--quiet]\n"
	        "                  [--packed] [--in-order] [--indirect] [--segs=N]\n"
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
	        "Output: one JSON line per result, then a table; a progress line each\n"
	        "second on stderr for runs of 3 s or more.\n");
}

static int parse_u(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
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
		{"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
	unsigned long v;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->backend = "model";
	o->burst = 32;
	o->ring = 256;
	o->duration = 2.0;
	o->warmup = 0.2;
	o->cpu = -1;
	o->mode = (enum mode)-1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->backend = optarg;
			break;
		case 'm':
			for (i = 0; i < M__COUNT; i++)
				if (!strcmp(optarg, mode_names[i]))
					o->mode = (enum mode)i;
			if (!strcmp(optarg, "loopback") || !strcmp(optarg, "macswap"))
				o->mode = M_FORWARD;
			if ((int)o->mode < 0) {
				fprintf(stderr, "vnet-bench: unknown mode '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'f': {
			char *s = optarg, *tok, *save = NULL;
			o->nframes = 0;
			for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (o->nframes >= MAX_FRAMES || parse_u(tok, 60, 1518, &v)) {
					fprintf(stderr, "vnet-bench: frame sizes are 60..1518 bytes, at most %d\n", MAX_FRAMES);
					return -EINVAL;
				}
				o->frames[o->nframes++] = (uint32_t)v;
			}
			break;
		}
		case 'B':
			if (parse_u(optarg, 1, MAX_BURST, &v)) {
				fprintf(stderr, "vnet-bench: burst is 1..%d\n", MAX_BURST);
				return -EINVAL;
			}
			o->burst = (uint16_t)v;
			break;
		case 'r':
			if (parse_u(optarg, 2, 32768, &v) || (v & (v - 1))) {
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
			if (parse_u(optarg, 1, 1UL << 40, &v)) {
				fprintf(stderr, "vnet-bench: bad packet count\n");
				return -EINVAL;
			}
			o->packets = v;
			break;
		case 'c':
			if (parse_u(optarg, 0, 1023, &v)) {
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
			if (parse_u(optarg, 1, VNET_TX_MAX_SEGS, &v)) {
				fprintf(stderr, "vnet-bench: segs is 1..%d\n", VNET_TX_MAX_SEGS);
				return -EINVAL;
			}
			o->segs = (uint16_t)v;
			break;
		case 'i':
			if (parse_u(optarg, 1, 65535, &v)) {
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
	if (optind < argc || (int)o->mode < 0) {
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
	if (o->kind != BK_MODEL && o->mode == M_TCP) {
		fprintf(stderr, "vnet-bench: tcp mode runs on the model only\n");
		return -EINVAL;
	}
	if (o->kind == BK_MODEL && o->mode == M_FLOWGEN) {
		fprintf(stderr, "vnet-bench: flowgen needs a peer (vhost-user or pci)\n");
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
};

static void rig_close(struct rig *r)
{
	vnet_dev_close(r->dev);
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
		              (o->indirect ? VNET_F_INDIRECT_DESC : 0);
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
	pc.count = 2u * o->ring + 4u * MAX_BURST;
	if (o->segs > 1) /* a ring and a burst of chains */
		pc.count += ((uint32_t)o->ring + o->burst) * o->segs;
	if (o->kind == BK_PCI) /* fit the hugepages: 2 MiB each */
		pc.count = 2u * o->ring + 4u * o->burst + (o->inflight ? o->inflight : o->ring / 2);
	if ((rc = vnet_pool_create(&r->pool, &pc))) {
		fprintf(stderr, "vnet-bench: pool of %u buffers: %s\n", pc.count, vnet_strerror(rc));
		rig_close(r);
		return rc;
	}
	dc.pool = r->pool;
	dc.rx_ring_size = dc.tx_ring_size = o->ring;
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
static inline void rig_poll(struct rig *r)
{
	if (r->m)
		vnet_model_poll(r->m);
}

/* Off the fast path: is the backend still there? 1 if it went away. */
static int rig_gone(struct rig *r, uint64_t now)
{
	if (r->m || now < r->next_check)
		return 0;
	r->next_check = now + r->check_every;
	if (vnet_dev_broken(r->dev)) {
		fprintf(stderr, "vnet-bench: the device went away or broke; ending the run\n");
		return 1;
	}
	return 0;
}

static void fill_frame(struct vnet_buf *b, uint32_t len)
{
	static const uint8_t hdr[14] = {0x52, 0x54, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5};
	memcpy(b->data, hdr, sizeof(hdr));
	b->len = len;
}

static void macswap(struct vnet_buf **bufs, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint8_t t[6];
		memcpy(t, bufs[i]->data, 6);
		memcpy(bufs[i]->data, bufs[i]->data + 6, 6);
		memcpy(bufs[i]->data + 6, t, 6);
	}
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
	fprintf(stderr, "vnet-bench: %s %.0f s: %.3f Mpps\n", mode_names[o->mode],
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

/* txonly --segs: a burst of frames, each a chain of o->segs buffers (the
 * first with 54 bytes of headers, the payload spread over the others). */
static uint16_t tx_chains(struct rig *r, const struct opts *o, uint32_t frame)
{
	static struct vnet_buf *segs[MAX_BURST * VNET_TX_MAX_SEGS];
	struct vnet_buf *heads[MAX_BURST];
	uint32_t ns = o->segs, head = frame >= 54 + ns ? 54 : frame / ns, rest = frame - head;
	uint32_t i, k;
	uint16_t n;

	if (vnet_pool_alloc_bulk(r->pool, segs, (uint32_t)o->burst * ns)) {
		vnet_tx_reclaim(r->dev, 0);
		return 0;
	}
	for (i = 0; i < o->burst; i++) {
		struct vnet_buf **c = segs + (size_t)i * ns;

		for (k = 0; k < ns; k++) {
			c[k]->len = k == 0 ? head : k + 1 < ns ? rest / (ns - 1) : rest - (ns - 2) * (rest / (ns - 1));
			c[k]->next = k + 1 < ns ? c[k + 1] : NULL;
		}
		c[0]->nb_segs = (uint16_t)ns;
		heads[i] = c[0];
	}
	n = vnet_tx_burst(r->dev, 0, heads, o->burst);
	for (i = n; i < o->burst; i++)
		vnet_buf_free_chain(heads[i]);
	return n;
}

static int run_pps(const struct opts *o, uint32_t frame, struct result *res)
{
	static const enum vnet_model_backend be[] = {VNET_MODEL_SINK, VNET_MODEL_SOURCE, VNET_MODEL_LOOPBACK};
	struct vnet_buf *bufs[MAX_BURST];
	struct clock ck;
	struct rig r;
	uint64_t pkts = 0, bytes = 0, iter = 0, txp = 0, txp_warm = 0;
	uint64_t budget = o->packets;
	int rc;

	rc = rig_open(&r, o, be[o->mode == M_FLOWGEN ? M_FORWARD : o->mode], frame);
	if (rc)
		return rc;
	if (o->mode == M_FORWARD) { /* put frames in circulation, like tx_first */
		uint32_t want = o->inflight ? o->inflight : (r.m ? o->burst : o->ring / 2u), put = 0;
		while (put < want) {
			uint16_t k, m = (uint16_t)(want - put < o->burst ? want - put : o->burst);
			if (vnet_pool_alloc_bulk(r.pool, bufs, m))
				break;
			for (k = 0; k < m; k++)
				fill_frame(bufs[k], frame);
			k = vnet_tx_burst(r.dev, 0, bufs, m);
			vnet_pool_free_bulk(bufs + k, (uint32_t)(m - k));
			put += k;
			if (k < m)
				break;
		}
	}
	stages_reset();
	clock_init(&ck, o);
	for (;;) {
		uint16_t n = 0, k, i;
		uint64_t now;

		rig_poll(&r); /* the device's side of the work */
		switch (o->mode) {
		case M_TXONLY:
			if (o->segs > 1) {
				n = tx_chains(&r, o, frame);
				break;
			}
			if (vnet_pool_alloc_bulk(r.pool, bufs, o->burst) == 0) {
				for (i = 0; i < o->burst; i++)
					bufs[i]->len = frame;
				n = vnet_tx_burst(r.dev, 0, bufs, o->burst);
				vnet_pool_free_bulk(bufs + n, (uint32_t)(o->burst - n));
			} else {
				vnet_tx_reclaim(r.dev, 0);
			}
			break;
		case M_RXONLY:
			n = vnet_rx_burst(r.dev, 0, bufs, o->burst);
			vnet_pool_free_bulk(bufs, n);
			vnet_rx_refill(r.dev, 0);
			break;
		case M_FLOWGEN: /* receive and drop; then a fresh burst out */
			n = vnet_rx_burst(r.dev, 0, bufs, o->burst);
			vnet_pool_free_bulk(bufs, n);
			vnet_rx_refill(r.dev, 0);
			if (vnet_pool_alloc_bulk(r.pool, bufs, o->burst) == 0) {
				for (i = 0; i < o->burst; i++)
					fill_frame(bufs[i], frame);
				k = vnet_tx_burst(r.dev, 0, bufs, o->burst);
				vnet_pool_free_bulk(bufs + k, (uint32_t)(o->burst - k));
				txp += k;
			} else {
				vnet_tx_reclaim(r.dev, 0);
			}
			break;
		default: /* forward: macswap what came in and send it back */
			n = vnet_rx_burst(r.dev, 0, bufs, o->burst);
			macswap(bufs, n);
			k = vnet_tx_burst(r.dev, 0, bufs, n);
			vnet_pool_free_bulk(bufs + k, (uint32_t)(n - k));
			vnet_rx_refill(r.dev, 0);
			n = k;
			break;
		}
		if (budget) {
			pkts += n;
			bytes += (uint64_t)n * frame;
			if (pkts >= budget || ++iter > budget * 4 + 1000)
				break;
			continue;
		}
		if ((++iter & 63) != 0) {
			if (!ck.warm) {
				pkts += n;
				bytes += (uint64_t)n * frame;
			}
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
		if (!ck.warm) {
			pkts += n;
			bytes += (uint64_t)n * frame;
		}
		progress(&ck, o, now, pkts);
		if (rig_gone(&r, now)) {
			res->gone = 1;
			break;
		}
		if (now >= ck.end)
			break;
	}
	res->seconds = (double)(vnet_cycles() - ck.warm_end) / (double)ck.hz;
	res->packets = pkts;
	res->bytes = bytes;
	res->tx_packets = txp - txp_warm;
	stages_take(res);
	vnet_queue_stats(r.dev, 0, true, &res->rx);
	vnet_queue_stats(r.dev, 0, false, &res->tx);
	rig_close(&r);
	return 0;
}

/* ---- latency: ping-pong through the loopback device or a macswap peer -- */

#define HIST_BUCKETS 512 /* log-linear: 16 sub-buckets per power of two */
#define LATENCY_LOST_US 100000 /* a frame not back by then is lost */

static uint32_t hist_bucket(uint64_t ns)
{
	uint32_t b;
	int lg;

	if (ns < 16)
		return (uint32_t)ns;
	lg = 63 - __builtin_clzll(ns);
	b = (uint32_t)(lg - 3) * 16 + (uint32_t)((ns >> (lg - 4)) & 15);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static double bucket_ns(uint32_t b)
{
	if (b < 16)
		return b;
	return (double)((uint64_t)(16u + b % 16) << (b / 16 - 1));
}

static double hist_pct(const uint64_t *h, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)((double)total * pct / 100.0), acc = 0;
	uint32_t b;

	for (b = 0; b < HIST_BUCKETS; b++) {
		acc += h[b];
		if (acc > want)
			return bucket_ns(b);
	}
	return bucket_ns(HIST_BUCKETS - 1);
}

static uint64_t hist[HIST_BUCKETS];

static int run_latency(const struct opts *o, uint32_t frame, struct result *res)
{
	struct vnet_buf *b, *in[MAX_BURST];
	struct clock ck;
	struct rig r;
	uint64_t samples = 0, maxc = 0, seq = 0, lost = 0, lost_cyc;
	int rc;

	memset(hist, 0, sizeof(hist));
	rc = rig_open(&r, o, VNET_MODEL_LOOPBACK, frame);
	if (rc)
		return rc;
	lost_cyc = vnet_cycles_hz() / (1000000 / LATENCY_LOST_US);
	clock_init(&ck, o);
	for (;;) {
		uint64_t t0, now;
		uint16_t n, i;
		int back = 0;

		b = vnet_buf_alloc(r.pool);
		if (!b) {
			vnet_tx_reclaim(r.dev, 0);
			b = vnet_buf_alloc(r.pool);
			if (!b)
				break;
		}
		fill_frame(b, frame);
		memcpy(b->data + 14, &seq, 8);
		t0 = vnet_cycles();
		memcpy(b->data + 22, &t0, 8);
		if (vnet_tx_burst(r.dev, 0, &b, 1) != 1) {
			vnet_buf_free(b);
			break;
		}
		now = t0;
		/* wait for this frame, bounded (the model answers in one poll) */
		while (!back && now - t0 < lost_cyc) {
			rig_poll(&r);
			n = vnet_rx_burst(r.dev, 0, in, MAX_BURST);
			now = vnet_cycles();
			for (i = 0; i < n; i++) {
				uint64_t s, ts;
				memcpy(&s, in[i]->data + 14, 8);
				memcpy(&ts, in[i]->data + 22, 8);
				if (s != seq)
					continue; /* a late one from before: not a sample */
				back = 1;
				if (!ck.warm) {
					uint64_t c = now - ts;
					hist[hist_bucket(c * 1000000000u / ck.hz)]++;
					if (c > maxc)
						maxc = c;
					samples++;
				}
			}
			vnet_pool_free_bulk(in, n);
			if (n)
				vnet_rx_refill(r.dev, 0);
			if (r.m && !back)
				break; /* the model never loses one */
		}
		seq++;
		if (!back) {
			lost++;
			if (r.m)
				break;
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
	res->p50 = hist_pct(hist, samples, 50);
	res->p90 = hist_pct(hist, samples, 90);
	res->p99 = hist_pct(hist, samples, 99);
	res->p999 = hist_pct(hist, samples, 99.9);
	res->max = (double)maxc * 1e9 / (double)ck.hz;
	vnet_queue_stats(r.dev, 0, true, &res->rx);
	vnet_queue_stats(r.dev, 0, false, &res->tx);
	rig_close(&r);
	if (!o->quiet && samples) {
		uint32_t bk;
		fprintf(stderr, "latency histogram (ns, count):\n");
		for (bk = 0; bk < HIST_BUCKETS; bk++)
			if (hist[bk])
				fprintf(stderr, "  %10.0f %llu\n", bucket_ns(bk), (unsigned long long)hist[bk]);
	}
	return samples ? 0 : -EIO;
}

static void emit_hist(const struct opts *o, uint32_t frame)
{
	struct bench_row row = {0};
	char buf[32];
	uint32_t bk;

	/* the whole histogram as one JSON line, for the CDF plot */
	printf("{\"type\":\"latency_hist\",\"backend\":\"%s\",\"frame\":%u,\"buckets\":[", o->backend,
	       (unsigned)frame);
	for (bk = 0; bk < HIST_BUCKETS; bk++) {
		if (!hist[bk])
			continue;
		snprintf(buf, sizeof(buf), "%.0f", bucket_ns(bk));
		printf("%s[%s,%llu]", row.n++ ? "," : "", buf, (unsigned long long)hist[bk]);
	}
	printf("]}\n");
	fflush(stdout);
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
	if (o.mode == M_TCP) {
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
		double mpps;

		memset(&res, 0, sizeof(res));
		rc = o.mode == M_LATENCY ? run_latency(&o, o.frames[i], &res) : run_pps(&o, o.frames[i], &res);
		if (rc) {
			fprintf(stderr, "vnet-bench: %s failed: %s\n", mode_names[o.mode], vnet_strerror(rc));
			break;
		}
		gone = res.gone;
		mpps = res.seconds > 0 ? (double)res.packets / res.seconds / 1e6 : 0;
		bench_row_str(&row, "backend", o.backend);
		bench_row_str(&row, "mode", mode_names[o.mode]);
		bench_row_u64(&row, "frame", o.frames[i]);
		bench_row_u64(&row, "burst", o.burst);
		bench_row_u64(&row, "ring", o.ring);
		bench_row_str(&row, "layout", o.packed ? "packed" : o.in_order ? "split+in_order" : "split");
		bench_row_u64(&row, "packets", res.packets);
		bench_row_num(&row, "seconds", "%.3f", res.seconds);
		bench_row_num(&row, "mpps", "%.3f", mpps);
		bench_row_num(&row, "gbps", "%.3f", res.seconds > 0 ? (double)res.bytes * 8 / res.seconds / 1e9 : 0);
		bench_row_u64(&row, "tx_kicks", res.tx.kicks);
		bench_row_u64(&row, "rx_kicks", res.rx.kicks);
		bench_row_u64(&row, "drops", res.rx.drop_bad_id + res.rx.drop_bad_len + res.rx.drop_bad_idx +
		                                res.tx.drop_bad_id + res.tx.drop_bad_idx);
		if (o.mode == M_FLOWGEN)
			bench_row_num(&row, "tx_mpps", "%.3f",
			              res.seconds > 0 ? (double)res.tx_packets / res.seconds / 1e6 : 0);
		if (o.mode == M_LATENCY) {
			bench_row_num(&row, "p50_ns", "%.0f", res.p50);
			bench_row_num(&row, "p90_ns", "%.0f", res.p90);
			bench_row_num(&row, "p99_ns", "%.0f", res.p99);
			bench_row_num(&row, "p999_ns", "%.0f", res.p999);
			bench_row_num(&row, "max_ns", "%.0f", res.max);
			bench_row_u64(&row, "lost", res.lost);
		}
		stages_row(&row, &res);
		if (gone)
			bench_row_str(&row, "end", "backend-gone");
		bench_emit(&row);
		if (o.mode == M_LATENCY)
			emit_hist(&o, o.frames[i]);
	}
	if (!o.quiet)
		bench_table();
	return rc || gone ? 1 : 0;
}
