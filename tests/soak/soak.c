/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Soak: many packets through the device model's loopback with faults
 * injected at a set rate by a seeded PRNG (the seed is printed; --seed
 * replays a run). After every burst:
 *   buffers in flight + in the pool + held by the application == pool size
 * and every frame delivered is intact (sequence number, length, payload)
 * and newer than the one before: faults may drop frames, never corrupt,
 * duplicate or reorder them. (BAD_CSUM is the device corrupting data on
 * purpose; those frames must differ in exactly the flipped byte and are
 * counted against the faults injected.) At the end every frame sent is
 * accounted for: received, or lost within the bound that the faults
 * injected explain (with no faults: none lost).
 *
 *   soak [--packets N] [--seed S] [--fault-every B] [--max-seconds T]
 *
 * --fault-every B: one fault per B bursts on average (0: no faults).
 * Prints the figures: packets, faults by kind, drops by counter, time.
 * Exit 0 when every check held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz/fuzz_common.h" /* fuzz_dev_out: descriptors out, white box */
#include <vnet/model.h>
#include <vnet/vnet.h>

#define POOL_BUFS 1024
#define RING 256
#define BURST 32
#define PAT_SIZE 4096
#define MAX_HOLD 256

enum kind {
	K_USED_ID_RANGE, K_USED_ID_IDLE, K_USED_DUP, K_USED_LEN, K_USED_IDX_JUMP,
	K_NEEDS_RESET, K_CONFIG_CHURN, K_BAD_CSUM, K_LINK_FLAP, K_STALL, K_HOLD,
	K_RESET_STUCK, K_REFUSE_FEATURES, K__COUNT
};

static const char *const kind_name[K__COUNT] = {
	"used id out of range", "used id not in flight", "used entry twice", "used len too long",
	"used idx jump", "device needs reset", "config churn", "payload byte flipped",
	"link down/up", "device stalls", "app holds RX buffers", "reset stuck (at recover)",
	"features refused (at recover)"};

struct soak {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	uint64_t rng;
	uint8_t pat[PAT_SIZE + 1600];
	struct vnet_buf *held[MAX_HOLD];
	uint32_t nheld;
	uint64_t sent, got, next_expect;
	uint64_t lost_bound;        /* frames the faults so far may have cost */
	uint64_t flipped, bad_csum_armed;
	uint64_t faults[K__COUNT];
	uint64_t recovers, recover_fail, broken_seen;
	uint32_t stall_left, link_down_left, hold_left;
	uint32_t stuck_pending, refuse_pending;
	struct vnet_queue_stats rx_acc, tx_acc; /* counters, summed over recovers */
};

static struct soak S;

static uint64_t rnd(void)
{
	/* xorshift64* */
	S.rng ^= S.rng >> 12;
	S.rng ^= S.rng << 25;
	S.rng ^= S.rng >> 27;
	return S.rng * 2685821657736338717ull;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define FAIL(...)                                                                \
	do {                                                                     \
		fprintf(stderr, "soak: FAILED (seed %" PRIu64 "): ", seed);    \
		fprintf(stderr, __VA_ARGS__);                                    \
		fputc('\n', stderr);                                             \
		exit(1);                                                         \
	} while (0)

static uint64_t seed;

/* Mostly short frames (the fast path), one in 16 up to a full 1514. */
static uint32_t seq_len(uint64_t s)
{
	uint64_t h = s * 0x9E3779B97F4A7C15ull;

	if ((h >> 60) == 0)
		return 60u + (uint32_t)((h >> 20) % 1455u);
	return 60u + (uint32_t)((h >> 20) % 196u);
}

static const uint8_t *seq_pat(uint64_t s)
{
	return S.pat + ((s * 97u) & (PAT_SIZE - 1));
}

static void fill(struct vnet_buf *b, uint64_t s)
{
	static const uint8_t hdr[14] = {0x52, 0x54, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5};
	uint32_t len = seq_len(s);

	memcpy(b->data, hdr, 14);
	memcpy(b->data + 14, &s, 8);
	memcpy(b->data + 22, seq_pat(s), len - 22);
	b->len = len;
}

static void check_frame(const struct vnet_buf *b)
{
	uint64_t s;
	uint32_t len;
	const uint8_t *want;

	if (b->len < 22)
		FAIL("runt of %u bytes", (unsigned)b->len);
	memcpy(&s, b->data + 14, 8);
	if (s < S.next_expect)
		FAIL("seq %" PRIu64 " after %" PRIu64 ": duplicated or reordered", s, S.next_expect - 1);
	if (s >= S.sent)
		FAIL("seq %" PRIu64 " was never sent (%" PRIu64 " sent)", s, S.sent);
	len = seq_len(s);
	if (b->len != len)
		FAIL("seq %" PRIu64 ": len %u, sent %u", s, (unsigned)b->len, (unsigned)len);
	want = seq_pat(s);
	if (memcmp(b->data + 22, want, len - 22) != 0) {
		/* only the last byte flipped, and only while BAD_CSUM was armed */
		uint8_t flipped = (uint8_t)~want[len - 23];

		if (S.flipped < S.bad_csum_armed && b->data[len - 1] == flipped &&
		    memcmp(b->data + 22, want, len - 23) == 0)
			S.flipped++;
		else
			FAIL("seq %" PRIu64 " (len %u): payload damaged", s, (unsigned)len);
	}
	S.next_expect = s + 1;
	S.got++;
}

static void stats_add(struct vnet_queue_stats *acc, const struct vnet_queue_stats *q)
{
	acc->packets += q->packets;
	acc->drop_bad_id += q->drop_bad_id;
	acc->drop_bad_len += q->drop_bad_len;
	acc->drop_bad_idx += q->drop_bad_idx;
	acc->drop_pool_empty += q->drop_pool_empty;
	acc->drop_ring_full += q->drop_ring_full;
	acc->kicks += q->kicks;
}

static void account(void)
{
	uint32_t out = fuzz_dev_out(S.dev, NULL, NULL);
	uint32_t in_use = vnet_pool_in_use(S.pool);
	uint32_t free_bufs = vnet_pool_count(S.pool) - in_use;

	if (out + free_bufs + S.nheld != POOL_BUFS)
		FAIL("in flight %u + in pool %u + held %u != %u", (unsigned)out, (unsigned)free_bufs,
		     (unsigned)S.nheld, (unsigned)POOL_BUFS);
}

/* The application notices a broken device and recovers it. Whatever was
 * in flight is lost (bounded by what the rings held). */
static void recover(void)
{
	struct vnet_queue_stats rx0, tx0, q;
	uint32_t rx_out, tx_out;
	int tries, rc = 0;

	if (vnet_dev_broken(S.dev) != 1)
		return;
	S.broken_seen++;
	fuzz_dev_out(S.dev, &rx_out, &tx_out);
	S.lost_bound += rx_out + tx_out;
	vnet_queue_stats(S.dev, 0, true, &rx0);
	vnet_queue_stats(S.dev, 0, false, &tx0);
	if (S.stuck_pending) {
		/* the reset in stop and the one in the handshake */
		vnet_model_fault(S.m, VNET_FAULT_RESET_STUCK, 2);
		S.stuck_pending = 0;
	}
	if (S.refuse_pending) {
		vnet_model_fault(S.m, VNET_FAULT_REFUSE_FEATURES, 1);
		S.refuse_pending = 0;
	}
	for (tries = 0; tries < 8; tries++) {
		rc = vnet_dev_recover(S.dev);
		account();
		if (rc == 0)
			break;
		if (rc != -ETIMEDOUT && rc != -EPROTO && rc != -EIO)
			FAIL("recover: %s", vnet_strerror(rc));
		S.recover_fail++;
	}
	if (rc != 0)
		FAIL("device did not come back after %d recovers", tries);
	/* if recover started the counters again, keep what they had */
	vnet_queue_stats(S.dev, 0, true, &q);
	if (q.packets < rx0.packets)
		stats_add(&S.rx_acc, &rx0);
	vnet_queue_stats(S.dev, 0, false, &q);
	if (q.packets < tx0.packets)
		stats_add(&S.tx_acc, &tx0);
	S.recovers++;
	S.next_expect = S.sent; /* nothing from before the reset may show up */
}

static void inject(void)
{
	enum kind k = (enum kind)(rnd() % K__COUNT);
	uint32_t n;

	S.faults[k]++;
	switch (k) {
	case K_USED_ID_RANGE: vnet_model_fault(S.m, VNET_FAULT_USED_ID_RANGE, 1); break;
	case K_USED_ID_IDLE: vnet_model_fault(S.m, VNET_FAULT_USED_ID_IDLE, 1); break;
	case K_USED_DUP: vnet_model_fault(S.m, VNET_FAULT_USED_DUP, 1); break;
	case K_USED_LEN:
		vnet_model_fault(S.m, VNET_FAULT_USED_LEN, 1);
		S.lost_bound++;
		break;
	case K_USED_IDX_JUMP: vnet_model_fault(S.m, VNET_FAULT_USED_IDX_JUMP, 1); break;
	case K_NEEDS_RESET: vnet_model_fault(S.m, VNET_FAULT_NEEDS_RESET, 1); break;
	case K_CONFIG_CHURN: {
		struct vnet_net_config c;
		vnet_model_fault(S.m, VNET_FAULT_CONFIG_CHURN, 1 + (uint32_t)(rnd() % 8));
		if (vnet_dev_config(S.dev, &c) != 0 || c.link_up != (S.link_down_left == 0))
			FAIL("config read through churn gave a wrong answer");
		vnet_model_fault(S.m, VNET_FAULT_CONFIG_CHURN, 0);
		break;
	}
	case K_BAD_CSUM:
		vnet_model_fault(S.m, VNET_FAULT_BAD_CSUM, 1);
		S.bad_csum_armed++;
		break;
	case K_LINK_FLAP:
		n = 1 + (uint32_t)(rnd() % 20);
		if (!S.link_down_left)
			vnet_model_set_link(S.m, false);
		S.link_down_left += n;
		/* everything sent meanwhile, and the TX ring at the flip */
		S.lost_bound += RING + (uint64_t)n * BURST;
		break;
	case K_STALL: S.stall_left += 1 + (uint32_t)(rnd() % 50); break;
	case K_HOLD: S.hold_left += 1 + (uint32_t)(rnd() % 100); break;
	case K_RESET_STUCK: S.stuck_pending = 1; break;
	case K_REFUSE_FEATURES: S.refuse_pending = 1; break;
	case K__COUNT: break;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: soak [--packets N] [--seed S] [--fault-every BURSTS] [--max-seconds T]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {.count = POOL_BUFS};
	struct vnet_dev_conf dc = {.rx_ring_size = RING, .tx_ring_size = RING};
	struct vnet_model_stats ms;
	struct vnet_buf *b[BURST], *in[64];
	uint64_t packets = 50000000, fault_every = 200, bursts = 0, drain, i;
	double t0, max_s = 0, secs;
	int a;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	for (a = 1; a < argc; a++) {
		if (a + 1 >= argc)
			usage();
		if (!strcmp(argv[a], "--packets"))
			packets = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--seed"))
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--fault-every"))
			fault_every = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--max-seconds"))
			max_s = strtod(argv[++a], NULL);
		else
			usage();
	}
	printf("soak: %" PRIu64 " packets, seed %" PRIu64 ", one fault per %" PRIu64 " bursts of %d\n",
	       packets, seed, fault_every, BURST);
	fflush(stdout);
	S.rng = seed ? seed : 1;
	for (i = 0; i < sizeof(S.pat); i++)
		S.pat[i] = (uint8_t)rnd();
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
	if (vnet_model_create(&S.m, &mc) || vnet_pool_create(&S.pool, &pc))
		FAIL("set-up");
	dc.pool = S.pool;
	if (vnet_dev_open(&S.dev, vnet_model_transport(S.m), &dc))
		FAIL("open");

	t0 = now_s();
	while (S.sent < packets) {
		uint16_t want = (uint16_t)(packets - S.sent < BURST ? packets - S.sent : BURST);
		uint16_t k, n, j, r;

		if (fault_every && rnd() % fault_every == 0)
			inject();
		/* send */
		if (vnet_pool_alloc_bulk(S.pool, b, want) == 0) {
			for (j = 0; j < want; j++)
				fill(b[j], S.sent + j);
			k = vnet_tx_burst(S.dev, 0, b, want);
			S.sent += k;
			vnet_pool_free_bulk(b + k, (uint32_t)(want - k));
		}
		/* the device */
		if (S.stall_left)
			S.stall_left--;
		else
			vnet_model_poll(S.m);
		if (S.link_down_left && --S.link_down_left == 0)
			vnet_model_set_link(S.m, true);
		/* receive: check, keep some for a while, or give back. Harvest
		 * all that is ready before refilling: a duplicated used entry
		 * left behind would name a descriptor posted again meanwhile. */
		for (r = 0; r < RING / 64 + 1; r++) {
			n = vnet_rx_burst(S.dev, 0, in, 64);
			for (j = 0; j < n; j++) {
				check_frame(in[j]);
				if (S.hold_left && S.nheld < MAX_HOLD)
					S.held[S.nheld++] = in[j];
				else
					vnet_buf_free(in[j]);
			}
			if (n < 64)
				break;
		}
		if (S.hold_left && --S.hold_left == 0) {
			vnet_pool_free_bulk(S.held, S.nheld);
			S.nheld = 0;
		}
		vnet_rx_refill(S.dev, 0);
		recover();
		account();
		bursts++;
		if (max_s > 0 && (bursts & 1023) == 0 && now_s() - t0 > max_s)
			FAIL("time limit of %.0f s reached after %" PRIu64 " packets", max_s, S.sent);
	}
	/* let everything in flight arrive (bounded) */
	vnet_model_set_link(S.m, true);
	vnet_pool_free_bulk(S.held, S.nheld);
	S.nheld = 0;
	for (drain = 0; drain < 1000; drain++) {
		uint16_t n, j;
		vnet_model_poll(S.m);
		n = vnet_rx_burst(S.dev, 0, in, 64);
		for (j = 0; j < n; j++) {
			check_frame(in[j]);
			vnet_buf_free(in[j]);
		}
		vnet_rx_refill(S.dev, 0);
		vnet_tx_reclaim(S.dev, 0);
		recover();
		account();
	}
	secs = now_s() - t0;
	{
		struct vnet_queue_stats q;
		vnet_queue_stats(S.dev, 0, true, &q);
		stats_add(&S.rx_acc, &q);
		vnet_queue_stats(S.dev, 0, false, &q);
		stats_add(&S.tx_acc, &q);
	}
	vnet_model_stats(S.m, &ms);

	printf("soak: %" PRIu64 " sent, %" PRIu64 " received intact, %" PRIu64 " lost (bound %" PRIu64
	       "), %.2f s, %.2f Mpps\n", S.sent, S.got, S.sent - S.got, S.lost_bound, secs,
	       (double)S.sent / secs / 1e6);
	printf("soak: faults injected (%" PRIu64 " model faults fired):\n", ms.faults_fired);
	for (a = 0; a < K__COUNT; a++)
		printf("  %-30s %" PRIu64 "\n", kind_name[a], S.faults[a]);
	printf("soak: broken %" PRIu64 " times, recovered %" PRIu64 " (recover refused %" PRIu64
	       " times first); %" PRIu64 " frames with the injected flipped byte\n",
	       S.broken_seen, S.recovers, S.recover_fail, S.flipped);
	printf("soak: drops: rx bad_id %" PRIu64 " bad_len %" PRIu64 " bad_idx %" PRIu64
	       " pool_empty %" PRIu64 "; tx bad_id %" PRIu64 " bad_idx %" PRIu64 " ring_full %" PRIu64
	       "; device rx_no_buffer %" PRIu64 " bad_desc %" PRIu64 "\n",
	       S.rx_acc.drop_bad_id, S.rx_acc.drop_bad_len, S.rx_acc.drop_bad_idx,
	       S.rx_acc.drop_pool_empty, S.tx_acc.drop_bad_id, S.tx_acc.drop_bad_idx,
	       S.tx_acc.drop_ring_full, ms.rx_no_buffer, ms.bad_desc);

	if (S.got > S.sent || S.sent - S.got > S.lost_bound + ms.rx_no_buffer)
		FAIL("%" PRIu64 " frames lost, more than the faults explain (%" PRIu64 " + %" PRIu64
		     " dropped for no RX buffer)", S.sent - S.got, S.lost_bound, ms.rx_no_buffer);
	if (ms.bad_desc)
		FAIL("the device rejected %" PRIu64 " descriptors", ms.bad_desc);
	vnet_dev_close(S.dev);
	if (vnet_pool_in_use(S.pool) != 0)
		FAIL("%u buffers not back after close", (unsigned)vnet_pool_in_use(S.pool));
	vnet_pool_destroy(S.pool);
	vnet_model_destroy(S.m);
	printf("soak: OK\n");
	return 0;
}
