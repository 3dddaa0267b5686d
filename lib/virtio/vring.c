/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue set-up and teardown (spec 2.7); the hot path is in vring.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/vring.h"

#define CACHE_LINE 64

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* desc | avail (+used_event) | used (+avail_event), each part starting on
 * a fresh cache line so that driver-written and device-written memory
 * never share one. */
static size_t avail_off(uint16_t size) { return align_up((size_t)16 * size, CACHE_LINE); }
static size_t used_off(uint16_t size)
{
	return avail_off(size) + align_up(4 + (size_t)2 * size + 2, CACHE_LINE);
}

size_t vnet_vq_mem_size(uint16_t size)
{
	return used_off(size) + align_up(4 + (size_t)8 * size + 2, CACHE_LINE);
}

void vnet_vq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx)
{
	uint16_t i;

	memset(vq->mem.va, 0, vq->mem.len);
	memset(vq->cookie, 0, sizeof(vq->cookie[0]) * vq->size);
	/* One descriptor per packet: the flags never change, set them once. */
	for (i = 0; i < vq->size; i++) {
		vq->desc[i].flags = desc_flags;
		/* RX descriptors always offer a whole buffer */
		if (desc_flags & VRING_DESC_F_WRITE)
			vq->desc[i].len = vq->buf_len;
		/* ids pop in ascending order */
		vq->free_ids[i] = (uint16_t)(vq->size - 1 - i);
	}
	vq->num_free = vq->size;
	vq->avail_idx = vq->last_used = vq->kick_idx = 0;
	vq->event_idx = event_idx;
	vq->broken = false;
	if (event_idx)
		vnet_store16(vq->used_event, 0x8000);
	else
		vnet_store16(&vq->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}

int vnet_vq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags)
{
	int rc;

	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = -1;
	if (size == 0 || (size & (size - 1)) != 0)
		return -EINVAL;
	rc = vnet_dma_alloc(&vq->mem, vnet_vq_mem_size(size), 4096);
	if (rc)
		return rc;
	vq->cookie = calloc(size, sizeof(vq->cookie[0]));
	vq->free_ids = calloc(size, sizeof(vq->free_ids[0]));
	if (!vq->cookie || !vq->free_ids) {
		vnet_vq_free(vq);
		return -ENOMEM;
	}
	vq->size = size;
	vq->mask = (uint16_t)(size - 1);
	vq->qidx = qidx;
	vq->desc = vq->mem.va;
	vq->avail = (struct vring_avail *)((uint8_t *)vq->mem.va + avail_off(size));
	vq->used = (struct vring_used *)((uint8_t *)vq->mem.va + used_off(size));
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (uint16_t *)&vq->used->ring[size];
	vnet_vq_reset(vq, desc_flags, false);
	return 0;
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
	if (vq->mem.va)
		vnet_dma_free(&vq->mem);
	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = -1;
}

void vnet_vq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a)
{
	a->desc = vq->mem.iova;
	a->avail = vq->mem.iova + (uint64_t)((uint8_t *)vq->avail - (uint8_t *)vq->mem.va);
	a->used = vq->mem.iova + (uint64_t)((uint8_t *)vq->used - (uint8_t *)vq->mem.va);
}
