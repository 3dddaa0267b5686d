/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet-bench-bm: vnet-bench as a bare-metal image, booted by QEMU (PVH)
 * and configured from its command line (-append):
 *
 *   mode=txonly|rxonly|forward|macswap|latency   (txonly)
 *   frame=60..1518     bytes per frame, without FCS           (60)
 *   burst=1..256       frames per burst                        (32)
 *   ring=N             RX/TX descriptors, a power of two       (256)
 *   pool=N             buffers                      (queues*(2*ring+1024))
 *   queues=N           queue pairs, 1..16 (> 1 needs VIRTIO_NET_F_MQ) (1)
 *   duration=SEC       measured time, decimals allowed         (2)
 *   warmup=SEC         unmeasured time before it               (0.2)
 *   wait=SEC           rxonly/forward/latency: first-frame wait (10)
 *   timeout=MS         latency: one round trip's limit         (100)
 *   peer=MAC           destination MAC of generated frames     (02:00:00:00:00:01)
 *   ip=A.B.C.D[/N]     source IPv4                             (10.99.0.2)
 *   peer_ip=A.B.C.D    destination IPv4                        (10.99.0.1)
 *   stages=0|1         per-stage cycle accounting              (1)
 *   hist=0|1           print the latency histogram as JSON     (1)
 *   txring=N           TX ring size, when not ring= (QEMU's tap backend
 *                      caps TX queues at 256)                  (ring)
 *   relax=0|1          PAUSE after a poll that found no work   (0)
 *   idle=US            rxonly/forward: after US microseconds without a
 *                      frame, halt until the next one (MSI-X) or 5 ms;
 *                      0 spins (x86_64 q35 only: MSI-X wired)  (0)
 *   txwait=US          txonly: when less than a burst fits in the TX
 *                      ring, halt US microseconds (the timer ends it)
 *                      instead of polling for room: the device still
 *                      holds the ring's worth of work; 0 spins  (0)
 *   drain=SEC          rxonly: after the window, keep taking frames until
 *                      none came for SEC, so that the whole-run counts
 *                      (rx_total, per queue) hold every frame the device
 *                      took in, for comparison with what a peer sent;
 *                      bounded by 30 s (0: stop at the window's end) (0)
 *   transport=auto|pci|mmio                                    (auto)
 *   log=0..3           library log level: error, warn, info, debug (1)
 *   rss=0|1            steer received frames by RSS (VNET_F_RSS; needs
 *                      queues > 1): every hash type of IPv4/IPv6 with
 *                      TCP/UDP the device supports, the default key and,
 *                      unless rss_queue=, the default round-robin table (0)
 *   rss_queue=N        rss=1: every table entry, and unclassified, is pair N
 *   hash=0|1           ask for hash reports (VNET_F_HASH_REPORT): with
 *                      rss=1 the RSS hash, else a hash configuration of
 *                      the same types (0)
 *
 * Prints "READY mac=... transport=..." once the device is up, then one
 * JSON line per result and a table (bench/core/out.c's format), a
 * "stages:" line and, for latency, a {"hist":...} line. Exits with
 * VNET_EXIT_SUCCESS (QEMU status 33) when it measured something.
 *
 * With queues=N the throughput modes run the loop body for each pair in
 * turn (pair q's frames come from UDP port 9 + q); the JSON gets the
 * queue count and whole-run totals, and a {"per_queue":...} line follows
 * with each pair's counts. latency uses pair 0 only. With rss= or hash=,
 * an "rss: ..." line before READY gives the configuration (hash types,
 * key, table) and, after the results, one {"rss_flow":...} line per
 * UDP/IPv4 flow received (the pair its first frame came on, frames that
 * came on another, the hash reported) and a {"rss":...} line with each
 * pair's rx_hashed and rx_bad_hash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/baremetal.h>
#include <vnet/transports.h>

#include "bm.h"
#include "base/platform.h"
#include "core/modes.h"
#include "core/out.h"

static void console_log(enum vnet_log_level lvl, const char *msg, void *arg)
{
	static const char *names[] = {"error", "warn", "info", "debug"};

	(void)arg;
	printf("vnet %s: %s\n", names[lvl <= VNET_LOG_DEBUG ? lvl : VNET_LOG_DEBUG], msg);
}

static int arg_u32(const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char v[32];
	unsigned long n;

	if (vnet_cmdline_get(key, v, sizeof(v)))
		return 0; /* absent: keep the default */
	if (bench_parse_u(v, lo, hi, &n)) {
		printf("vnet-bench-bm: %s=%s: want %u..%u\n", key, v, (unsigned)lo, (unsigned)hi);
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

/* "2", "0.25", "10.5": seconds with up to 6 decimals, into microseconds. */
static int arg_seconds(const char *key, uint64_t *out_us)
{
	char v[32];
	const char *p;
	uint64_t whole = 0, frac = 0, scale = 1000000;
	int digits = 0;

	if (vnet_cmdline_get(key, v, sizeof(v)))
		return 0;
	for (p = v; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
		whole = whole * 10 + (uint64_t)(*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	if (*p || p == v || whole > 3600) {
		printf("vnet-bench-bm: %s=%s: want seconds (0..3600, e.g. 2.5)\n", key, v);
		return -EINVAL;
	}
	*out_us = whole * 1000000 + frac;
	return 0;
}

static int parse_ip4(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char *end;
		unsigned long n = strtoul(s, &end, 10);
		if (end == s || n > 255 || (i < 3 && *end != '.'))
			return -EINVAL;
		v = v << 8 | (uint32_t)n;
		s = end + (i < 3);
		if (i == 3 && *end && *end != '/')
			return -EINVAL;
	}
	*ip = v;
	return 0;
}

static int arg_ip(const char *key, uint32_t *ip)
{
	char v[40];

	if (vnet_cmdline_get(key, v, sizeof(v)))
		return 0;
	if (parse_ip4(v, ip)) {
		printf("vnet-bench-bm: %s=%s: want A.B.C.D\n", key, v);
		return -EINVAL;
	}
	return 0;
}

static int parse_opts(struct bm_opts *o)
{
	static const uint8_t def_peer[6] = {0x02, 0, 0, 0, 0, 0x01};
	uint32_t frame = 60, burst = 32, ring = 256, pool = 0, stages = 1, hist = 1, tmo_ms = 100, relax = 0;
	uint32_t queues = 1, log = VNET_LOG_WARN, idle = 0, txring = 0, txwait = 0;
	uint32_t rss = 0, hash = 0, rss_queue = UINT32_MAX;
	char v[32];

	memset(o, 0, sizeof(*o));
	o->mode = BENCH_TXONLY;
	o->duration_us = 2000000;
	o->warmup_us = 200000;
	o->wait_us = 10000000;
	o->fc.ip = 0x0a630002;      /* 10.99.0.2 */
	o->fc.peer_ip = 0x0a630001; /* 10.99.0.1 */
	memcpy(o->fc.dst, def_peer, 6);
	/* the image's modes: not vnet-bench's tcp and flowgen, nor its
	 * "loopback" (the model's name for forward) */
	if (vnet_cmdline_get("mode", v, sizeof(v)) == 0 &&
	    (bench_mode_parse(v, &o->mode) || o->mode > BENCH_LATENCY || !strcmp(v, "loopback"))) {
		printf("vnet-bench-bm: mode=%s: want txonly, rxonly, forward (macswap) or latency\n", v);
		return -EINVAL;
	}
	if (arg_u32("frame", BENCH_MIN_FRAME, BENCH_MAX_FRAME, &frame) ||
	    arg_u32("burst", 1, BENCH_MAX_BURST, &burst) ||
	    arg_u32("ring", 2, 32768, &ring) || arg_u32("txring", 0, 32768, &txring) ||
	    arg_u32("pool", 0, 1u << 20, &pool) ||
	    arg_u32("stages", 0, 1, &stages) || arg_u32("hist", 0, 1, &hist) || arg_u32("relax", 0, 1, &relax) ||
	    arg_u32("timeout", 1, 10000, &tmo_ms) || arg_u32("queues", 1, BM_MAX_QUEUES, &queues) ||
	    arg_u32("log", 0, 3, &log) || arg_u32("idle", 0, 1000000, &idle) ||
	    arg_u32("txwait", 0, 100000, &txwait) ||
	    arg_seconds("duration", &o->duration_us) ||
	    arg_seconds("warmup", &o->warmup_us) || arg_seconds("wait", &o->wait_us) ||
	    arg_seconds("drain", &o->drain_us) || arg_ip("ip", &o->fc.ip) ||
	    arg_ip("peer_ip", &o->fc.peer_ip) || arg_u32("rss", 0, 1, &rss) || arg_u32("hash", 0, 1, &hash) ||
	    arg_u32("rss_queue", 0, BM_MAX_QUEUES - 1, &rss_queue))
		return -EINVAL;
	if ((rss && queues < 2) || (rss_queue != UINT32_MAX && (!rss || rss_queue >= queues))) {
		printf("vnet-bench-bm: rss=1 needs queues > 1, rss_queue= needs rss=1 and a pair below queues\n");
		return -EINVAL;
	}
	o->rss = (int)rss;
	o->hash = (int)hash;
	o->rss_queue = rss_queue == UINT32_MAX ? -1 : (int)rss_queue;
	if (!bench_pow2(ring) || !bench_pow2(txring)) {
		printf("vnet-bench-bm: ring=%u txring=%u: want powers of two\n", (unsigned)ring, (unsigned)txring);
		return -EINVAL;
	}
	if (vnet_cmdline_get("peer", v, sizeof(v)) == 0 && vnet_parse_mac(v, o->fc.dst)) {
		printf("vnet-bench-bm: peer=%s: want aa:bb:cc:dd:ee:ff\n", v);
		return -EINVAL;
	}
	if (o->duration_us == 0) {
		printf("vnet-bench-bm: duration must be > 0\n");
		return -EINVAL;
	}
	o->frame = frame;
	o->burst = (uint16_t)burst;
	o->ring = (uint16_t)ring;
	o->txring = (uint16_t)(txring ? txring : ring);
	o->queues = (uint16_t)queues;
	o->log = (int)log;
	o->pool = pool ? pool : queues * (2u * ring + 4u * BENCH_MAX_BURST);
	o->stages = (int)stages;
	o->hist = (int)hist;
	o->relax = (int)relax;
	o->idle_us = idle;
	o->txwait_us = txwait;
	o->timeout_us = (uint64_t)tmo_ms * 1000;
	return 0;
}

static int rig_open(struct bm_rig *r, const struct bm_opts *o)
{
	char which[8] = "auto";
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct vnet_net_config cfg;
	int rc = -ENODEV;

	memset(r, 0, sizeof(*r));
	vnet_cmdline_get("transport", which, sizeof(which));
	if (!strcmp(which, "auto") || !strcmp(which, "pci")) {
		struct vnet_pci_opts po = {0};
		const struct vnet_machine *m = vnet_machine();

		po.ecam_base = m->pci_ecam;
		po.bar_window = m->pci_bar_window;
		po.io_window = m->pci_io_window;
		po.io_window_size = m->pci_io_size;
		if (o->idle_us) { /* MSI-X wakes a halted loop (run.c) */
			po.msi_addr = m->msi_addr;
			po.msi_data = m->msi_data;
		}
		rc = vnet_pci_open(&r->t, &po);
		r->transport = "pci";
		r->irq = rc == 0 && po.msi_addr != 0;
	}
	if (rc && (!strcmp(which, "auto") || !strcmp(which, "mmio"))) {
		rc = vnet_mmio_find(&r->t, vnet_cmdline(), 0);
		r->transport = "mmio";
	}
	if (rc) {
		printf("vnet-bench-bm: no virtio-net device (%s): %s\n", which, vnet_strerror(rc));
		return rc;
	}
	pc.count = o->pool;
	if ((rc = vnet_pool_create(&r->pool, &pc))) {
		printf("vnet-bench-bm: pool of %u: %s\n", (unsigned)o->pool, vnet_strerror(rc));
		goto fail_t;
	}
	if (vnet_pool_data_room(r->pool) < o->frame) {
		printf("vnet-bench-bm: frame %u does not fit a buffer\n", (unsigned)o->frame);
		rc = -EINVAL;
		goto fail_pool;
	}
	dc.pool = r->pool;
	dc.rx_ring_size = o->ring;
	dc.tx_ring_size = o->txring;
	dc.queue_pairs = o->queues;
	if (o->rss || o->hash)
		dc.features = VNET_F_DEFAULT | VNET_F_CTRL_VQ | (o->rss ? VNET_F_RSS : 0) |
		              (o->hash ? VNET_F_HASH_REPORT : 0);
	rc = vnet_dev_open(&r->dev, r->t, &dc);
	if (rc == -ENODEV && o->queues > 1 && !strcmp(r->transport, "pci"))
		/* QEMU's virtio-net grows num_queues from 3 to 2N+1 only when MQ
		 * is negotiated (and back at reset): a PCI transport that keeps
		 * the count it read at open does not see pairs 1..N-1 */
		printf("vnet-bench-bm: queue pairs 1..%u missing: does the PCI transport re-read num_queues "
		       "after FEATURES_OK?\n", (unsigned)o->queues - 1);
	if (rc) {
		printf("vnet-bench-bm: device: %s\n", vnet_strerror(rc));
		goto fail_pool;
	}
	vnet_dev_config(r->dev, &cfg);
	printf("vnet-bench-bm: %s nic %02x:%02x:%02x:%02x:%02x:%02x link %s features 0x%llx, "
	       "%u of %u queue pairs, tsc %llu kHz\n",
	       r->transport, cfg.mac[0], cfg.mac[1], cfg.mac[2], cfg.mac[3], cfg.mac[4], cfg.mac[5],
	       cfg.link_up ? "up" : "down", (unsigned long long)cfg.features, (unsigned)vnet_dev_queue_pairs(r->dev),
	       (unsigned)cfg.max_pairs, (unsigned long long)(vnet_cycles_hz() / 1000));
	return 0;
fail_pool:
	vnet_pool_destroy(r->pool);
fail_t:
	vnet_transport_close(r->t);
	return rc;
}

static void rig_close(struct bm_rig *r)
{
	vnet_dev_close(r->dev);
	if (vnet_pool_in_use(r->pool))
		printf("vnet-bench-bm: %u buffers still out\n", (unsigned)vnet_pool_in_use(r->pool));
	vnet_pool_destroy(r->pool);
	vnet_transport_close(r->t);
}

int vnet_main(const char *cmdline)
{
	static struct bm_result res;
	struct bm_opts o;
	struct bm_rig r;
	uint8_t *m;
	int rc;

	printf("vnet-bench-bm: vnet %s, command line \"%s\"\n", vnet_version(), cmdline);
	vnet_set_log(console_log, NULL, VNET_LOG_WARN);
	if (parse_opts(&o))
		return 1;
	vnet_set_log(console_log, NULL, (enum vnet_log_level)o.log);
	if (bm_clock_init())
		printf("vnet-bench-bm: no HPET: rates use the boot-time TSC calibration\n");
	if (rig_open(&r, &o))
		return 1;
	if (bm_rss_setup(&r, &o)) {
		rig_close(&r);
		return 1;
	}
	{
		struct vnet_net_config cfg;
		vnet_dev_config(r.dev, &cfg);
		memcpy(o.fc.src, cfg.mac, 6);
	}
	m = o.fc.src;
	if (o.mode == BENCH_LATENCY && o.queues > 1)
		printf("vnet-bench-bm: latency runs on queue pair 0 only\n");
	printf("READY mac=%02x:%02x:%02x:%02x:%02x:%02x transport=%s mode=%s frame=%u burst=%u ring=%u queues=%u\n",
	       m[0], m[1], m[2], m[3], m[4], m[5], r.transport, bench_mode_names[o.mode], (unsigned)o.frame,
	       (unsigned)o.burst, (unsigned)o.ring, (unsigned)o.queues);
	rc = bm_run(&r, &o, &res);
	if (rc) {
		printf("vnet-bench-bm: %s: %s (rx %llu, tx %llu packets)\n", bench_mode_names[o.mode], vnet_strerror(rc),
		       (unsigned long long)res.rx.packets, (unsigned long long)res.tx.packets);
		rig_close(&r);
		return 1;
	}
	bm_report(&r, &o, &res);
	bench_table();
	rig_close(&r);
	printf("vnet-bench-bm: done\n");
	return VNET_EXIT_SUCCESS;
}
