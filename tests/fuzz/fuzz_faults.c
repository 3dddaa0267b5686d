/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target (c): the device model's fault hooks (include/vnet/model.h)
 * armed in random sequences, with traffic, link changes, device stalls,
 * an application that holds buffers, and broken/recover rounds. The
 * model's shape (backend, latency, budget, features, ring maxima, split or
 * packed, IN_ORDER, MRG_RXBUF, two queue pairs, INDIRECT_DESC with TX
 * frames that are chains of two buffers) is the fuzzer's too.
 *
 * Checked after every step: the accounting invariant; every frame
 * received is one that was sent (loopback, reflector) or generated
 * (source), in order and at most once (sequence numbers strictly rise),
 * its length and payload intact, except for the one byte BAD_CSUM flips
 * (tolerated only while BAD_CSUM was armed, and counted against it); a
 * recover either works or fails with a clear error; after close what a
 * device whose reset never completed holds is counted right
 * (vnet_held_stats), and once a reset completes every buffer is back.
 */
#include <errno.h>

#include "fuzz_common.h"
#include <vnet/model.h>

#define POOL_BUFS 192
#define MAX_STEPS 300

static const uint8_t MAC_DEV[6] = {0x52, 0x54, 0, 0, 0, 1};
static const uint8_t MAC_SRC[6] = {0x02, 0, 0, 0, 0, 2};

struct rig {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct held held;
	enum vnet_model_backend backend;
	uint64_t next_seq;    /* next sequence number to send */
	uint64_t last_seq[2]; /* per RX pair: last one received + 1 (0: none yet) */
	uint16_t npairs;      /* 1, or 2 (multiqueue: each pair's frames stay on it) */
	bool chains;          /* TX frames may be chains of two buffers */
	uint32_t bad_csum_armed, bad_csum_seen;
	bool packed;          /* RING_PACKED negotiated */
	uint16_t mtu;
};

static struct rig R;
static int trace = -1; /* FUZZ_TRACE=1: print each step (for reproducers) */

#define TRACE(...)                                              \
	do {                                                    \
		if (trace)                                      \
			fprintf(stderr, "faults: " __VA_ARGS__); \
	} while (0)

/* The payload's byte @i of frame @seq. */
static inline uint8_t pat(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7 + i);
}

/* Payload bytes rise by one from byte to byte, from where @seq starts
 * them: they are a slice of this ramp, copied and compared whole (a loop
 * per byte was a tenth of this target's time). */
#define RAMP_LEN (256u + 9216u)
static uint8_t ramp[RAMP_LEN];

static FUZZ_NOCOV const uint8_t *ramp_at(uint8_t first, uint32_t len)
{
	uint32_t i;

	if (!ramp[1])
		for (i = 0; i < RAMP_LEN; i++)
			ramp[i] = (uint8_t)i;
	FUZZ_ASSERT(len <= RAMP_LEN - 256u, "payload of %u bytes", (unsigned)len);
	return ramp + first;
}

/* Mostly short frames (cheap to check); one in 16 up to the MTU. */
static FUZZ_NOCOV uint32_t frame_len(uint64_t seq, uint32_t max)
{
	uint64_t h = seq * 2654435761u;

	if ((seq & 15) == 5)
		return 60u + (uint32_t)(h % (max - 59u));
	return 60u + (uint32_t)(h % 100u);
}

/* The test's own writes into a buffer it has just taken from the pool,
 * checked to end inside it, then copied 64 bytes at a time inline:
 * without ASan's range check of a memcpy() call per frame (a tenth of
 * this target's time went there), UBSan's checks as everywhere. */
#if defined(__clang__)
#define FAULTS_OWN_WRITES __attribute__((no_sanitize("address"), no_builtin("memcpy")))
#else
#define FAULTS_OWN_WRITES
#endif
static FUZZ_NOCOV FAULTS_OWN_WRITES void fill(struct vnet_buf *b, uint64_t seq, uint32_t len)
{
	const uint8_t *src = ramp_at(pat(seq, 22), len - 22u);
	uint8_t *dst = b->data + 22;
	uint32_t k = 0, n = len - 22u;

	FUZZ_ASSERT(len >= 22 && b->data >= b->base && (size_t)(b->data - b->base) + len <= b->size,
	            "frame of %u bytes at %ld in a buffer of %u", (unsigned)len, (long)(b->data - b->base),
	            (unsigned)b->size);
	__builtin_memcpy(b->data, MAC_DEV, 6);
	__builtin_memcpy(b->data + 6, MAC_SRC, 6);
	b->data[12] = 0x88;
	b->data[13] = 0xb5;
	__builtin_memcpy(b->data + 14, &seq, 8);
	for (; k + 64 <= n; k += 64)
		__builtin_memcpy(dst + k, src + k, 64);
	for (; k < n; k++)
		dst[k] = src[k];
	b->len = len;
}

/* The frame's payload from byte 22 on, against what was sent; the last
 * byte may be flipped by an armed BAD_CSUM. */
static FUZZ_NOCOV void check_payload(const struct vnet_buf *b, uint64_t seq, bool source)
{
	uint32_t i, bad = 0, len = b->len;

	if (!memcmp(b->data + 22, ramp_at(source ? (uint8_t)(seq + 22u) : pat(seq, 22), len - 22u), len - 22u))
		return;
	for (i = 22; i < len; i++) {
		uint8_t want = source ? (uint8_t)(seq + i) : pat(seq, i);
		if (b->data[i] == want)
			continue;
		uint8_t flipped = (uint8_t)~want;
		if (i == len - 1 && b->data[i] == flipped && R.bad_csum_armed > R.bad_csum_seen) {
			R.bad_csum_seen++;
			continue;
		}
		bad++;
	}
	FUZZ_ASSERT(bad == 0, "frame seq %llu (len %u): %u payload bytes wrong",
	            (unsigned long long)seq, (unsigned)len, (unsigned)bad);
}

static FUZZ_NOCOV void check_frame(const struct vnet_buf *b, uint16_t pair)
{
	uint64_t seq;

	if (R.backend == VNET_MODEL_SINK)
		FUZZ_FAIL("a sink delivered a frame");
	FUZZ_ASSERT(b->len >= 22, "runt frame of %u bytes", (unsigned)b->len);
	memcpy(&seq, b->data + 14, 8);
	FUZZ_ASSERT(R.last_seq[pair] == 0 || seq >= R.last_seq[pair], "pair %u: seq %llu after %llu: duplicate or reordered",
	            (unsigned)pair, (unsigned long long)seq, (unsigned long long)R.last_seq[pair] - 1);
	R.last_seq[pair] = seq + 1;
	if (R.backend == VNET_MODEL_SOURCE) {
		FUZZ_ASSERT(b->len == 64, "source frame of %u bytes", (unsigned)b->len);
		check_payload(b, seq, true);
		return;
	}
	FUZZ_ASSERT(seq < R.next_seq, "seq %llu never sent", (unsigned long long)seq);
	FUZZ_ASSERT(b->len == frame_len(seq, (uint32_t)R.mtu + 14u), "seq %llu: len %u, sent %u",
	            (unsigned long long)seq, (unsigned)b->len, (unsigned)frame_len(seq, (uint32_t)R.mtu + 14u));
	if (R.backend == VNET_MODEL_LOOPBACK) {
		FUZZ_ASSERT(!memcmp(b->data, MAC_DEV, 6) && !memcmp(b->data + 6, MAC_SRC, 6), "MACs changed");
	} else {
		FUZZ_ASSERT(!memcmp(b->data, MAC_SRC, 6) && !memcmp(b->data + 6, MAC_DEV, 6), "MACs not swapped");
	}
	check_payload(b, seq, false);
}

static void recover(void)
{
	int i, rc;

	/* RESET_STUCK and REFUSE_FEATURES make a recover fail: a clear
	 * error, and a later try works once the fault is spent. */
	for (i = 0; i < 8 && vnet_dev_broken(R.dev) == 1; i++) {
		rc = vnet_dev_recover(R.dev);
		FUZZ_ASSERT(rc == 0 || rc == -ETIMEDOUT || rc == -EPROTO || rc == -EIO || rc == -ENOBUFS,
		            "recover: %d", rc);
		fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
		if (rc == -ENOBUFS)
			held_free(&R.held, UINT32_MAX);
	}
}

/* Frame @b becomes a chain of two buffers (through an indirect table
 * with INDIRECT_DESC, else copied back into one by the driver). */
static FUZZ_NOCOV void make_chain(struct vnet_buf *b, uint64_t seq)
{
	struct vnet_buf *s;
	uint32_t cut;

	if (!R.chains || (seq & 3) != 1 || b->len < 30 || (s = vnet_buf_alloc(R.pool)) == NULL)
		return;
	cut = 22u + (uint32_t)(seq % (b->len - 22u));
	memcpy(s->data, b->data + cut, b->len - cut);
	s->len = b->len - cut;
	b->len = cut;
	b->next = s;
	b->nb_segs = 2;
}

static void step(struct fin *in)
{
	struct vnet_buf *b[64];
	uint16_t n, k, i;
	uint8_t op = fin_u8(in);
	/* multiqueue: the pair from what op % 12 leaves over */
	uint16_t pair = (uint16_t)(((uint32_t)op / 12u) % R.npairs);

	switch (op % 12) {
	case 0: { /* arm a fault */
		enum vnet_model_fault f = (enum vnet_model_fault)(1 + fin_u8(in) % (VNET_FAULT__COUNT - 1));
		uint32_t count = 1u + fin_u8(in) % 4;
		/* On a packed ring the model's DUP and IDLE faults put another
		 * id on a genuine completion, one the driver may still hold in
		 * flight (completed but not harvested, or posted again): no
		 * driver can tell, so they would only test the model. */
		if (R.packed && (f == VNET_FAULT_USED_DUP || f == VNET_FAULT_USED_ID_IDLE))
			f = VNET_FAULT_USED_ID_RANGE;
		TRACE("arm fault %d x%u\n", (int)f, (unsigned)count);
		vnet_model_fault(R.m, f, count);
		if (f == VNET_FAULT_BAD_CSUM)
			R.bad_csum_armed += count;
		break;
	}
	case 1:
		TRACE("link\n");
		vnet_model_set_link(R.m, fin_u8(in) & 1);
		break;
	case 2: /* the device polls (a stall is simply a run of other steps) */
	case 3:
		n = 1u + fin_u8(in) % 4;
		TRACE("device polls %u times\n", (unsigned)n);
		for (i = 0; i < n; i++)
			vnet_model_poll(R.m);
		break;
	case 4: /* send */
	case 5:
		n = (uint16_t)(1u + fin_u8(in) % 32);
		if (vnet_pool_alloc_bulk(R.pool, b, n) != 0)
			break;
		for (i = 0; i < n; i++) {
			fill(b[i], R.next_seq + i, frame_len(R.next_seq + i, (uint32_t)R.mtu + 14u));
			make_chain(b[i], R.next_seq + i);
		}
		k = vnet_tx_burst(R.dev, pair, b, n);
		TRACE("tx %u frames from seq %llu on pair %u: %u taken\n", (unsigned)n, (unsigned long long)R.next_seq,
		      (unsigned)pair, (unsigned)k);
		R.next_seq += k;
		/* unsent sequence numbers are simply never sent: renumber the rest */
		for (i = k; i < n; i++)
			vnet_buf_free_chain(b[i]);
		break;
	case 6: /* receive: the application keeps the frames for a while */
		/* Any burst size, duplicates armed or not: a duplicated (or
		 * idle-id) used entry left unread by a short burst names an id
		 * the burst took, which stays held (off the free stack) until
		 * the harvest passes it, so it breaks the ring instead of
		 * completing a buffer posted again (the limit this target used to
		 * steer around by always harvesting the whole ring). */
		n = (uint16_t)(fin_u8(in) % 65);
		if (!held_room(&R.held, n))
			break;
		k = vnet_rx_burst(R.dev, pair, b, n);
		TRACE("rx up to %u on pair %u: %u\n", (unsigned)n, (unsigned)pair, (unsigned)k);
		for (i = 0; i < k; i++) {
			uint64_t sq;
			memcpy(&sq, b[i]->data + 14, 8);
			TRACE("  frame seq %llu len %u\n", (unsigned long long)sq, (unsigned)b[i]->len);
			check_frame(b[i], pair);
			held_add(&R.held, b[i]);
		}
		break;
	case 7:
		vnet_rx_refill(R.dev, pair);
		break;
	case 8:
		held_free(&R.held, fin_u8(in));
		break;
	case 9:
		vnet_tx_reclaim(R.dev, pair);
		break;
	case 10:
		TRACE("recover (broken %d)\n", vnet_dev_broken(R.dev));
		recover();
		break;
	case 11: {
		struct vnet_net_config c;
		int rc = vnet_dev_config(R.dev, &c);
		FUZZ_ASSERT(rc == 0 || rc == -EAGAIN, "config: %d", rc);
		if (fin_u8(in) & 1)
			vnet_model_announce(R.m);
		break;
	}
	}
	fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum vnet_model_backend backends[4] = {
		VNET_MODEL_LOOPBACK, VNET_MODEL_REFLECTOR, VNET_MODEL_SOURCE, VNET_MODEL_SINK};
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {.count = POOL_BUFS};
	struct vnet_dev_conf dc = {0};
	struct fin in;
	enum vnet_model_fault pre_fault = VNET_FAULT_NONE;
	uint8_t g, h, pre;
	int rc, s;

	fuzz_env_init();
	if (trace < 0) /* once: the environment does not change between inputs */
		trace = getenv("FUZZ_TRACE") != NULL;
	fin_init(&in, data, size);
	held_reset(&R.held);
	R.m = NULL;
	R.pool = NULL;
	R.dev = NULL;
	R.next_seq = R.last_seq[0] = R.last_seq[1] = 0;
	R.bad_csum_armed = R.bad_csum_seen = 0;
	g = fin_u8(&in);
	h = fin_u8(&in);
	R.backend = backends[g & 3];
	mc.backend = R.backend;
	mc.latency = (g >> 2) & 3;
	mc.rx_budget = (g >> 4) & 7;
	mc.want_notify = (g & 0x80) != 0;
	mc.features = VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS;
	if (h & 1)
		mc.features |= VNET_F_EVENT_IDX;
	if (h & 2)
		mc.features |= VNET_F_MRG_RXBUF | VNET_F_GUEST_CSUM;
	mc.queue_max = (uint16_t)(8u << ((h >> 2) & 3)); /* 8 .. 64 */
	mc.mtu = (h & 0x10) ? 576 : 1500;
	R.mtu = mc.mtu;
	memcpy(mc.mac, MAC_DEV, 6);
	dc.features = VNET_F_DEFAULT | ((h & 0x20) ? VNET_F_GUEST_CSUM : 0);
	dc.rx_ring_size = (uint16_t)(mc.queue_max >> ((h >> 6) & 1));
	dc.tx_ring_size = (uint16_t)(mc.queue_max >> ((h >> 7) & 1));
	/* a third byte: IN_ORDER (spec 2.7.9), MRG_RXBUF, RING_PACKED, and a
	 * fault armed before open (it hits the handshake) */
	pre = fin_u8(&in);
	if (pre & 2) {
		mc.features |= VNET_F_IN_ORDER;
		dc.features |= VNET_F_IN_ORDER;
	}
	if (pre & 4)
		dc.features |= VNET_F_MRG_RXBUF;
	if (pre & 8) { /* the packed ring (spec 2.8) */
		mc.features |= VNET_F_RING_PACKED;
		dc.features |= VNET_F_RING_PACKED;
	}
	R.packed = (pre & 8) != 0;
	/* bit 4: two queue pairs (with the control queue, either layout);
	 * bit 5: INDIRECT_DESC and TX chains */
	R.npairs = (pre & 0x10) ? 2 : 1;
	if (R.npairs > 1) {
		mc.features |= VNET_F_MQ | VNET_F_CTRL_VQ;
		mc.max_pairs = 2;
		dc.queue_pairs = 2;
		/* the pool covers both pairs' rings */
		if (dc.rx_ring_size > 32)
			dc.rx_ring_size = 32;
		if (dc.tx_ring_size > 32)
			dc.tx_ring_size = 32;
	}
	R.chains = (pre & 0x20) != 0;
	if (R.chains) {
		mc.features |= VNET_F_INDIRECT_DESC;
		dc.features |= VNET_F_INDIRECT_DESC;
	}
	if (pre & 1) {
		pre_fault = (enum vnet_model_fault)(1 + fin_u8(&in) % (VNET_FAULT__COUNT - 1));
		if (R.packed && (pre_fault == VNET_FAULT_USED_DUP || pre_fault == VNET_FAULT_USED_ID_IDLE))
			pre_fault = VNET_FAULT_USED_ID_RANGE;
		if (pre_fault == VNET_FAULT_BAD_CSUM)
			R.bad_csum_armed++;
	}
	if (vnet_model_create(&R.m, &mc) != 0)
		abort();
	/* the model writes every byte of a frame it completes and the test
	 * every byte it sends: of a buffer used before, only the header
	 * needs zeroing again (what the driver reads of one completed with
	 * nothing written, a made-up or repeated used entry) */
	fuzz_dma_scrub_stride = VNET_POOL_DEF_BUF_SIZE;
	R.pool = fuzz_pool_get(&pc);
	dc.pool = R.pool;
	if (pre_fault != VNET_FAULT_NONE)
		vnet_model_fault(R.m, pre_fault, 1);
	rc = vnet_dev_open(&R.dev, vnet_model_transport(R.m), &dc);
	if (rc != 0) {
		FUZZ_ASSERT(rc == -ETIMEDOUT || rc == -EPROTO || rc == -EAGAIN || rc == -EIO,
		            "open: %d", rc);
	} else {
		for (s = 0; s < MAX_STEPS && fin_more(&in); s++)
			step(&in);
		held_free(&R.held, UINT32_MAX);
		vnet_dev_close(R.dev);
	}
	/* a reset that did not complete (RESET_STUCK) kept what the device
	 * held, and says how much: all that is still out of the pool */
	{
		struct vnet_held_stats hs;
		vnet_held_stats(&hs);
		FUZZ_ASSERT(hs.bufs == vnet_pool_in_use(R.pool), "held: %u buffers counted, %u out of the pool",
		            (unsigned)hs.bufs, (unsigned)vnet_pool_in_use(R.pool));
	}
	/* once resets complete again, everything comes back */
	vnet_model_fault(R.m, VNET_FAULT_RESET_STUCK, 0);
	rc = vnet_held_release(vnet_model_transport(R.m));
	FUZZ_ASSERT(rc >= 0, "held release: %d", rc);
	FUZZ_ASSERT(vnet_pool_in_use(R.pool) == 0, "%u buffers lost after close",
	            (unsigned)vnet_pool_in_use(R.pool));
	fuzz_pool_put(R.pool);
	vnet_model_destroy(R.m);
	return 0;
}
