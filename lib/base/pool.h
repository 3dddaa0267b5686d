/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_POOL_H
#define VNET_POOL_H

#include "base/platform.h"
#include <vnet/vnet.h>

#define VNET_POOL_DEF_BUF_SIZE 2048
#define VNET_POOL_DEF_HEADROOM 64

struct vnet_pool {
	struct vnet_buf **stack; /* free buffers, top of stack at [top - 1] */
	uint32_t top;
	uint32_t count;
	uint32_t buf_size;
	uint32_t headroom;
	struct vnet_buf *bufs;   /* metadata, outside the device-visible region */
	struct vnet_dma mem;
};

/* Buffers going back to their pools one by one, the current pool's stack
 * top kept in a register (the common case is one pool for all). */
struct vnet_pool_sink {
	struct vnet_pool *pool;
	uint32_t top;
};

static inline void vnet_sink_put(struct vnet_pool_sink *s, struct vnet_buf *b)
{
	if (vnet_unlikely(b->pool != s->pool)) {
		if (s->pool)
			s->pool->top = s->top;
		s->pool = b->pool;
		s->top = s->pool->top;
	}
	s->pool->stack[s->top++] = b;
}

/* A sent TX frame: its buffer and, for a chain (nb_segs > 1, sent through
 * an indirect table), every segment; bounded by the count, not the links. */
static inline void vnet_sink_put_frame(struct vnet_pool_sink *s, struct vnet_buf *b)
{
	uint32_t n = b->nb_segs, i;

	if (vnet_likely(n <= 1)) {
		vnet_sink_put(s, b);
		return;
	}
	for (i = 0; i < n && b; i++) {
		struct vnet_buf *next = b->next;

		vnet_sink_put(s, b);
		b = next;
	}
}

static inline void vnet_sink_flush(const struct vnet_pool_sink *s)
{
	if (s->pool)
		s->pool->top = s->top;
}

#endif
