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

/* Take n buffers without resetting data/len (RX refill sets them). */
static inline int vnet_pool_take(struct vnet_pool *p, struct vnet_buf **bufs, uint32_t n)
{
	uint32_t i;

	if (vnet_unlikely(n > p->top))
		return -1;
	for (i = 0; i < n; i++)
		bufs[i] = p->stack[--p->top];
	return 0;
}

/* Return n buffers, each to its own pool (inline for the TX reclaim path). */
static inline void vnet_pool_put(struct vnet_buf *const *bufs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct vnet_pool *p = bufs[i]->pool;
		p->stack[p->top++] = bufs[i];
	}
}

#endif
