/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue state shared by both ring layouts (vq.h): the id bookkeeping both
 * allocate and reset the same way, teardown, and the ids held after a
 * short burst. Nothing here looks at a ring's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/vq.h"

int vnet_vq_init(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint32_t max, size_t mem_size)
{
	int rc;

	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = vq->ind_mem.fd = -1;
	if (size == 0 || (size & (size - 1)) != 0 || size > max)
		return -EINVAL;
	rc = vnet_dma_alloc(&vq->mem, mem_size, 4096);
	if (rc)
		return rc;
	vq->cookie = calloc(size, sizeof(vq->cookie[0]));
	vq->free_ids = calloc(size, sizeof(vq->free_ids[0]));
	vq->held_ids = calloc(size, sizeof(vq->held_ids[0]));
	if (!vq->cookie || !vq->free_ids || !vq->held_ids) {
		vnet_vq_free(vq);
		return -ENOMEM;
	}
	vq->size = size;
	vq->mask = (uint16_t)(size - 1);
	vq->qidx = qidx;
	return 0;
}

void vnet_vq_reset_ids(struct vnet_vq *vq, bool event_idx)
{
	uint16_t i;

	memset(vq->cookie, 0, sizeof(vq->cookie[0]) * vq->size);
	for (i = 0; i < vq->size; i++)
		vq->free_ids[i] = (uint16_t)(vq->size - 1 - i); /* ids pop in ascending order */
	vq->num_free = vq->size;
	vq->avail_idx = vq->last_used = vq->kick_idx = 0;
	vq->held_head = vq->held_tail = 0;
	vq->held_ngrp = 0;
	vq->event_idx = event_idx;
	vq->broken = false;
}

uint32_t vnet_vq_drain(struct vnet_vq *vq, void (*fn)(struct vnet_buf *b))
{
	uint32_t n = 0;
	uint16_t i;

	if (!vq->cookie)
		return 0;
	for (i = 0; i < vq->size; i++) {
		if (vq->cookie[i]) {
			fn(vq->cookie[i]);
			vq->cookie[i] = NULL;
			n++;
		}
	}
	return n;
}

void vnet_vq_free(struct vnet_vq *vq)
{
	free(vq->cookie);
	free(vq->free_ids);
	free(vq->held_ids);
	free(vq->pk_mark);
	if (vq->mem.va)
		vnet_dma_free(&vq->mem);
	if (vq->ind_mem.va)
		vnet_dma_free(&vq->ind_mem);
	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = vq->ind_mem.fd = -1;
}

/* Copy @n ids between the free stack and the held FIFO (a ring of size
 * entries): at most two runs each way, so a burst's ids move in a couple
 * of memcpy calls. */
static void fifo_put(struct vnet_vq *vq, const uint16_t *src, uint32_t n)
{
	uint32_t at = vq->held_tail & vq->mask, run = vq->size - at;

	if (run > n)
		run = n;
	memcpy(vq->held_ids + at, src, run * sizeof(uint16_t));
	if (n > run)
		memcpy(vq->held_ids, src + run, (n - run) * sizeof(uint16_t));
	vq->held_tail = (uint16_t)(vq->held_tail + n);
}

static void fifo_get(struct vnet_vq *vq, uint16_t *dst, uint32_t n)
{
	uint32_t at = vq->held_head & vq->mask, run = vq->size - at;

	if (run > n)
		run = n;
	memcpy(dst, vq->held_ids + at, run * sizeof(uint16_t));
	if (n > run)
		memcpy(dst + run, vq->held_ids, (n - run) * sizeof(uint16_t));
	vq->held_head = (uint16_t)(vq->held_head + n);
}

uint32_t vnet_vq_hold(struct vnet_vq *vq, uint32_t from, uint32_t to, uint16_t until)
{
	uint32_t g;

	if (vq->broken || vq->in_order || !vq->held_ids || to <= from)
		return to;
	fifo_put(vq, vq->free_ids + from, to - from);
	g = vq->held_ngrp;
	if (g && (vq->held_until[g - 1] == until || g == VNET_VQ_HELD_GROUPS)) {
		/* the same index seen again, or no group left: the newest
		 * group grows (and waits for the later index) */
		g--;
	} else {
		vq->held_ngrp++;
	}
	vq->held_end[g] = vq->held_tail;
	vq->held_until[g] = until;
	return from;
}

uint32_t vnet_vq_held_release_all(struct vnet_vq *vq)
{
	uint32_t n = vnet_vq_held(vq);

	fifo_get(vq, vq->free_ids + vq->num_free, n);
	vq->num_free = (uint16_t)(vq->num_free + n);
	vq->held_ngrp = 0;
	return n;
}

void vnet_vq_release(struct vnet_vq *vq)
{
	/* reached: the harvest position is at or past until (both within a
	 * ring of each other, so the 16-bit distance says which side) */
	while (vq->held_ngrp && (uint16_t)(vq->last_used - vq->held_until[0]) < 0x8000) {
		uint32_t n = (uint16_t)(vq->held_end[0] - vq->held_head), g;

		fifo_get(vq, vq->free_ids + vq->num_free, n);
		vq->num_free = (uint16_t)(vq->num_free + n);
		vq->held_ngrp--;
		for (g = 0; g < vq->held_ngrp; g++) {
			vq->held_end[g] = vq->held_end[g + 1];
			vq->held_until[g] = vq->held_until[g + 1];
		}
	}
}
