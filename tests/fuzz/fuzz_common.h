/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the fuzz targets: a reader over the fuzzer's bytes (past the
 * end every read is 0, so every input is a complete script), and the
 * accounting invariants checked after every step:
 *   pool in use == buffers the test holds + descriptors the driver has out
 * and, after close, every buffer back in its pool. A violated invariant
 * prints what it saw and aborts (libFuzzer reports it as a crash).
 *
 * The targets look at the driver's private queue state (lib/net/dev.h) to
 * count descriptors in flight: a white-box check, for tests only.
 */
#ifndef VNET_FUZZ_COMMON_H
#define VNET_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dev.h"
#include <vnet/vnet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The invariant checks are not what the fuzzer should explore: no
 * coverage instrumentation for them (it cost time, and their loops added
 * features of their own to every input). */
#if defined(__clang__) && __clang_major__ >= 13
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage"), noinline))
/* The same, and no ASan or UBSan check of each load either, for the scan
 * of every queue's ids after every step (it reads the driver's arrays in
 * bounds it checks itself; the driver's own accesses stay checked): a
 * fifth of the handshake target's time went there. */
#define FUZZ_NOCOV_SCAN __attribute__((no_sanitize("coverage", "address", "undefined"), noinline))
#else
#define FUZZ_NOCOV
#define FUZZ_NOCOV_SCAN
#endif

/* fuzz_env.c: call first in every LLVMFuzzerTestOneInput. Installs the
 * caching DMA allocator (once), silences the log and puts the virtual
 * clock's step back to FUZZ_CLOCK_STEP. */
#define FUZZ_CLOCK_STEP 1000u
extern uint64_t fuzz_clock_step;
/* Pools (64 KiB and more) of buffers of fuzz_dma_scrub_stride bytes (0:
 * off) are zeroed again only where headers go, the first
 * fuzz_dma_scrub_bytes (0: 128) bytes of each buffer: the target's device
 * writes every other byte the driver or lwIP reads. */
extern size_t fuzz_dma_scrub_stride, fuzz_dma_scrub_bytes;
void fuzz_env_init(void);
/*
 * A pool of the shape @c, kept from input to input (fuzz_env.c): the
 * targets whose pool is not what they test take it from here instead of
 * creating and destroying one per input. It comes back as a new one
 * would: the same metadata, the same free order, the same zeroed memory
 * (so an input runs the same in any order). fuzz_pool_put() checks that
 * every buffer is back, as vnet_pool_destroy() would.
 */
struct vnet_pool *fuzz_pool_get(const struct vnet_pool_conf *c);
/* The same for a shape that may be refused: vnet_pool_create()'s error
 * (a shape kept before is one it took). */
int fuzz_pool_try(struct vnet_pool **out, const struct vnet_pool_conf *c);
void fuzz_pool_put(struct vnet_pool *p);
/* Does @iova lie in a kept pool no input holds now? Its memory is still
 * a live DMA allocation, but no longer the driver's to hand out. */
bool fuzz_pool_idle(uint64_t iova);

struct fin {
	const uint8_t *p;
	size_t n, off;
};

static inline void fin_init(struct fin *f, const uint8_t *p, size_t n)
{
	f->p = p;
	f->n = n;
	f->off = 0;
}

static inline bool fin_more(const struct fin *f) { return f->off < f->n; }

static inline uint8_t fin_u8(struct fin *f)
{
	return f->off < f->n ? f->p[f->off++] : 0;
}

static inline uint16_t fin_u16(struct fin *f)
{
	uint16_t lo = fin_u8(f);

	return (uint16_t)(lo | (uint16_t)fin_u8(f) << 8);
}

static inline uint32_t fin_u32(struct fin *f)
{
	uint32_t lo = fin_u16(f);

	return lo | (uint32_t)fin_u16(f) << 16;
}

static inline uint64_t fin_u64(struct fin *f)
{
	uint64_t lo = fin_u32(f);

	return lo | (uint64_t)fin_u32(f) << 32;
}

/* Up to @max bytes of the input, without copying. @return bytes given. */
static inline size_t fin_bytes(struct fin *f, size_t max, const uint8_t **out)
{
	size_t left = f->n - f->off;

	if (max > left)
		max = left;
	*out = f->p + f->off;
	f->off += max;
	return max;
}

#define FUZZ_FAIL(...)                                                              \
	do {                                                                        \
		fprintf(stderr, "fuzz invariant violated at %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                \
		abort();                                                            \
	} while (0)

#define FUZZ_ASSERT(cond, ...)                                                      \
	do {                                                                        \
		if (!(cond))                                                        \
			FUZZ_FAIL(__VA_ARGS__);                                     \
	} while (0)

/* Pool buffers behind the descriptors of @vq the driver has given the
 * device (a cookie is set): a TX frame may be a chain of nb_segs buffers
 * (through an indirect table); an RX buffer is one (its nb_segs is stale
 * from its last use until a harvest sets it). */
static inline FUZZ_NOCOV uint32_t fuzz_vq_bufs(const struct vnet_vq *vq, bool tx)
{
	uint32_t n = 0, i;

	if (!vq->cookie)
		return 0;
	for (i = 0; i < vq->size; i++)
		if (vq->cookie[i])
			n += tx && vq->cookie[i]->nb_segs > 1 ? vq->cookie[i]->nb_segs : 1u;
	return n;
}

/*
 * The driver's book-keeping of one queue: every descriptor id is either on
 * the free stack, held after a short burst (vnet_vq_hold: not in flight,
 * not free yet) or in flight (its cookie set), exactly one of them.
 * With IN_ORDER (ids are avail positions, no free stack) the cookies set
 * must number what the queue counts in flight. Only meaningful while the
 * queue is started (a failed recover leaves the queues drained until the
 * next successful recover resets them).
 *
 * One pass over the cookies both checks that (@check) and counts the
 * pool buffers out (as fuzz_vq_bufs()), which the accounting check needs
 * too: the checks run after every step, over every queue. The pass has
 * no branch on what a cookie holds (set or not, a chain or not: as the
 * driver leaves them, unpredictable), and an id that is neither free,
 * held nor in flight is looked for only once the count says there is one.
 * @return the pool buffers behind the queue's descriptors.
 */
static inline FUZZ_NOCOV_SCAN uint32_t fuzz_vq_scan(const struct vnet_vq *vq, bool tx, bool check, const char *name)
{
	static const struct vnet_buf none; /* what an empty slot reads as: nb_segs 0 */
	struct vnet_buf *const *cookie = vq->cookie;
	uint8_t seen[4096];
	uint32_t i, out = 0, bufs = 0, lost = 0;
	bool ids;

	if (!cookie)
		return 0;
	check = check && vq->size <= sizeof(seen);
	ids = check && !vq->in_order;
	if (check) {
		FUZZ_ASSERT(vq->num_free <= vq->size, "%s: num_free %u > size %u", name,
		            (unsigned)vq->num_free, (unsigned)vq->size);
	}
	if (ids) {
		memset(seen, 0, vq->size);
		FUZZ_ASSERT((uint32_t)vq->num_free + vnet_vq_held(vq) <= vq->size, "%s: %u free + %u held > size %u",
		            name, (unsigned)vq->num_free, (unsigned)vnet_vq_held(vq), (unsigned)vq->size);
		for (i = 0; i < vq->num_free; i++) {
			uint16_t id = vq->free_ids[i];
			FUZZ_ASSERT(id < vq->size, "%s: free id %u out of range", name, (unsigned)id);
			FUZZ_ASSERT(!seen[id], "%s: id %u twice on the free stack", name, (unsigned)id);
			FUZZ_ASSERT(cookie[id] == NULL, "%s: free id %u is in flight", name, (unsigned)id);
			seen[id] = 1;
		}
		for (i = 0; i < vnet_vq_held(vq); i++) {
			uint16_t id = vq->held_ids[(uint16_t)(vq->held_head + i) & vq->mask];
			FUZZ_ASSERT(id < vq->size, "%s: held id %u out of range", name, (unsigned)id);
			FUZZ_ASSERT(!seen[id], "%s: held id %u also free or held twice", name, (unsigned)id);
			FUZZ_ASSERT(cookie[id] == NULL, "%s: held id %u is in flight", name, (unsigned)id);
			seen[id] = 1;
		}
	}
	if (tx) {
		/* a chain counts its nb_segs buffers, anything else one */
		for (i = 0; i < vq->size; i++) {
			const struct vnet_buf *c = cookie[i], *r = c ? c : &none;
			uint32_t segs = r->nb_segs;

			out += c != NULL;
			bufs += segs > 1 ? segs : (uint32_t)(c != NULL);
		}
	} else {
		for (i = 0; i < vq->size; i++)
			out += cookie[i] != NULL;
		bufs = out;
	}
	if (ids) {
		for (i = 0; i < vq->size; i++)
			lost += (uint32_t)(cookie[i] == NULL) & (uint32_t)(seen[i] == 0);
		for (i = 0; lost && i < vq->size; i++)
			FUZZ_ASSERT(cookie[i] || seen[i], "%s: id %u neither free, held nor in flight", name, (unsigned)i);
	}
	if (check && vq->in_order)
		FUZZ_ASSERT(out == (uint32_t)(vq->size - vq->num_free), "%s: %u cookies set, %u in flight", name,
		            (unsigned)out, (unsigned)(vq->size - vq->num_free));
	return bufs;
}

/* Frames the test holds (each a chain of nb_segs buffers with MRG_RXBUF),
 * marked by pool index: a buffer given to the test twice (a double
 * completion leaking through) is caught here. */
struct held {
	struct vnet_buf *b[1024];
	uint32_t n;     /* frames */
	uint32_t bufs;  /* pool buffers in them */
	uint8_t mark[65536 / 8];
};

static inline void held_reset(struct held *h)
{
	h->n = 0;
	h->bufs = 0;
	memset(h->mark, 0, sizeof(h->mark));
}

static inline bool held_room(const struct held *h, uint32_t k)
{
	return h->n + k <= sizeof(h->b) / sizeof(h->b[0]);
}

static inline FUZZ_NOCOV void held_add(struct held *h, struct vnet_buf *head)
{
	struct vnet_buf *b = head;
	uint32_t k, segs = head->nb_segs ? head->nb_segs : 1;

	FUZZ_ASSERT(held_room(h, 1), "held table full");
	FUZZ_ASSERT(segs <= 4096, "frame of %u segments", (unsigned)segs);
	for (k = 0; k < segs; k++, b = b->next) {
		uint32_t bit;

		FUZZ_ASSERT(b != NULL, "frame chain shorter than its %u segments", (unsigned)segs);
		bit = b->idx;
		FUZZ_ASSERT(!(h->mark[bit / 8] & (1u << (bit % 8))), "buffer %u given out twice", (unsigned)bit);
		FUZZ_ASSERT(b->data >= b->base && b->data + b->len <= b->base + b->size,
		            "buffer %u: frame [%ld, +%u) outside the buffer of %u", (unsigned)bit,
		            (long)(b->data - b->base), (unsigned)b->len, (unsigned)b->size);
		h->mark[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
	h->bufs += segs;
	h->b[h->n++] = head;
}

/* Give back the @k most recent frames (all if @k >= n). */
static inline FUZZ_NOCOV void held_free(struct held *h, uint32_t k)
{
	if (k > h->n)
		k = h->n;
	while (k > 0) {
		struct vnet_buf *b = h->b[--h->n];
		uint32_t j, segs = b->nb_segs ? b->nb_segs : 1;
		struct vnet_buf *s = b;

		for (j = 0; j < segs && s != NULL; j++, s = s->next)
			h->mark[s->idx / 8] &= (uint8_t)~(1u << (s->idx % 8));
		h->bufs -= segs;
		vnet_buf_free_chain(b);
		k--;
	}
}

/* The device's queue pairs (lib/net/dev.h). */
#define DEV_NPAIRS(d) ((d)->rxq ? (d)->npairs : (uint16_t)0)
#define DEV_RXQ(d, p) (&(d)->rxq[p])
#define DEV_TXQ(d, p) (&(d)->txq[p])

/* Pool buffers the driver has given the device, over every queue. */
static inline FUZZ_NOCOV uint32_t fuzz_dev_out(const struct vnet_dev *d, uint32_t *rx_out, uint32_t *tx_out)
{
	uint32_t rx = 0, tx = 0;
	uint16_t p;

	for (p = 0; p < DEV_NPAIRS(d); p++) {
		rx += fuzz_vq_bufs(DEV_RXQ(d, p), false);
		tx += fuzz_vq_bufs(DEV_TXQ(d, p), true);
	}
	if (rx_out)
		*rx_out = rx;
	if (tx_out)
		*tx_out = tx;
	return rx + tx;
}

/* fuzz_dev_out(), and while the device is started the book-keeping of
 * every queue checked (fuzz_vq_scan()), in one pass. */
static inline FUZZ_NOCOV uint32_t fuzz_dev_scan(const struct vnet_dev *d, uint32_t *rx_out, uint32_t *tx_out)
{
	uint32_t rx = 0, tx = 0;
	bool ids = d->started && !d->needs_reset;
	uint16_t q;

	for (q = 0; q < DEV_NPAIRS(d); q++) {
		rx += fuzz_vq_scan(DEV_RXQ(d, q), false, ids, "rxq");
		tx += fuzz_vq_scan(DEV_TXQ(d, q), true, ids, "txq");
	}
	if (rx_out)
		*rx_out = rx;
	if (tx_out)
		*tx_out = tx;
	return rx + tx;
}

/* The central invariant. @extra: buffers held elsewhere (e.g. by lwIP). */
static inline FUZZ_NOCOV void fuzz_check_accounting(const struct vnet_dev *d, const struct vnet_pool *p,
                                         uint32_t held, uint32_t extra)
{
	uint32_t rx, tx;
	uint32_t in_use = vnet_pool_in_use(p);

	fuzz_dev_scan(d, &rx, &tx);
	FUZZ_ASSERT(in_use <= vnet_pool_count(p), "pool in use %u > count %u (double free)",
	            (unsigned)in_use, (unsigned)vnet_pool_count(p));
	FUZZ_ASSERT(in_use == held + extra + rx + tx,
	            "pool in use %u != held %u + elsewhere %u + rx out %u + tx out %u",
	            (unsigned)in_use, (unsigned)held, (unsigned)extra, (unsigned)rx, (unsigned)tx);
}

static inline void fuzz_quiet_log(void)
{
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

#endif
