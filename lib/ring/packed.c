/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue set-up (spec 2.8); the hot path is in packed.h.
 * Teardown is shared with the split ring: vnet_vq_drain() and
 * vnet_vq_free() only use cookie[], free_ids and mem, which a packed queue
 * fills the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/packed.h"

#define CACHE_LINE 64

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* desc ring | driver event suppression | device event suppression, each
 * part on its own cache line: the ring is written by both sides, the
 * driver area only by us, the device area only by the device. */
static size_t driver_off(uint16_t size) { return align_up((size_t)16 * size, CACHE_LINE); }
static size_t device_off(uint16_t size) { return driver_off(size) + CACHE_LINE; }

size_t vnet_pq_mem_size(uint16_t size)
{
	return device_off(size) + CACHE_LINE;
}

void vnet_pq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx)
{
	uint16_t i;

	/* spec 2.8.13: the descriptor ring starts zeroed (flags 0 never look
	 * available to a device whose wrap counter starts at 1) */
	memset(vq->mem.va, 0, vq->mem.len);
	memset(vq->cookie, 0, sizeof(vq->cookie[0]) * vq->size);
	for (i = 0; i < vq->size; i++)
		vq->free_ids[i] = (uint16_t)(vq->size - 1 - i); /* ids pop in ascending order */
	vq->num_free = vq->size;
	vq->avail_idx = vq->last_used = vq->kick_idx = 0;
	vq->held_head = vq->held_tail = 0;
	vq->held_ngrp = 0;
	vq->pk_pub = vq->pk_used_end = 0;
	vq->pk_head_flags = 0;
	vq->pk_wflags = (uint16_t)(desc_flags & VIRTQ_DESC_F_WRITE);
	vq->event_idx = event_idx;
	vq->broken = false;
	/* We never want used buffer notifications (spec 2.8.10). */
	vnet_store16(&vq->pk_driver->desc, 0);
	vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_DISABLE);
}

int vnet_pq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags)
{
	int rc;

	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = vq->ind_mem.fd = -1;
	/* Powers of two only (the spec allows any size up to 2^15): positions
	 * then run free over 16 bits and carry the wrap counter. */
	if (size == 0 || (size & (size - 1)) != 0 || size > PVIRTQ_MAX_SIZE)
		return -EINVAL;
	rc = vnet_dma_alloc(&vq->mem, vnet_pq_mem_size(size), 4096);
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
	vq->packed = true;
	vq->pk_desc = vq->mem.va;
	vq->pk_driver = (struct pvirtq_event_suppress *)((uint8_t *)vq->mem.va + driver_off(size));
	vq->pk_device = (const struct pvirtq_event_suppress *)((uint8_t *)vq->mem.va + device_off(size));
	vnet_pq_reset(vq, desc_flags, false);
	return 0;
}

bool vnet_pq_intr_arm(struct vnet_vq *vq)
{
	uint16_t pos = vq->last_used;
	uint16_t used = (pos & vq->size) ? 0 : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

	if (vq->event_idx) {
		/* offset, and the wrap counter of its lap in bit 15 (spec 2.8.14) */
		vnet_store16(&vq->pk_driver->desc,
		             (uint16_t)((pos & vq->mask) | ((pos & vq->size) ? 0 : 1u << RING_EVENT_WRAP_SHIFT)));
		vnet_wmb();
		vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_DESC);
	} else {
		vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_ENABLE);
	}
	vnet_mb(); /* the request is visible before the descriptor is read again */
	return pos != vq->pk_pub &&
	       (vnet_load16(&vq->pk_desc[pos & vq->mask].flags) & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == used;
}

void vnet_pq_intr_disarm(struct vnet_vq *vq)
{
	vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_DISABLE);
}

uint32_t vnet_pq_held_check(struct vnet_vq *vq)
{
	const volatile struct pvirtq_desc *ring = vq->pk_desc;
	uint16_t pos;

	for (pos = vq->pk_used_end; pos != vq->pk_pub; pos++) {
		uint32_t f = vnet_load16(&ring[pos & vq->mask].flags) & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

		if (f != ((pos & vq->size) ? 0u : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)))
			break; /* not used (yet); anything stranger the harvest refuses */
	}
	vq->pk_used_end = pos;
	vnet_rmb();
	for (pos = vq->last_used; pos != vq->pk_used_end; pos++) {
		uint32_t id = ring[pos & vq->mask].id;

		if (id >= vq->size || vq->cookie[id] == NULL)
			return 0;
	}
	return vnet_vq_held_release_all(vq);
}

uint16_t vnet_ring_post_tx_rest(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n, uint32_t tx_hdr,
                                uint64_t *bytes, int in_order)
{
	uint16_t done = 0, k;

	while (done < n) {
		if (bufs[done]->nb_segs > 1) {
			if (vnet_ring_post_chain(vq, bufs[done], tx_hdr, bytes, in_order))
				break;
			done++;
			continue;
		}
		k = vq->packed ? vnet_pq_post(vq, bufs + done, (uint16_t)(n - done), tx_hdr, bytes, NULL)
		               : vnet_vq_post(vq, bufs + done, (uint16_t)(n - done), tx_hdr, bytes, NULL, in_order);
		if (!k)
			break; /* a frame that does not fit its buffer */
		done = (uint16_t)(done + k);
	}
	return done;
}

void vnet_pq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a)
{
	a->desc = vq->mem.iova;
	a->avail = vq->mem.iova + (uint64_t)((const uint8_t *)vq->pk_driver - (const uint8_t *)vq->mem.va);
	a->used = vq->mem.iova + (uint64_t)((const uint8_t *)vq->pk_device - (const uint8_t *)vq->mem.va);
}
