/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_POOL_H
#define VNET_POOL_H

#include "platform/platform.h"
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

/* Return n buffers, each to its own pool (inline for the TX reclaim path;
 * the common case, one pool for all, keeps the stack top in a register). */
static inline void vnet_pool_put(struct vnet_buf *const *bufs, uint32_t n)
{
	struct vnet_pool *p;
	struct vnet_buf **stack;
	uint32_t i, top;

	if (!n)
		return;
	p = bufs[0]->pool;
	stack = p->stack;
	top = p->top;
	for (i = 0; i < n; i++) {
		struct vnet_buf *b = bufs[i];
		if (vnet_unlikely(b->pool != p)) {
			p->top = top;
			p = b->pool;
			stack = p->stack;
			top = p->top;
		}
		stack[top++] = b;
	}
	p->top = top;
}

/* Take n buffers without resetting data/len (RX refill sets them). */
static inline int vnet_pool_take(struct vnet_pool *p, struct vnet_buf **bufs, uint32_t n)
{
	struct vnet_buf *const *stack = p->stack;
	uint32_t i, top = p->top;

	if (vnet_unlikely(n > top))
		return -1;
	for (i = 0; i < n; i++)
		bufs[i] = stack[--top];
	p->top = top;
	return 0;
}

#endif
