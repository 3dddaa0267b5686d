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
	} else if (fuzz_dma_scrub_stride && want >= 65536) {
		/* a pool again: what the driver reads of a buffer the device
		 * did not write (a raw completion) is its header, in the
		 * first bytes of each buffer: zero those, as they were the
		 * first time (the same input, the same bytes) */
		size_t o, n = fuzz_dma_scrub_bytes ? fuzz_dma_scrub_bytes : 128;
		for (o = 0; o < want; o += fuzz_dma_scrub_stride)
			memset((uint8_t *)va + o, 0, want - o < n ? want - o : n);
	} else {
		memset(va, 0, want);
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
