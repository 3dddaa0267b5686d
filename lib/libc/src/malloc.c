/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One heap for malloc() and vnet_dma_alloc(): first fit over an
 * address-ordered free list, coalescing with both neighbours on free.
 *
 * Every block, free or used, starts with a 16-byte header and is a multiple
 * of 16 bytes, so payloads are 16-byte aligned (max_align_t). Larger
 * alignments carve the gap in front of the payload off as a free block.
 * Allocation is O(free blocks); vnet allocates at init, not per packet.
 */
#define VNET_LIBC_IMPL 1
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vnet/baremetal.h>

#include "../env.h"

#define ALIGN      16u
#define HDR        16u
#define MIN_BLOCK  32u /* a free block must hold its header and link */
#define USED_MAGIC 0x5553454455534544ull

struct block {
	size_t size; /* bytes, header included */
	union {
		struct block *next; /* free: next free block, higher address */
		uint64_t magic;     /* used: USED_MAGIC, to catch bad frees */
	};
};
_Static_assert(sizeof(struct block) == HDR, "header must keep payloads 16-aligned");

static struct block *free_list;
static size_t heap_free_bytes;
static uintptr_t heap_lo, heap_hi;

void vnet_libc_heap_init(void *base, size_t len)
{
	uintptr_t lo = ((uintptr_t)base + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
	uintptr_t hi = ((uintptr_t)base + len) & ~(uintptr_t)(ALIGN - 1);

	free_list = NULL;
	heap_free_bytes = 0;
	if (hi <= lo || hi - lo < MIN_BLOCK)
		return;
	heap_lo = lo;
	heap_hi = hi;
	free_list = (struct block *)lo;
	free_list->size = hi - lo;
	free_list->next = NULL;
	heap_free_bytes = hi - lo;
}

size_t vnet_heap_free(void)
{
	return heap_free_bytes;
}

static void bad_free(const void *p)
{
	static const char msg[] = "libc: free() of a pointer malloc did not return\n";

	(void)p;
	vnet_console_write(msg, sizeof(msg) - 1);
	vnet_exit(VNET_EXIT_ABORT);
}

/* Block size for an n-byte request, or 0 when it cannot be represented. */
static size_t block_size(size_t n)
{
	if (n > SIZE_MAX / 2)
		return 0;
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	n += HDR;
	return n < MIN_BLOCK ? MIN_BLOCK : n;
}

/*
 * First fit for a block of @need bytes whose payload is @align-aligned.
 * On success unlinks (or splits) the chosen block and returns its header.
 */
static struct block *take(size_t need, size_t align)
{
	struct block **link = &free_list;

	for (struct block *b = free_list; b; link = &b->next, b = b->next) {
		uintptr_t start = (uintptr_t)b;
		uintptr_t pay = (start + HDR + align - 1) & ~(uintptr_t)(align - 1);
		size_t gap = pay - HDR - start;

		/* A front gap must be able to live on as a free block. */
		if (gap && gap < MIN_BLOCK)
			gap += (MIN_BLOCK - gap + align - 1) & ~(align - 1);
		if (gap > b->size || b->size - gap < need)
			continue;

		size_t tail = b->size - gap - need;
		struct block *u = (struct block *)(start + gap);

		if (tail < MIN_BLOCK) {
			need += tail; /* too small to stand alone: give it away */
			tail = 0;
		}
		if (tail) {
			struct block *t = (struct block *)((uintptr_t)u + need);

			t->size = tail;
			t->next = b->next;
			if (gap)
				b->next = t;
			else
				*link = t;
		} else if (!gap) {
			*link = b->next;
		}
		if (gap)
			b->size = gap; /* b stays linked, just shorter */
		u->size = need;
		u->magic = USED_MAGIC;
		heap_free_bytes -= need;
		return u;
	}
	return NULL;
}

void *aligned_alloc(size_t align, size_t n)
{
	size_t need = block_size(n);
	struct block *b;

	if (align == 0 || (align & (align - 1)) || need == 0 || align > SIZE_MAX / 4) {
		errno = EINVAL;
		return NULL;
	}
	if (align < ALIGN)
		align = ALIGN;
	b = take(need, align);
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	return (char *)b + HDR;
}

void *malloc(size_t n)
{
	return aligned_alloc(ALIGN, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = aligned_alloc(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *calloc(size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

static struct block *header_of(void *p)
{
	struct block *b = (struct block *)((uintptr_t)p - HDR);

	if ((uintptr_t)p & (ALIGN - 1) || (uintptr_t)b < heap_lo || (uintptr_t)p >= heap_hi ||
	    b->magic != USED_MAGIC || b->size > heap_hi - (uintptr_t)b)
		bad_free(p);
	return b;
}

void free(void *p)
{
	struct block *b, *prev = NULL, *next;

	if (!p)
		return;
	b = header_of(p);
	heap_free_bytes += b->size;

	/* Find the neighbours in the address-ordered list. */
	for (next = free_list; next && next < b; next = next->next)
		prev = next;
	if ((prev && (uintptr_t)prev + prev->size > (uintptr_t)b) ||
	    (next && (uintptr_t)b + b->size > (uintptr_t)next))
		bad_free(p); /* overlaps a free block: a double free */

	b->next = next;
	if (next && (uintptr_t)b + b->size == (uintptr_t)next) {
		b->size += next->size;
		b->next = next->next;
	}
	if (prev && (uintptr_t)prev + prev->size == (uintptr_t)b) {
		prev->size += b->size;
		prev->next = b->next;
	} else if (prev) {
		prev->next = b;
	} else {
		free_list = b;
	}
}

void *realloc(void *p, size_t n)
{
	struct block *b;
	size_t have;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	b = header_of(p);
	have = b->size - HDR;
	if (n <= have)
		return p;
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, have);
	free(p);
	return q;
}
