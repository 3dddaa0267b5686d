/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Indirect descriptors and queue reset end to end, on QEMU.
 *
 * Two virtio-net NICs on one QEMU hub (-netdev hubport): what NIC A sends,
 * NIC B receives, with no host network and no root. Three phases:
 *  1. A sends buffer chains of 1..8 segments (VIRTIO_F_INDIRECT_DESC: one
 *     ring descriptor each); B checks every byte and the order.
 *  2. B's RX queue, then A's TX queue right after a burst, are reset alone
 *     (VIRTIO_F_RING_RESET) and enabled again; every buffer is back in its
 *     pool. A device that does not reset the queue leaves it broken, and
 *     vnet_dev_recover() resets the whole device instead.
 *  3. Phase 1 again, on the queues set up afresh.
 * Command line: transport=pci|mmio; qreset=works|fallback|any (what phase 2
 * must see: works, both queues reset alone and counted in their
 * queue_resets; fallback, RING_RESET negotiated, both queue resets failing
 * and both NICs recovered by a device reset; any: report it);
 * indirect=on|off (must INDIRECT_DESC be negotiated); ring=packed|split|any
 * (the ring layout the driver must have set up: it asks for RING_PACKED,
 * and uses the packed layout when the device offers it). Prints "PASS
 * features" and exits 0x10 (QEMU status 33).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/baremetal.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#define RING 256
#define BURST 32
#define FRAMES 256 /* per phase */
#define MAX_SEGS 8
#define WAIT_US 3000000u
#define ETHERTYPE 0x88b5 /* local experimental */

struct nic {
	const char *name;
	struct vnet_transport *t;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct vnet_net_config cfg;
};

static struct nic a = {.name = "A"}, b = {.name = "B"};
static uint8_t frame[1514];
static int failed;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			printf("FAIL features: " __VA_ARGS__);   \
			printf("\n");                            \
			failed = 1;                              \
			return -1;                               \
		}                                                \
	} while (0)

static uint32_t frame_len(uint32_t seq) { return 60 + (seq * 97u) % 1455u; }

/* Frame @seq: B's MAC, A's MAC, ethertype, the sequence number, a pattern. */
static void frame_make(uint32_t seq)
{
	uint32_t i, len = frame_len(seq);

	memcpy(frame, b.cfg.mac, 6);
	memcpy(frame + 6, a.cfg.mac, 6);
	frame[12] = ETHERTYPE >> 8;
	frame[13] = ETHERTYPE & 0xff;
	memcpy(frame + 14, &seq, 4);
	for (i = 18; i < len; i++)
		frame[i] = (uint8_t)(seq * 7u + i * 13u + (i >> 8));
}

static int open_nic(struct nic *n, const char *transport, unsigned index, uint64_t want)
{
	const struct vnet_machine *m = vnet_machine();
	struct vnet_pool_conf pc = {.count = 1024};
	struct vnet_dev_conf dc = {0};
	int rc;

	if (!strcmp(transport, "pci")) {
		struct vnet_pci_opts po;

		memset(&po, 0, sizeof(po));
		po.ecam_base = m->pci_ecam;
		/* only for BARs firmware left unassigned: one window each */
		po.bar_window = (m->pci_bar_window ? m->pci_bar_window : VNET_PCI_BAR_WINDOW_DEFAULT) +
		                index * 0x1000000ull;
		po.index = index;
		rc = vnet_pci_open(&n->t, &po);
	} else {
		struct vnet_mmio_range r = {(uintptr_t)m->mmio_base, m->mmio_stride, m->mmio_count};

		rc = vnet_mmio_find_in(&n->t, vnet_cmdline(), m->mmio_count ? &r : NULL, index);
	}
	if (rc)
		return rc;
	if ((rc = vnet_pool_create(&n->pool, &pc)))
		return rc;
	dc.pool = n->pool;
	dc.rx_ring_size = dc.tx_ring_size = RING;
	dc.features = want;
	if ((rc = vnet_dev_open(&n->dev, n->t, &dc)))
		return rc;
	return vnet_dev_config(n->dev, &n->cfg);
}

/* Frame @seq as a chain of up to MAX_SEGS pool buffers of A. */
static struct vnet_buf *chain_make(uint32_t seq)
{
	uint32_t len = frame_len(seq), segs = seq % MAX_SEGS + 1, first, off = 0, i;
	struct vnet_buf *s[MAX_SEGS];

	if (vnet_pool_alloc_bulk(a.pool, s, segs))
		return NULL;
	frame_make(seq);
	first = len / segs < 18 ? 18 : len / segs;
	for (i = 0; i < segs; i++) {
		uint32_t l = i == 0 ? first : i + 1 == segs ? len - off : (len - first) / (segs - 1);

		memcpy(s[i]->data, frame + off, l);
		s[i]->len = l;
		s[i]->next = i + 1 < segs ? s[i + 1] : NULL;
		off += l;
	}
	s[0]->nb_segs = (uint16_t)segs;
	return s[0];
}

/* Check one received frame; @return its sequence number or -1. */
static int64_t frame_check(const struct vnet_buf *f)
{
	uint32_t seq;

	if (f->nb_segs != 1 || f->len < 18)
		return -1;
	memcpy(&seq, f->data + 14, 4);
	frame_make(seq);
	if (f->len != frame_len(seq) || memcmp(f->data, frame, f->len))
		return -1;
	return seq;
}

/* Send frames [from, to) as chains in bursts, B takes each burst whole and
 * in order. @return 0 or -1. */
static int run_traffic(uint32_t from, uint32_t to)
{
	uint32_t seq = from, want = from;

	while (seq < to) {
		struct vnet_buf *c[BURST], *in[BURST];
		uint32_t n = to - seq < BURST ? to - seq : BURST, i, sent = 0;
		uint64_t deadline = vnet_now_us() + WAIT_US;

		for (i = 0; i < n; i++) {
			c[i] = chain_make(seq + i);
			CHECK(c[i], "pool A ran dry at frame %u", (unsigned)(seq + i));
		}
		while (sent < n && vnet_now_us() < deadline)
			sent += vnet_tx_burst(a.dev, 0, c + sent, (uint16_t)(n - sent));
		CHECK(sent == n, "A sent %u of %u frames", (unsigned)sent, (unsigned)n);
		seq += n;
		while (want < seq && vnet_now_us() < deadline) {
			uint16_t got = vnet_rx_burst(b.dev, 0, in, BURST), k;

			for (k = 0; k < got; k++) {
				int64_t s = frame_check(in[k]);

				if (s != (int64_t)want) {
					printf("FAIL features: B got frame %lld, want %u (len %u)\n", (long long)s,
					       (unsigned)want, (unsigned)in[k]->len);
					failed = 1;
				}
				want++;
			}
			vnet_pool_free_bulk(in, got);
			vnet_rx_refill(b.dev, 0);
			vnet_tx_reclaim(a.dev, 0);
		}
		CHECK(!failed, "content");
		CHECK(want == seq, "B received %u of %u frames", (unsigned)(want - from), (unsigned)(seq - from));
	}
	return 0;
}

/* Everything sent is back: each pool holds only its RX ring. */
static int pools_whole(const char *when)
{
	uint64_t deadline = vnet_now_us() + WAIT_US;

	while (vnet_tx_free(a.dev, 0) != RING && vnet_now_us() < deadline)
		vnet_tx_reclaim(a.dev, 0);
	CHECK(vnet_pool_in_use(a.pool) == RING && vnet_pool_in_use(b.pool) == RING,
	      "%s: buffers in use A %u B %u, want %u each", when, (unsigned)vnet_pool_in_use(a.pool),
	      (unsigned)vnet_pool_in_use(b.pool), RING);
	return 0;
}

/* Reset one queue alone, or (the device did not) recover the device. */
static int queue_reset(struct nic *n, bool rx, const char *expect, int *how)
{
	int rc = vnet_dev_queue_reset(n->dev, 0, rx);

	printf("features: %s %s queue reset: %s\n", n->name, rx ? "RX" : "TX", rc ? vnet_strerror(rc) : "done alone");
	if (rc == 0) {
		CHECK(strcmp(expect, "fallback"), "the queue reset worked where a fallback was expected");
		*how = 1;
		return 0;
	}
	CHECK(strcmp(expect, "works"), "queue reset failed: %s", vnet_strerror(rc));
	CHECK(vnet_dev_broken(n->dev) == 1, "a failed queue reset must leave the queue broken");
	rc = vnet_dev_recover(n->dev);
	CHECK(rc == 0, "%s: recovery: %s", n->name, vnet_strerror(rc));
	printf("features: %s recovered by a device reset\n", n->name);
	*how = 2;
	return 0;
}

static const char *how_name(int how)
{
	return how == 1 ? "alone" : how == 2 ? "device reset" : "none";
}

static int run(const char *transport, const char *qreset, bool want_indirect, const char *ring)
{
	uint64_t want = VNET_F_DEFAULT | VNET_F_INDIRECT_DESC | VNET_F_RING_RESET | VNET_F_RING_PACKED;
	struct vnet_queue_stats st, sta;
	struct vnet_buf *in[BURST];
	uint32_t stray = 0, i;
	int rc, how_b = 0, how_a = 0;

	rc = open_nic(&a, transport, 0, want);
	CHECK(rc == 0, "NIC A (%s #0): %s", transport, vnet_strerror(rc));
	rc = open_nic(&b, transport, 1, want);
	CHECK(rc == 0, "NIC B (%s #1): %s", transport, vnet_strerror(rc));
	printf("features: %s, negotiated 0x%llx: INDIRECT_DESC %s, RING_RESET %s, %s ring\n", transport,
	       (unsigned long long)a.cfg.features, (a.cfg.features & VNET_F_INDIRECT_DESC) ? "yes" : "no",
	       (a.cfg.features & VNET_F_RING_RESET) ? "yes" : "no",
	       (a.cfg.features & VNET_F_RING_PACKED) ? "packed" : "split");
	CHECK(!want_indirect || (a.cfg.features & VNET_F_INDIRECT_DESC), "INDIRECT_DESC not negotiated");
	CHECK(!strcmp(ring, "any") || !strcmp(ring, (a.cfg.features & VNET_F_RING_PACKED) ? "packed" : "split"),
	      "the %s ring is in use, want %s", (a.cfg.features & VNET_F_RING_PACKED) ? "packed" : "split", ring);
	CHECK((a.cfg.features & VNET_F_RING_PACKED) == (b.cfg.features & VNET_F_RING_PACKED),
	      "the two NICs use different ring layouts");

	/* 1: chains through indirect tables */
	if (run_traffic(0, FRAMES) || pools_whole("phase 1"))
		return -1;
	vnet_queue_stats(a.dev, 0, false, &st);
	printf("features: phase 1: %u chains of 1..%d buffers received intact, %llu copied\n", FRAMES, MAX_SEGS,
	       (unsigned long long)st.tx_copied);
	CHECK(!(a.cfg.features & VNET_F_INDIRECT_DESC) || st.tx_copied == 0, "chains copied despite INDIRECT_DESC");

	/* 2: B's RX queue alone, then A's TX queue with frames in flight */
	if (a.cfg.features & VNET_F_RING_RESET) {
		if (queue_reset(&b, true, qreset, &how_b))
			return -1;
		for (i = 0; i < BURST; i++) {
			struct vnet_buf *c = chain_make(FRAMES + i);

			CHECK(c && vnet_tx_burst(a.dev, 0, &c, 1) == 1, "A: burst before its TX reset");
		}
		if (queue_reset(&a, false, qreset, &how_a))
			return -1;
		CHECK(vnet_tx_free(a.dev, 0) == RING, "A: TX buffers still held after the reset");
		/* what made it out before the reset may still arrive: take it */
		for (uint64_t end = vnet_now_us() + 200000; vnet_now_us() < end;) {
			uint16_t got = vnet_rx_burst(b.dev, 0, in, BURST), k;

			for (k = 0; k < got; k++)
				stray += frame_check(in[k]) >= FRAMES;
			vnet_pool_free_bulk(in, got);
			vnet_rx_refill(b.dev, 0);
		}
		if (pools_whole("phase 2"))
			return -1;
		printf("features: phase 2: %u of %u frames in flight at A's TX reset came through\n",
		       (unsigned)stray, BURST);
	} else {
		/* nothing to exercise: only qreset=any may pass like this */
		CHECK(!strcmp(qreset, "any"), "RING_RESET not negotiated: qreset=%s cannot be exercised", qreset);
	}

	/* 3: again, on the fresh queues */
	if (run_traffic(FRAMES + BURST, 2 * FRAMES + BURST) || pools_whole("phase 3"))
		return -1;
	vnet_queue_stats(b.dev, 0, true, &st);
	vnet_queue_stats(a.dev, 0, false, &sta);
	printf("features: phase 3: %u more chains intact; B RX queue resets %llu (%s), A TX queue resets %llu (%s)\n",
	       FRAMES, (unsigned long long)st.queue_resets, how_name(how_b), (unsigned long long)sta.queue_resets,
	       how_name(how_a));
	/* what phase 2 must have done, by the driver's own counters too */
	if (!strcmp(qreset, "works"))
		CHECK(how_b == 1 && how_a == 1 && st.queue_resets >= 1 && sta.queue_resets >= 1,
		      "qreset=works: the queues were not reset alone (B RX %s, %llu resets; A TX %s, %llu)",
		      how_name(how_b), (unsigned long long)st.queue_resets, how_name(how_a),
		      (unsigned long long)sta.queue_resets);
	if (!strcmp(qreset, "fallback"))
		CHECK(how_b == 2 && how_a == 2, "qreset=fallback: no fallback to a device reset (B RX %s, A TX %s)",
		      how_name(how_b), how_name(how_a));
	return 0;
}

int vnet_main(const char *cmdline)
{
	char transport[8] = "pci", qreset[12] = "any", ind[8] = "on", ring[8] = "any";

	printf("features: vnet %s, command line \"%s\"\n", vnet_version(), cmdline);
	vnet_cmdline_get("transport", transport, sizeof(transport));
	vnet_cmdline_get("qreset", qreset, sizeof(qreset));
	vnet_cmdline_get("indirect", ind, sizeof(ind));
	vnet_cmdline_get("ring", ring, sizeof(ring));
	if (run(transport, qreset, !strcmp(ind, "on"), ring) || failed)
		return 1;
	vnet_dev_close(a.dev);
	vnet_dev_close(b.dev);
	if (vnet_pool_in_use(a.pool) || vnet_pool_in_use(b.pool)) {
		printf("FAIL features: buffers still out after close\n");
		return 1;
	}
	printf("PASS features\n");
	return VNET_EXIT_SUCCESS;
}
