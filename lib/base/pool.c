/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet-buffer pool: one DMA region carved at create time into fixed-size
 * buffers; a LIFO stack of free buffers (the most recently freed one is
 * the most likely to be in cache). No allocation after create.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "base/platform.h"

int vnet_pool_create(struct vnet_pool **out, const struct vnet_pool_conf *conf)
{
	struct vnet_pool *p;
	uint32_t i, count, size, head;
	int rc;

	if (!out || !conf)
		return -EINVAL;
	*out = NULL;
	count = conf->count;
	size = conf->buf_size ? conf->buf_size : VNET_POOL_DEF_BUF_SIZE;
	head = conf->headroom ? conf->headroom : VNET_POOL_DEF_HEADROOM;
	/* ids are 16-bit; sizes keep data cache-line aligned and bounded */
	if (count == 0 || count > 65535 || size % 64 || size < 128 || size > 65536 ||
	    head < 16 || head >= size) {
		vnet_log(VNET_LOG_ERR, "pool: bad geometry (count %u, buf_size %u, headroom %u)",
		         (unsigned)count, (unsigned)size, (unsigned)head);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bufs = calloc(count, sizeof(p->bufs[0]));
	p->stack = calloc(count, sizeof(p->stack[0]));
	if (!p->bufs || !p->stack) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = vnet_dma_alloc(&p->mem, (size_t)count * size, 4096);
	if (rc)
		goto fail;
	p->count = count;
	p->buf_size = size;
	p->headroom = head;
	for (i = 0; i < count; i++) {
		struct vnet_buf *b = &p->bufs[i];
		b->base = (uint8_t *)p->mem.va + (size_t)i * size;
		b->iova = p->mem.iova + (uint64_t)i * size;
		b->data = b->base + head;
		b->idx = (uint16_t)i;
		b->size = size;
		b->pool = p;
		p->stack[count - 1 - i] = b; /* buffer 0 comes out first */
	}
	p->top = count;
	*out = p;
	return 0;
fail:
	free(p->bufs);
	free(p->stack);
	free(p);
	return rc;
}

int vnet_pool_destroy(struct vnet_pool *p)
{
	if (!p)
		return 0;
	if (p->top != p->count) {
		vnet_log(VNET_LOG_ERR, "pool: %u buffers still in use", (unsigned)(p->count - p->top));
		return -EBUSY;
	}
	vnet_dma_free(&p->mem);
	free(p->bufs);
	free(p->stack);
	free(p);
	return 0;
}

int vnet_pool_alloc_bulk(struct vnet_pool *p, struct vnet_buf **bufs, uint32_t n)
{
	uint32_t i;

	if (vnet_unlikely(n > p->top))
		return -ENOBUFS;
	for (i = 0; i < n; i++) {
		struct vnet_buf *b = p->stack[--p->top];
		b->data = b->base + p->headroom;
		b->len = 0;
		b->flags = 0;
		b->nb_segs = 1;
		bufs[i] = b;
	}
	return 0;
}

struct vnet_buf *vnet_buf_alloc(struct vnet_pool *p)
{
	struct vnet_buf *b;

	return vnet_pool_alloc_bulk(p, &b, 1) == 0 ? b : NULL;
}

void vnet_buf_free(struct vnet_buf *b)
{
	struct vnet_pool *p = b->pool;

	p->stack[p->top++] = b;
}

void vnet_buf_free_chain(struct vnet_buf *b)
{
	uint32_t n = b->nb_segs > 1 ? b->nb_segs : 1, i;

	/* bounded by the segment count, not by the links */
	for (i = 0; i < n && b; i++) {
		struct vnet_buf *next = b->next;
		vnet_buf_free(b);
		b = next;
	}
}

void vnet_pool_free_bulk(struct vnet_buf **bufs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		vnet_buf_free(bufs[i]);
}

uint32_t vnet_pool_in_use(const struct vnet_pool *p) { return p->count - p->top; }
uint32_t vnet_pool_count(const struct vnet_pool *p) { return p->count; }
uint32_t vnet_pool_data_room(const struct vnet_pool *p) { return p->buf_size - p->headroom; }
