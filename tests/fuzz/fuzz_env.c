/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every fuzz target runs in (fuzz_common.h, fuzz_env_init()):
 *
 * A DMA allocator that keeps freed regions for the next input instead of
 * a memfd, an mmap and a munmap per pool and per ring (the kernel's page
 * handling was most of an execution's time). A cached region is poisoned
 * for ASan while it waits, so a driver that touched ring or pool memory
 * after freeing it is still caught (a munmap would only catch it as a
 * SIGSEGV), and comes back zeroed, as vnet_dma_alloc() promises (a pool,
 * with fuzz_dma_scrub_stride set, only where each buffer's header goes).
 *
 * A virtual clock (the targets link with -Wl,--wrap=vnet_now_us and
 * --wrap=vnet_cycles): each read moves it by fuzz_clock_step microseconds,
 * so lwIP's timers and the control queue's one-second wait depend on the
 * input alone, and a device that never answers costs three reads of the
 * clock instead of a second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "base/platform.h"

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define PAGE 4096u
#define CACHE_MAX 96

size_t fuzz_dma_scrub_stride, fuzz_dma_scrub_bytes;

static struct {
	void *va;
	size_t len;
} cache[CACHE_MAX];
static unsigned ncache;

/* The harness's own writes to memory it owns, in bounds by construction,
 * once per buffer of a pool: without ASan's check of each (a memset() of
 * a few dozen bytes is a call that checks its range first), and as
 * stores, not turned into such calls. */
#if defined(__clang__)
#define FUZZ_OWN_WRITES __attribute__((no_sanitize("address"), no_builtin("memset")))
#else
#define FUZZ_OWN_WRITES
#endif

/* any memory, zeroed a word at a time */
#if defined(__GNUC__)
typedef uint64_t __attribute__((may_alias)) word_alias;
#else
typedef uint64_t word_alias;
#endif

/* Memory used before, as zero as the target needs it (fresh memory is). */
static FUZZ_OWN_WRITES void dma_zero(void *va, size_t want)
{
	if (fuzz_dma_scrub_stride && want >= 65536) {
		/* a pool again: what the driver reads of a buffer the device
		 * did not write (a raw completion) is its header, in the
		 * first bytes of each buffer: zero those, as they were the
		 * first time (the same input, the same bytes) */
		size_t o, n = fuzz_dma_scrub_bytes ? fuzz_dma_scrub_bytes : 128;
		for (o = 0; o < want; o += fuzz_dma_scrub_stride) {
			uint8_t *b = (uint8_t *)va + o;
			size_t k = 0, m = want - o < n ? want - o : n;

			if (((uintptr_t)b & 7) == 0)
				for (; k + 8 <= m; k += 8)
					*(word_alias *)(void *)(b + k) = 0;
			for (; k < m; k++)
				b[k] = 0;
		}
	} else {
		memset(va, 0, want);
	}
}

static int cache_alloc(void *arg, struct vnet_dma *d, size_t len, size_t align)
{
	size_t want = (len + PAGE - 1) & ~(size_t)(PAGE - 1), sz = PAGE;
	void *va = NULL;
	unsigned i;

	/* power-of-two classes: pools of every geometry (handshake) find a
	 * region to reuse */
	while (sz < want)
		sz <<= 1;

	(void)arg;
	if (align > PAGE)
		return -EINVAL;
	/* the newest region of that size: the same inputs get the same memory */
	for (i = ncache; i-- > 0;) {
		if (cache[i].len == sz) {
			va = cache[i].va;
			memmove(&cache[i], &cache[i + 1], (ncache - i - 1) * sizeof(cache[0]));
			ncache--;
			UNPOISON(va, sz);
			break;
		}
	}
	if (!va) {
		va = aligned_alloc(PAGE, sz);
		if (!va)
			return -ENOMEM;
		memset(va, 0, sz);
	} else {
		dma_zero(va, want);
	}
	d->va = va;
	d->iova = (uint64_t)(uintptr_t)va;
	d->len = sz;
	d->fd = -1;
	d->fd_off = 0;
	return 0;
}

static void cache_free(void *arg, struct vnet_dma *d)
{
	(void)arg;
	if (ncache == CACHE_MAX) {
		UNPOISON(cache[0].va, cache[0].len);
		free(cache[0].va);
		memmove(&cache[0], &cache[1], (CACHE_MAX - 1) * sizeof(cache[0]));
		ncache--;
	}
	POISON(d->va, d->len);
	cache[ncache].va = d->va;
	cache[ncache].len = d->len;
	ncache++;
}

void fuzz_env_init(void)
{
	static const struct vnet_dma_allocator a = {cache_alloc, cache_free, NULL};
	static bool done;

	fuzz_clock_step = FUZZ_CLOCK_STEP;
	fuzz_dma_scrub_stride = fuzz_dma_scrub_bytes = 0;
	if (done)
		return;
	done = true;
	vnet_dma_set_allocator(&a);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

/* ---------------------------------------------------------- pools -- */

/* Kept pools, one per shape, the least recently used one destroyed for
 * a new shape (used_ring's pool follows its ring sizes); few, as each
 * one's memory stays a live DMA allocation (VNET_DMA_MAX_LIVE). */
#define POOL_KEEP 8

static struct {
	struct vnet_pool *p;
	uint32_t count, buf_size, headroom;
	uint64_t used; /* when last taken (uses) */
	bool busy;
} kept[POOL_KEEP];
static uint64_t pool_uses;
static unsigned nidle; /* kept pools no input holds */

/* @p as vnet_pool_create() leaves a new pool (pool.c): every buffer's
 * metadata as set there, the free stack in its first order (buffer 0
 * comes out first), the memory zeroed as cache_alloc() does. */
static FUZZ_NOCOV FUZZ_OWN_WRITES void pool_renew(struct vnet_pool *p)
{
	uint32_t i;

	for (i = 0; i < p->count; i++) {
		struct vnet_buf *b = &p->bufs[i];
		uint8_t *base = (uint8_t *)p->mem.va + (size_t)i * p->buf_size;

		*b = (struct vnet_buf){
			.base = base,
			.iova = p->mem.iova + (uint64_t)i * p->buf_size,
			.data = base + p->headroom,
			.idx = (uint16_t)i,
			.size = p->buf_size,
			.pool = p,
		};
		p->stack[p->count - 1 - i] = b;
	}
	p->top = p->count;
	/* the length cache_alloc() was asked for, page by page */
	dma_zero(p->mem.va, ((size_t)p->count * p->buf_size + PAGE - 1) & ~(size_t)(PAGE - 1));
}

int fuzz_pool_try(struct vnet_pool **out, const struct vnet_pool_conf *c)
{
	uint32_t size = c->buf_size ? c->buf_size : VNET_POOL_DEF_BUF_SIZE;
	uint32_t head = c->headroom ? c->headroom : VNET_POOL_DEF_HEADROOM;
	unsigned i, k = POOL_KEEP;
	int rc;

	for (i = 0; i < POOL_KEEP; i++) {
		if (kept[i].p && !kept[i].busy && kept[i].count == c->count && kept[i].buf_size == size &&
		    kept[i].headroom == head) {
			pool_renew(kept[i].p);
			nidle--;
			kept[i].busy = true;
			kept[i].used = ++pool_uses;
			*out = kept[i].p;
			return 0;
		}
		/* a free slot, else the least recently used idle pool */
		if (!kept[i].busy && (k == POOL_KEEP || (kept[k].p && (!kept[i].p || kept[i].used < kept[k].used))))
			k = i;
	}
	FUZZ_ASSERT(k < POOL_KEEP, "more than %u pools at once", POOL_KEEP);
	if (kept[k].p) {
		FUZZ_ASSERT(vnet_pool_destroy(kept[k].p) == 0, "kept pool destroy");
		kept[k].p = NULL;
		nidle--;
	}
	*out = NULL;
	rc = vnet_pool_create(&kept[k].p, c);
	if (rc)
		return rc;
	kept[k].count = c->count;
	kept[k].buf_size = size;
	kept[k].headroom = head;
	kept[k].busy = true;
	kept[k].used = ++pool_uses;
	*out = kept[k].p;
	return 0;
}

struct vnet_pool *fuzz_pool_get(const struct vnet_pool_conf *c)
{
	struct vnet_pool *p;
	int rc = fuzz_pool_try(&p, c);

	FUZZ_ASSERT(rc == 0, "pool of %u buffers: %d", (unsigned)c->count, rc);
	return p;
}

void fuzz_pool_put(struct vnet_pool *p)
{
	unsigned i;

	FUZZ_ASSERT(vnet_pool_in_use(p) == 0, "pool given back with %u buffers in use",
	            (unsigned)vnet_pool_in_use(p));
	for (i = 0; i < POOL_KEEP; i++) {
		if (kept[i].p == p) {
			kept[i].busy = false;
			nidle++;
			return;
		}
	}
	FUZZ_FAIL("pool not from fuzz_pool_get");
}

FUZZ_NOCOV bool fuzz_pool_idle(uint64_t iova)
{
	unsigned i;

	for (i = 0; nidle && i < POOL_KEEP; i++)
		if (kept[i].p && !kept[i].busy && iova >= kept[i].p->mem.iova &&
		    iova - kept[i].p->mem.iova < kept[i].p->mem.len)
			return true;
	return false;
}

/* ---------------------------------------------------------- clock -- */

uint64_t fuzz_clock_step = FUZZ_CLOCK_STEP;
static uint64_t fuzz_now = 1000000;

uint64_t __wrap_vnet_now_us(void);
uint64_t __wrap_vnet_cycles(void);

uint64_t __wrap_vnet_now_us(void)
{
	fuzz_now += fuzz_clock_step;
	return fuzz_now;
}

uint64_t __wrap_vnet_cycles(void)
{
	return fuzz_now * 1000u;
}
